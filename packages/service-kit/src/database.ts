import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQueryable, Transaction } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { openPGliteOnWorker } from './pglite-worker.js';
import { serviceLogger } from './logging.js';

/**
 * One subgraph's database: embedded PGlite (a directory on disk) by default, PostgreSQL when a
 * connection URL is given. Both speak the same SQL, so one Prisma schema and one set of
 * migrations serve both.
 */
/** Plain SQL access: all the migrator and the gateway's own stores (audit log) need. */
export interface SqlDatabase {
  readonly kind: 'pglite' | 'postgres';
  /** Runs a multi-statement script (migrations, seeding helpers) in one round trip. */
  exec(script: string): Promise<void>;
  /**
   * A parameterised query outside Prisma, for the migrator and health checks. `prepared`: the text
   * is fixed (every value a parameter), so on PostgreSQL it is planned once per connection.
   */
  query<Row extends Record<string, unknown>>(sql: string, params?: unknown[], options?: { prepared?: boolean }): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * A statement and its parameters, e.g. from a subgraph's `Prisma.sql` tagged template: every
 * interpolated value is a bound parameter (`$1`, `$2`, …), never text spliced into the SQL.
 */
export interface BoundStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

export interface Database extends SqlDatabase {
  /** Driver adapter for `new PrismaClient({ adapter })`; counts every statement it sends. */
  readonly adapter: SqlDriverAdapterFactory;
  /**
   * A read on the driver itself, past Prisma's query building and result mapping (a third of a
   * statement's CPU through Prisma): for the hot loaders. Columns come back as Prisma returns
   * them — `date` and `timestamp` as UTC `Date`s, `bigint` as BigInt, `json(b)` parsed — on both
   * engines; cast enum arrays to `text[]`. Counted like the adapter's statements. On PostgreSQL
   * a named prepared statement (see `preparedStatementNames`).
   */
  read<Row>(statement: BoundStatement): Promise<Row[]>;
  /** Statements sent through the Prisma adapter and `read` since start (the batching tests and bench read it). */
  statementCount(): number;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` committed by any process on this database
   * (PostgreSQL: a connection of its own that LISTENs; PGlite: this process's instance). Also
   * called after a lost PostgreSQL connection is replaced, as notifications may have been missed
   * meanwhile. Resolves to a function that stops listening.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}

export interface DatabaseOptions {
  /**
   * PostgreSQL connection URL; when absent the embedded database in `dataDir` is used. With
   * `pgbouncer=true` among its parameters (Prisma's convention) no named prepared statements are
   * used: a PgBouncer before 1.21, or without `max_prepared_statements`, in transaction mode cannot
   * carry them.
   */
  url?: string | undefined;
  /** Directory of the embedded PGlite database; `memory://` keeps it in memory. */
  dataDir: string;
  /** Upper bound on pooled PostgreSQL connections. */
  poolSize?: number;
}

/**
 * A database for plain SQL (no Prisma). The embedded one runs PGlite on a worker thread: its
 * WebAssembly Postgres then does not take the caller's event loop for each statement, and
 * appends that arrive while one is written queue up for the next (the gateway's audit log).
 */
export async function openSqlDatabase(options: DatabaseOptions, initialise?: (db: SqlDatabase) => Promise<unknown>): Promise<SqlDatabase> {
  if (options.url) return openDatabase(options);
  await createEmbeddedDatabase(options.dataDir, openPGliteOnWorker, initialise);
  return explainOpenFailure(options.dataDir, () => openPGliteOnWorker(options.dataDir));
}

/**
 * An embedded database is created whole or not at all: a first start builds it in a sibling
 * directory (`<dir>.creating`) — PGlite's initdb, then `initialise` (migrations, a seed) — and
 * renames it into place, so a process killed on its first start leaves no half-made database
 * behind, only a `.creating` directory the next start discards and builds again. An existing
 * directory is never replaced: the database in it holds someone's records.
 */
async function createEmbeddedDatabase<D extends SqlDatabase>(
  dataDir: string,
  open: (dir: string) => Promise<D>,
  initialise?: (db: D) => Promise<unknown>,
): Promise<void> {
  if (dataDir.startsWith('memory://')) return;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return;
  const staging = join(dirname(dataDir), `${basename(dataDir)}.creating`);
  // Left by a first start that was interrupted: it never became the database, nothing else wrote to it.
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  serviceLogger('database').info({ dataDir }, 'creating the embedded database');
  const db = await open(staging);
  try {
    await initialise?.(db);
  } finally {
    await db.close();
  }
  if (existsSync(dataDir)) rmSync(dataDir, { recursive: true }); // empty (checked above)
  renameSync(staging, dataDir);
}

/** Opening an existing embedded database that fails names the directory and the way out, instead of PGlite's bare error. */
async function explainOpenFailure<D>(dataDir: string, open: () => Promise<D>): Promise<D> {
  try {
    return await open();
  } catch (error) {
    if (dataDir.startsWith('memory://')) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new EmbeddedDatabaseOpenError(
      `The embedded database in ${dataDir} cannot be opened (${reason}). It is never replaced automatically, as it may hold records. ` +
        `If it holds data you need, stop every process using it and restore the directory from a backup; if it holds nothing you need ` +
        `(e.g. a first start interrupted before this version made creation atomic), remove the directory (rm -rf ${dataDir}) and start again: it is created anew.`,
      { cause: error },
    );
  }
}

/** An embedded database directory that exists but cannot be opened; the message says what to do. */
export class EmbeddedDatabaseOpenError extends Error {
  override name = 'EmbeddedDatabaseOpenError';
}

export async function openDatabase(options: DatabaseOptions, initialise?: (db: Database) => Promise<unknown>): Promise<Database> {
  if (options.url) return openDatabaseAt(options);
  await createEmbeddedDatabase(options.dataDir, (dir) => openDatabaseAt({ ...options, dataDir: dir }), initialise);
  return explainOpenFailure(options.dataDir, () => openDatabaseAt(options));
}

/**
 * How `read` parses the columns whose driver defaults differ from Prisma's models: Prisma keeps
 * `DateTime` as UTC in `timestamp` columns and `@db.Date` as UTC midnight; node-postgres would
 * read both as local time.
 */
const READ_PARSERS: Record<number, (value: string) => unknown> = {
  20: (value) => BigInt(value), // int8
  1082: (value) => new Date(`${value}T00:00:00.000Z`), // date
  1114: (value) => new Date(`${value.replace(' ', 'T')}Z`), // timestamp (without time zone)
};
const pgReadTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    READ_PARSERS[oid] ?? (format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid)),
};

async function openDatabaseAt(options: DatabaseOptions): Promise<Database> {
  const counter = { statements: 0 };
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    const nameOf = new URL(options.url).searchParams.get('pgbouncer') === 'true' ? () => undefined : preparedStatementNames();
    // An idle pooled connection that the server drops (restart, failover) emits 'error'; unhandled,
    // that would end the process. The pool replaces the connection on the next query.
    pool.on('error', (error: Error & { code?: string }) => {
      serviceLogger('database').warn({ code: error.code }, 'idle database connection lost');
    });
    return {
      kind: 'postgres',
      adapter: countingAdapter(new PrismaPg(pool), counter),
      exec: async (script) => {
        await pool.query(script);
      },
      query: async (sql, params, { prepared = false } = {}) => (await pool.query({ text: sql, values: params, name: prepared ? nameOf(sql) : undefined })).rows,
      read: async <Row>({ text, values }: BoundStatement) => {
        counter.statements++;
        return (await pool.query({ text, values: values as unknown[], types: pgReadTypes, name: nameOf(text) })).rows as Row[];
      },
      statementCount: () => counter.statements,
      listen: (channel, onNotify) => listenOnPostgres(options.url!, channel, onNotify),
      close: () => pool.end(),
    };
  }
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  // Imported only for an embedded database: PGlite's module (WebAssembly Postgres, ~3 MiB of
  // JavaScript and source maps) stays out of a process whose databases are all on PostgreSQL.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  const client = await PGlite.create(options.dataDir);
  return {
    kind: 'pglite',
    adapter: countingAdapter(new PrismaPGlite(client), counter),
    // pglite-prisma-adapter 0.7's executeScript does not await the script, so scripts go to PGlite directly.
    exec: async (script) => {
      await client.exec(script);
    },
    query: async (sql, params) => (await client.query(sql, params)).rows as never,
    read: async <Row>({ text, values }: BoundStatement) => {
      counter.statements++;
      return (await client.query<Row>(text, values as unknown[], { parsers: READ_PARSERS })).rows;
    },
    statementCount: () => counter.statements,
    listen: async (channel, onNotify) => {
      const unlisten = await client.listen(channel, () => onNotify());
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
    close: () => client.close(),
  };
}

/**
 * Names for prepared statements, one per statement text: PostgreSQL then parses and plans a
 * statement once per connection, not on every call, which was most of the server's time for the
 * whole-trajectory reads (0.05–0.2 ms of planning each, against about as much executing). Only
 * fixed texts ask for a name (`read`, `query` with `prepared`); past `max` distinct texts a
 * statement goes unnamed, so a text that varied could never fill the server's memory.
 */
function preparedStatementNames(max = 200): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined && names.size < max) {
      name = `ketengraph_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };
}

const LISTEN_RETRY_MS = 1000;

/**
 * LISTEN on a connection of its own (a pooled one would be handed to other queries). A lost
 * connection is replaced after a pause, and `onNotify` is called once it listens again, so a
 * waiter re-reads what it may have missed meanwhile.
 */
async function listenOnPostgres(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  const log = serviceLogger('database');
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const again = (): void => {
    if (!stopped) retry = setTimeout(() => void connect().then(onNotify, again), LISTEN_RETRY_MS);
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    next.on('error', (error: Error & { code?: string }) => {
      log.warn({ code: error.code, channel }, 'notification connection lost; listening again shortly');
      void next.end().catch(() => undefined);
      if (client !== next) return;
      client = null;
      again();
    });
    try {
      await next.connect();
      // The channel is a fixed identifier of the caller's, never input: quoted as one all the same.
      await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) await next.end();
    else client = next;
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
    client = null;
  };
}

/** Wraps an adapter factory so that every query and command it sends is counted. */
function countingAdapter(factory: SqlDriverAdapterFactory, counter: { statements: number }): SqlDriverAdapterFactory {
  const count = <Q extends SqlQueryable>(queryable: Q): Q => {
    const queryRaw = queryable.queryRaw.bind(queryable);
    const executeRaw = queryable.executeRaw.bind(queryable);
    queryable.queryRaw = (query) => {
      counter.statements++;
      return queryRaw(query);
    };
    queryable.executeRaw = (query) => {
      counter.statements++;
      return executeRaw(query);
    };
    return queryable;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async (): Promise<SqlDriverAdapter> => {
      const adapter = count(await factory.connect());
      const startTransaction = adapter.startTransaction.bind(adapter);
      adapter.startTransaction = async (isolationLevel): Promise<Transaction> => count(await startTransaction(isolationLevel));
      return adapter;
    },
  };
}
