/**
 * The development stack's default database engine: one embedded PostgreSQL server
 * (scripts/database-server.ts) with a database per process, instead of one embedded PGlite
 * (WebAssembly PostgreSQL) inside every process. Measured on the whole-trajectory load
 * (README, "Embedded database"): about half the CPU per request and 0.9 GiB less memory for the
 * stack, and the same engine as production. `EMBEDDED_DATABASE=pglite` keeps the PGlite
 * databases in `.data/<name>/`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openSqlDatabase } from '@ketengraph/service-kit';
import { repositoryRoot, startProcess, type ManagedProcess } from './processes.js';

export type EmbeddedEngine = 'postgres' | 'pglite';

export interface EmbeddedDatabaseConfig {
  engine: EmbeddedEngine;
  /** Data directory of the embedded PostgreSQL cluster. */
  dir: string;
  port: number;
}

/** EMBEDDED_DATABASE (postgres | pglite), EMBEDDED_POSTGRES_DIR, EMBEDDED_POSTGRES_PORT. */
export function embeddedDatabaseConfig(env: NodeJS.ProcessEnv = process.env): EmbeddedDatabaseConfig {
  const engine = env.EMBEDDED_DATABASE || 'postgres';
  if (engine !== 'postgres' && engine !== 'pglite') throw new Error('EMBEDDED_DATABASE must be postgres or pglite.');
  const port = Number(env.EMBEDDED_POSTGRES_PORT || 4020);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('EMBEDDED_POSTGRES_PORT must be a port number.');
  return { engine, dir: env.EMBEDDED_POSTGRES_DIR || join(repositoryRoot, '.data', 'postgres'), port };
}

/** The superuser's password of the cluster in `dir`, generated with it. */
export const passwordFileOf = (dir: string) => join(dirname(dir), `${basename(dir)}-password`);

/** The database of a process on the embedded server: its name with `-` as `_` (`forensisch-cv` → `forensisch_cv`). */
export const databaseName = (process: string) => process.replaceAll('-', '_');

export interface EmbeddedPostgres {
  /** The server process this call started; undefined when one was already running (then stop() leaves it running). */
  process: ManagedProcess | undefined;
  /** Connection URL of a database on this server. */
  url(database: string): string;
  /** Creates the database unless it exists; true when this call created it (a first start). */
  ensureDatabase(database: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Connects to the embedded server, starting it (and creating the cluster on first use) unless it
 * already runs (`npm start` is up: `npm run seed` and `npm run audit:verify` use it as it is).
 * The superuser's password is generated once and kept beside the cluster (`<dir>-password`,
 * readable by its owner only); the server listens on 127.0.0.1 only.
 */
export async function startEmbeddedPostgres({ dir, port }: Pick<EmbeddedDatabaseConfig, 'dir' | 'port'>, timeoutMs = 120_000): Promise<EmbeddedPostgres> {
  const passwordFile = passwordFileOf(dir);
  if (!existsSync(passwordFile)) {
    if (existsSync(join(dir, 'PG_VERSION'))) throw new Error(`${passwordFile} is missing: the password of the cluster in ${dir} is unknown.`);
    mkdirSync(dirname(passwordFile), { recursive: true });
    writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const url = (database: string) => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let managed: ManagedProcess | undefined;
  let admin = await connect(url('postgres'));
  if (!admin) {
    managed = startProcess('postgres', 'scripts/database-server.ts', { EMBEDDED_POSTGRES_DIR: dir, EMBEDDED_POSTGRES_PORT: String(port) });
    admin = await waitForServer(url('postgres'), managed, timeoutMs);
  }
  const connection = admin;
  return {
    process: managed,
    url,
    ensureDatabase: async (database) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Not a database name: ${database}`);
      if ((await connection.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).length) return false;
      await connection.exec(`CREATE DATABASE "${database}"`);
      return true;
    },
    stop: async () => {
      await connection.close();
      await managed?.stop();
    },
  };
}

/** An open connection pool to the server, or undefined (with the reason) when it does not answer. */
async function connect(adminUrl: string, failed?: (error: Error) => void) {
  const db = await openSqlDatabase({ url: adminUrl, dataDir: '', poolSize: 2 });
  try {
    await db.query('SELECT 1');
    return db;
  } catch (error) {
    await db.close();
    failed?.(error as Error);
    return undefined;
  }
}

async function waitForServer(adminUrl: string, managed: ManagedProcess, timeoutMs: number) {
  const started = Date.now();
  let reason = '';
  for (;;) {
    const db = await connect(adminUrl, (error) => (reason = error.message));
    if (db) return db;
    if (managed.child.exitCode !== null || managed.child.signalCode !== null) throw new Error('The embedded PostgreSQL server exited before it was ready.');
    if (Date.now() - started > timeoutMs) {
      await managed.stop();
      throw new Error(`The embedded PostgreSQL server did not answer within ${timeoutMs / 1000} s: ${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The signed checkpoints of an audit log on the embedded server: beside the cluster, not the
 * default `.data/gateway-audit-checkpoints.jsonl`, which anchors the embedded PGlite audit log of
 * earlier versions (a log the new one would read as altered).
 */
export const embeddedAuditCheckpoints = (dir: string) => `${dir}-gateway-audit-checkpoints.jsonl`;
