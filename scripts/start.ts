/**
 * `npm start`: the whole system on one machine — four subgraphs (each its own process and
 * database, migrated and seeded on first start) and the gateway on :4000, on one embedded
 * PostgreSQL server (a database per process; EMBEDDED_DATABASE=pglite: an embedded PGlite per
 * process instead). The services run compiled (dist/, built first when the sources changed).
 * Ctrl-C stops every process cleanly, the database server last.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SUBGRAPHS } from '../schema/subgraphs.js';
import { databaseName, embeddedAuditCheckpoints, embeddedDatabaseConfig, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { buildServices, compiled, repositoryRoot, startProcess, waitForReady, type ManagedProcess } from './processes.js';

const processes: ManagedProcess[] = [];
let databaseServer: EmbeddedPostgres | undefined;
const envKey = (subgraph: string, key: string) => `${subgraph.toUpperCase().replaceAll('-', '_')}_${key}`;
const gatewayPort = process.env.GATEWAY_PORT ?? '4000';
const embedded = embeddedDatabaseConfig();

let stopping: Promise<never> | undefined;
/** Stops everything once: Ctrl-C reaches this process twice (from the terminal, and relayed by tsx). */
function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    const timeout = new Promise((resolve) => setTimeout(resolve, 25_000));
    // The services first (they close their connections), then the database they used.
    await Promise.race([Promise.all(processes.map((p) => p.stop())), timeout]);
    await Promise.race([databaseServer?.stop(), timeout]);
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

function start(name: string, entry: string, env: NodeJS.ProcessEnv, { optional = false } = {}): void {
  const managed = startProcess(name, compiled(entry), env);
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

try {
  buildServices();
} catch {
  process.exit(1); // the build said why
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

/** The variable as set by the caller, which wins over a default chosen here. */
const pick = (key: string): NodeJS.ProcessEnv => (process.env[key] ? { [key]: process.env[key] } : {});

/** True when the embedded PGlite database in `dir` does not exist yet (this start creates it). */
function creates(dir: string): boolean {
  return !(existsSync(dir) && readdirSync(dir).length > 0);
}

/**
 * Where one process keeps its data: its own PostgreSQL URL when one is configured, else a
 * database on the embedded server (created now on a first start), else (pglite) its embedded
 * directory. Returns the process's environment for it and whether this start creates it.
 */
async function databaseOf(
  name: string,
  configured: { url: string | undefined; dataDir: string | undefined },
  keys: { url: string; dataDir: string },
): Promise<{ env: NodeJS.ProcessEnv; firstStart: boolean }> {
  if (configured.url) return { env: { [keys.url]: configured.url }, firstStart: false };
  if (embedded.engine === 'postgres') {
    databaseServer ??= await startDatabaseServer();
    const database = databaseName(name);
    return { env: { [keys.url]: databaseServer.url(database) }, firstStart: await databaseServer.ensureDatabase(database) };
  }
  const dir = configured.dataDir ?? join(repositoryRoot, '.data', name);
  return { env: configured.dataDir ? { [keys.dataDir]: configured.dataDir } : {}, firstStart: creates(dir) };
}

async function startDatabaseServer(): Promise<EmbeddedPostgres> {
  const first = !existsSync(join(embedded.dir, 'PG_VERSION'));
  console.log(`Starting the embedded PostgreSQL server on 127.0.0.1:${embedded.port}${first ? ` (first start: creating it in ${embedded.dir})` : ''}…`);
  if (first && SUBGRAPHS.some(({ name }) => creates(join(repositoryRoot, '.data', name)) === false))
    console.log('  (the embedded PGlite databases in .data/<subgraph>/ of earlier versions are left as they are: EMBEDDED_DATABASE=pglite uses them)');
  const server = await startEmbeddedPostgres(embedded);
  console.log(server.process ? '  postgres ready' : '  postgres was already running; using it');
  server.process?.child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`postgres exited (${signal ?? code}); stopping everything.`);
    void stop(1);
  });
  return server;
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
const ports = Object.fromEntries(SUBGRAPHS.map(({ name, port }) => [name, process.env[envKey(name, 'PORT')] ?? String(port)]));
// Where each service reaches the subgraphs: with custom ports the defaults would point elsewhere.
const subgraphUrls = Object.fromEntries(
  SUBGRAPHS.map(({ name }) => [`${name.toUpperCase().replaceAll('-', '_')}_URL`, `http://127.0.0.1:${ports[name]}/graphql`]),
);
try {
  const subgraphs = [];
  for (const { name } of SUBGRAPHS) {
    const database = await databaseOf(
      name,
      { url: process.env[envKey(name, 'DATABASE_URL')], dataDir: process.env[envKey(name, 'DATA_DIR')] },
      { url: 'DATABASE_URL', dataDir: 'DATA_DIR' },
    );
    const env: NodeJS.ProcessEnv = {
      PORT: ports[name],
      PLAATSING_URL: subgraphUrls.PLAATSING_URL,
      INDICATIESTELLING_URL: subgraphUrls.INDICATIESTELLING_URL,
      ...database.env,
    };
    if (name === 'forensisch-cv' && epdSimulator) env.EPD_SOURCES_FILE = '.data/epd-simulator/sources.json';
    subgraphs.push({ name, env, url: `http://127.0.0.1:${ports[name]}/ready`, firstStart: database.firstStart });
  }
  const anyFirst = subgraphs.some((s) => s.firstStart);
  console.log(
    `Starting subgraphs${anyFirst ? ` (first start: creating and seeding their databases, ${seedPatients} patients; this takes a minute or more)` : ''}…`,
  );
  for (const { name, env } of subgraphs) start(name, `subgraphs/${name}/src/main.ts`, env);
  await Promise.all(subgraphs.map(({ name, url, firstStart }) => waitFor(name, url, firstStart, seedPatients)));
  const audit = await databaseOf(
    'gateway-audit',
    { url: process.env.AUDIT_DATABASE_URL, dataDir: process.env.AUDIT_DATA_DIR },
    { url: 'AUDIT_DATABASE_URL', dataDir: 'AUDIT_DATA_DIR' },
  );
  const webhooks = await databaseOf(
    'gateway-webhooks',
    { url: process.env.WEBHOOK_DATABASE_URL, dataDir: process.env.WEBHOOK_DATA_DIR },
    { url: 'WEBHOOK_DATABASE_URL', dataDir: 'WEBHOOK_DATA_DIR' },
  );
  const checkpoints =
    !process.env.AUDIT_DATABASE_URL && embedded.engine === 'postgres' ? { AUDIT_CHECKPOINT_FILE: embeddedAuditCheckpoints(embedded.dir) } : {};
  start('gateway', 'gateway/src/main.ts', {
    PORT: gatewayPort,
    ...subgraphUrls,
    ...audit.env,
    ...webhooks.env,
    ...checkpoints,
    ...pick('AUDIT_CHECKPOINT_FILE'),
  });
  await waitFor('gateway', `http://127.0.0.1:${gatewayPort}/ready`, audit.firstStart);
  console.log(`\nketengraph is up: http://localhost:${gatewayPort}/graphql  (Ctrl-C stops it)`);
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}
