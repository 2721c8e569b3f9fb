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
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
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

function files(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'browser' ? [] : files(path, keep); // the explorer's browser code is bundled separately
    return keep(entry.name) ? [path] : [];
  });
}

// The explorer's browser bundle, built once here (a deployment does not build it on start).
execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages', 'explorer', 'src', 'bundle.ts')], { stdio: 'inherit', cwd: root });

rmSync(dist, { recursive: true, force: true });
const sources = [
  ...PACKAGES.flatMap((pkg) => files(join(root, pkg, 'src'), (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))),
  join(root, 'schema', 'subgraphs.ts'),
];
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
// What the services read at run time, where they look for it.
for (const pkg of PACKAGES) {
  for (const file of files(join(root, pkg, 'src'), (name) => /\.(graphql|mjs|json)$/.test(name))) copy(relative(root, file));
}
for (const name of readdirSync(join(root, 'subgraphs'))) {
  copy(`subgraphs/${name}/schema.graphql`);
  copy(`subgraphs/${name}/prisma/migrations`);
}
for (const path of [
  'gateway/audit-migrations',
  'gateway/webhook-migrations',
  'packages/explorer/generated/explorer',
  'schema/supergraph.graphql',
  'schema/access-policy.json',
  'test/operations',
])
  copy(path);

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
console.log(`dist/ built in ${((performance.now() - started) / 1000).toFixed(1)} s: node dist/gateway/src/main.js, node dist/subgraphs/<name>/src/main.js`);
