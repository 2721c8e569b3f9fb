/**
 * `npm start`: the whole system on one machine — four subgraphs (each its own process and
 * embedded database, migrated and seeded on first start) and the gateway on :4000.
 * Ctrl-C stops every process cleanly.
 */
import { SUBGRAPHS } from '../schema/subgraphs.js';
import { startProcess, waitForReady, type ManagedProcess } from './processes.js';

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

console.log('Starting subgraphs (the first start migrates and seeds the embedded databases)…');
for (const { name, port } of SUBGRAPHS) {
  const env: NodeJS.ProcessEnv = { PORT: process.env[envKey(name, 'PORT')] ?? String(port) };
  if (name === 'forensisch-cv' && epdSimulator) env.EPD_SOURCES_FILE = '.data/epd-simulator/sources.json';
  const databaseUrl = process.env[envKey(name, 'DATABASE_URL')];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const dataDir = process.env[envKey(name, 'DATA_DIR')];
  if (dataDir) env.DATA_DIR = dataDir;
  start(name, `subgraphs/${name}/src/main.ts`, env);
}
try {
  await Promise.all(SUBGRAPHS.map(({ name, port }) => waitForReady(`http://127.0.0.1:${process.env[envKey(name, 'PORT')] ?? port}/ready`, 300_000)));
  start('gateway', 'gateway/src/main.ts', { PORT: gatewayPort });
  await waitForReady(`http://127.0.0.1:${gatewayPort}/ready`, 60_000);
  console.log(`\nketengraph is up: http://localhost:${gatewayPort}/graphql  (Ctrl-C stops it)`);
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}
