// Generates what is derived, never edited, and what the typecheck and the services need: each
// subgraph's Prisma client, the resolver and client operation types (graphql-codegen, from
// codegen.yml) and the gateway's trusted documents. `npm start`, `npm test`, `npm run typecheck`
// and `npm run build` run it first; it does nothing when its inputs have not changed since the
// last run (a stamp of their hash), so it is not an install step. `--force` regenerates anyway.
// The explorer's browser bundle is not made here: the gateway builds it on first start, and
// `npm run build` for production.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = promisify(execFile);
const STAMP = join(root, 'node_modules', '.cache', 'ketengraph-generate.json');

// The Prisma CLI wants to download its schema engine; `prisma generate` with the `prisma-client`
// generator never uses it, so any existing file satisfies the check (no network needed).
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };

const subgraphs = readdirSync(join(root, 'subgraphs')).filter((name) => existsSync(join(root, 'subgraphs', name, 'prisma', 'schema.prisma')));

function files(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'generated' ? [] : files(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

/** Everything the outputs are made from: sources, generator settings and the locked tool versions. */
function inputHash() {
  const inputs = [
    ...subgraphs.flatMap((name) => [join(root, 'subgraphs', name, 'prisma', 'schema.prisma'), join(root, 'subgraphs', name, 'schema.graphql')]),
    ...files(join(root, 'gateway', 'src'), '.graphql'),
    ...files(join(root, 'test', 'operations'), '.graphql'),
    join(root, 'schema', 'supergraph.graphql'),
    join(root, 'codegen.yml'),
    join(root, 'package-lock.json'),
    join(root, 'scripts', 'generate.mjs'),
    join(root, 'scripts', 'trusted-documents.mjs'),
  ].filter(existsSync);
  const hash = createHash('sha256');
  for (const file of inputs.sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const outputs = [
  ...subgraphs.flatMap((name) => [
    join(root, 'subgraphs', name, 'src', 'generated', 'prisma', 'client.ts'),
    join(root, 'subgraphs', name, 'src', 'generated', 'resolvers.ts'),
  ]),
  join(root, 'test', 'generated', 'operations.ts'),
  join(root, 'gateway', 'src', 'admission', 'trusted-documents', 'generated', 'manifest.json'),
];

const hash = inputHash();
const stamped = existsSync(STAMP) && JSON.parse(readFileSync(STAMP, 'utf8')).inputHash === hash;
if (!process.argv.includes('--force') && stamped && outputs.every(existsSync)) process.exit(0);

const started = performance.now();
// The four Prisma clients and codegen are independent: run them side by side.
await Promise.all([
  ...subgraphs.map(async (name) => {
    await run(bin('prisma'), ['generate', '--schema', join(root, 'subgraphs', name, 'prisma', 'schema.prisma')], { env, cwd: root });
    console.log(`prisma client generated for ${name}`);
  }),
  (async () => {
    // Codegen's resolver types import the Prisma clients' types only; it does not read them.
    await run(bin('graphql-codegen'), ['--config', join(root, 'codegen.yml'), '--silent'], { env, cwd: root });
    console.log('graphql-codegen: resolver and operation types generated');
  })(),
]).catch((error) => {
  process.stderr.write(`${error.stderr ?? ''}${error.stdout ?? ''}`);
  console.error(`npm run generate failed: ${error.message.split('\n')[0]}`);
  process.exit(1);
});
// The gateway's trusted documents (allow-list of operations), from the project's .graphql operation files.
const { writeManifest } = await import('./trusted-documents.mjs');
console.log(`trusted documents: ${writeManifest().operations.length} operations`);
mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, JSON.stringify({ inputHash: hash }));
console.log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
