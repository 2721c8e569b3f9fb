// `npm run build`: the production output in dist/ — every service compiled to JavaScript, started
// with plain `node` (one process per service):
//
//   node dist/gateway/src/main.js
//   node dist/subgraphs/<name>/src/main.js
//
// dist/ mirrors the repository: the TypeScript sources compiled file by file (esbuild; `npm run
// typecheck` is what checks the types), next to the files they read at run time (SDL, migrations,
// the access policy, the supergraph, the example operations, the trusted documents and the
// explorer's prebuilt bundle), so every path a module computes from its own location holds.
// dist/node_modules/@ketengraph/* point at the compiled workspace packages, whose package.json
// exports name the .js files; every other package resolves from the repository's node_modules.
//
// `npm start` runs the services from dist/ too (compiled, a service needs about half the memory it
// needs under tsx, which keeps every module's source and source map), so a build whose inputs have
// not changed since the last one (a hash of them, stamped into dist/ once it is complete) does
// nothing; `--force` builds anyway.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const target = join(root, 'dist');
const STAMP = join(target, '.input-hash');
const started = performance.now();

/** The workspace packages a service needs at run time (not the tests). */
const PACKAGES = [
  'packages/service-kit',
  'packages/domain',
  'packages/explorer',
  'packages/seed-data',
  'gateway',
  ...readdirSync(join(root, 'subgraphs')).map((name) => `subgraphs/${name}`),
];
/** Sources outside the packages: the subgraph list, and npm start's simulated EPDs (development only). */
const ENTRIES = ['schema/subgraphs.ts', 'scripts/epd-simulator.ts'];
/** What the services read at run time besides their packages' own files, where they look for it. */
const COPIED = [
  ...readdirSync(join(root, 'subgraphs')).flatMap((name) => [`subgraphs/${name}/schema.graphql`, `subgraphs/${name}/prisma/migrations`]),
  'gateway/audit-migrations',
  'gateway/webhook-migrations',
  'schema/supergraph.graphql',
  'schema/access-policy.json',
  'test/operations',
];
const EXPLORER_BUNDLE = 'packages/explorer/generated/explorer';

function files(dir, keep = () => true, { browser = true } = {}) {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) return [dir];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'browser' && !browser ? [] : files(path, keep, { browser });
    return keep(entry.name) ? [path] : [];
  });
}

/** Everything dist/ is made from (sources with their generated code, the files copied, the manifests, the lock file, this script): paths and contents. */
function inputHash() {
  const inputs = [
    ...PACKAGES.flatMap((pkg) => [...files(join(root, pkg, 'src')), join(root, pkg, 'package.json')]),
    ...[...ENTRIES, ...COPIED].flatMap((path) => files(join(root, path))),
    join(root, 'package-lock.json'),
    new URL(import.meta.url).pathname,
  ];
  const hash = createHash('sha256');
  for (const file of inputs.sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const hash = inputHash();
if (!process.argv.includes('--force') && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) {
  console.log('dist/ up to date');
  process.exit(0);
}

// The explorer's browser bundle, built once here (a deployment does not build it on start).
execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages', 'explorer', 'src', 'bundle.ts')], { stdio: 'inherit', cwd: root });

// Built beside dist/ and swapped in whole, so that services running from dist/ (npm start, a
// benchmark) never see it half-written.
const dist = join(root, `dist.building-${process.pid}`);
// What an interrupted build left behind (its process is gone).
for (const name of readdirSync(root)) {
  const pid = /^dist\.(?:building|previous)-(\d+)$/.exec(name)?.[1];
  if (pid && !alive(Number(pid))) rmSync(join(root, name), { recursive: true, force: true });
}
const sources = [
  // The explorer's browser code is bundled separately (above).
  ...PACKAGES.flatMap((pkg) => files(join(root, pkg, 'src'), (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'), { browser: false })),
  ...ENTRIES.map((path) => join(root, path)),
];
const { build } = await import('esbuild');
await build({
  entryPoints: sources,
  outbase: root,
  outdir: dist,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  logLevel: 'warning',
});

const copy = (path) => {
  const from = join(root, path);
  if (!existsSync(from)) throw new Error(`npm run build: ${path} is missing (run npm run generate?)`);
  cpSync(from, join(dist, path), { recursive: true });
};
for (const pkg of PACKAGES) {
  for (const file of files(join(root, pkg, 'src'), (name) => /\.(graphql|mjs|json)$/.test(name), { browser: false })) copy(relative(root, file));
}
for (const path of [...COPIED, EXPLORER_BUNDLE]) copy(path);

// Each workspace package with its exports pointing at the compiled files, linked under dist/node_modules.
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
for (const pkg of PACKAGES) {
  const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8'));
  const exports = Object.fromEntries(Object.entries(manifest.exports ?? {}).map(([key, target]) => [key, target.replace(/\.ts$/, '.js')]));
  writeFileSync(join(dist, pkg, 'package.json'), `${JSON.stringify({ name: manifest.name, private: true, type: 'module', exports }, null, 2)}\n`);
  const link = join(dist, 'node_modules', manifest.name);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), join(dist, pkg)), link, 'dir');
}
writeFileSync(join(dist, '.input-hash'), hash);
const previous = `${target}.previous-${process.pid}`;
if (existsSync(target)) renameSync(target, previous);
renameSync(dist, target);
rmSync(previous, { recursive: true, force: true });
console.log(`dist/ built in ${((performance.now() - started) / 1000).toFixed(1)} s: node dist/gateway/src/main.js, node dist/subgraphs/<name>/src/main.js`);
