/**
 * `npm start`: the whole system on one machine — four subgraphs (each its own process and
 * embedded database, migrated and seeded on first start) and the gateway on :4000.
 * Ctrl-C stops every process cleanly.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SUBGRAPHS } from '../schema/subgraphs.js';
import { repositoryRoot, startProcess, waitForReady, type ManagedProcess } from './processes.js';

const processes: ManagedProcess[] = [];
const envKey = (subgraph: string, key: string) => `${subgraph.toUpperCase().replaceAll('-', '_')}_${key}`;
const gatewayPort = process.env.GATEWAY_PORT ?? '4000';

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  await Promise.race([Promise.all(processes.map((p) => p.stop())), new Promise((resolve) => setTimeout(resolve, 25_000))]);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

function start(name: string, entry: string, env: NodeJS.ProcessEnv, { optional = false } = {}): void {
  const managed = startProcess(name, entry, env);
  managed.child.on('exit', (code, signal) => {
    if (stopping) return;
    if (optional) {
      console.error(`${name} exited (${signal ?? code}); the rest keeps running.`);
      return;
    }
    console.error(`${name} exited (${signal ?? code}); stopping everything.`);
    void stop(1);
  });
  processes.push(managed);
}

// Simulated EPDs of three seeded providers, read by forensisch-cv (EPD_SIMULATOR=false: none; your own EPD_SOURCES_FILE: yours).
const epdSimulator = process.env.EPD_SIMULATOR !== 'false' && !process.env.EPD_SOURCES_FILE;
if (epdSimulator) {
  // Optional: stopping it shows what an EPD outage does (reads answer with EPD_UNAVAILABLE), nothing else stops.
  start('epd-simulator', 'scripts/epd-simulator.ts', {}, { optional: true });
  try {
    await waitForReady(`http://127.0.0.1:${process.env.EPD_SIMULATOR_PORT ?? 4010}/ready`, 120_000);
  } catch (error) {
    console.error((error as Error).message);
    await stop(1);
  }
}

/**
 * How long a service may take to become ready: a first start creates its embedded database (and
 * a subgraph seeds it: about a minute per 2,000 patients on a busy 2-core machine), so the wait
 * scales with that instead of a fixed minute; progress is shown while waiting.
 */
function readinessBudgetMs(firstStart: boolean, seedPatients: number): number {
  return firstStart ? 300_000 + seedPatients * 150 : 300_000;
}

/** True when the embedded database in `dir` does not exist yet (this start creates it); false for PostgreSQL. */
function creates(dir: string, databaseUrl: string | undefined): boolean {
  return !databaseUrl && !(existsSync(dir) && readdirSync(dir).length > 0);
}

async function waitFor(name: string, url: string, firstStart: boolean, seedPatients = 0): Promise<void> {
  const managed = processes.find((p) => p.name === name);
  await waitForReady(url, readinessBudgetMs(firstStart, seedPatients), {
    process: managed,
    onProgress: (waited) =>
      console.log(
        `  … ${name} not ready yet after ${Math.round(waited / 1000)} s${firstStart ? ` (first start: creating its database${seedPatients ? `, seeding ${seedPatients} patients` : ''})` : ''}`,
      ),
  });
  console.log(`  ${name} ready`);
}

const seedPatients = Number(process.env.SEED_PATIENTS ?? 2000);
const subgraphs = SUBGRAPHS.map(({ name, port }) => {
  const env: NodeJS.ProcessEnv = { PORT: process.env[envKey(name, 'PORT')] ?? String(port) };
  if (name === 'forensisch-cv' && epdSimulator) env.EPD_SOURCES_FILE = '.data/epd-simulator/sources.json';
  const databaseUrl = process.env[envKey(name, 'DATABASE_URL')];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const dataDir = process.env[envKey(name, 'DATA_DIR')];
  if (dataDir) env.DATA_DIR = dataDir;
  return { name, env, url: `http://127.0.0.1:${env.PORT}/ready`, firstStart: creates(dataDir ?? join(repositoryRoot, '.data', name), databaseUrl) };
});
const anyFirst = subgraphs.some((s) => s.firstStart);
console.log(
  `Starting subgraphs${anyFirst ? ` (first start: creating and seeding the embedded databases, ${seedPatients} patients; this takes a minute or more)` : ''}…`,
);
for (const { name, env } of subgraphs) start(name, `subgraphs/${name}/src/main.ts`, env);
try {
  await Promise.all(subgraphs.map(({ name, url, firstStart }) => waitFor(name, url, firstStart, seedPatients)));
  const gatewayFirst = creates(process.env.AUDIT_DATA_DIR ?? join(repositoryRoot, '.data', 'gateway-audit'), process.env.AUDIT_DATABASE_URL);
  start('gateway', 'gateway/src/main.ts', { PORT: gatewayPort });
  await waitFor('gateway', `http://127.0.0.1:${gatewayPort}/ready`, gatewayFirst);
  console.log(`\nketengraph is up: http://localhost:${gatewayPort}/graphql  (Ctrl-C stops it)`);
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}
