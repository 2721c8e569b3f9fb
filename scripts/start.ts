/**
 * `npm start`: the whole system on one machine — four subgraphs (each its own process and
 * embedded database, migrated and seeded on first start) and the gateway on :4000.
 * Ctrl-C stops every process cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS } from '../schema/subgraphs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const children: ChildProcess[] = [];

function envKey(subgraph: string, key: string): string {
  return `${subgraph.toUpperCase().replaceAll('-', '_')}_${key}`;
}

function start(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(tsx, [entry], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything.`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitReady(name: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000} s`);
}

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  const exits = children.filter((c) => c.exitCode === null).map((c) => new Promise((resolve) => c.once('exit', resolve)));
  for (const child of children) child.kill('SIGTERM');
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

console.log('Starting subgraphs (the first start migrates and seeds the embedded databases)…');
for (const { name, port } of SUBGRAPHS) {
  const env: NodeJS.ProcessEnv = { PORT: process.env[envKey(name, 'PORT')] ?? String(port) };
  const databaseUrl = process.env[envKey(name, 'DATABASE_URL')];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const dataDir = process.env[envKey(name, 'DATA_DIR')];
  if (dataDir) env.DATA_DIR = dataDir;
  start(name, `subgraphs/${name}/src/main.ts`, env);
}
try {
  await Promise.all(SUBGRAPHS.map(({ name, port }) => waitReady(name, `http://127.0.0.1:${process.env[envKey(name, 'PORT')] ?? port}/ready`, 300_000)));
  start('gateway', 'gateway/src/main.ts', { PORT: process.env.GATEWAY_PORT ?? '4000' });
  await waitReady('gateway', `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 4000}/ready`, 60_000);
  console.log(`\nketengraph is up: http://localhost:${process.env.GATEWAY_PORT ?? 4000}/graphql  (Ctrl-C stops it)`);
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}
