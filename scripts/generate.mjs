// Generates everything that is derived, never edited: each subgraph's Prisma client, the
// resolver and client operation types (graphql-codegen, from codegen.yml) and the explorer's
// browser bundle (esbuild, gateway/generated/explorer). Runs after `npm install`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);

// The Prisma CLI wants to download its schema engine; `prisma generate` with the `prisma-client`
// generator never uses it, so any existing file satisfies the check (no network needed).
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };

for (const name of readdirSync(join(root, 'subgraphs'))) {
  const schema = join(root, 'subgraphs', name, 'prisma', 'schema.prisma');
  if (!existsSync(schema)) continue;
  execFileSync(bin('prisma'), ['generate', '--schema', schema], { stdio: ['ignore', 'ignore', 'inherit'], env });
  console.log(`prisma client generated for ${name}`);
}
if (existsSync(join(root, 'codegen.yml'))) {
  execFileSync(bin('graphql-codegen'), ['--config', join(root, 'codegen.yml')], { stdio: 'inherit', cwd: root, env });
}
execFileSync(bin('tsx'), [join(root, 'gateway', 'src', 'explorer', 'bundle.ts')], { stdio: 'inherit', cwd: root, env });
// The gateway's trusted documents (allow-list of operations), from the project's .graphql operation files.
const { writeManifest } = await import('./trusted-documents.mjs');
console.log(`trusted documents: ${writeManifest().operations.length} operations`);
