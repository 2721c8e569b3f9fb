import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase } from './database.js';
import { badInput } from './errors.js';

/** Relay connection arguments as every list field in the graph accepts them. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Cursors are opaque to clients: base64url of the sort key of the last item seen. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || key.includes('\u0000') || encodeCursor(key) !== cursor) throw badInput('The cursor is not one this API handed out.', field);
  return key;
}

/** Turns sort keys into the cursors a caller gets, and back. */
export interface CursorCodec {
  encode(key: string): string;
  /** BAD_USER_INPUT for anything this codec did not hand out. */
  decode(cursor: string, field?: string): string;
}

/**
 * Unbound cursors, for lists whose rows already belong to the caller in SQL (the gateway's own:
 * the audit trail, an organisation's webhook endpoints). Patient lists use bound cursors.
 */
export const plainCursors: CursorCodec = { encode: encodeCursor, decode: decodeCursor };

/**
 * Cursors bound to one caller: `<key>.<HMAC-SHA256(secret, binding, key)>`. A cursor carries only a
 * position — the list is filtered by the caller's relationships in SQL on every page anyway — and
 * the tag makes a cursor minted for one caller (binding: role, organisation, purpose), or made up
 * by a client, a BAD_USER_INPUT for any other.
 */
export function boundCursors(secret: Buffer, binding: string): CursorCodec {
  const tag = (key: string) => createHmac('sha256', secret).update(binding).update('\u0000').update(key).digest().subarray(0, 16);
  return {
    encode: (key) => `${encodeCursor(key)}.${tag(key).toString('base64url')}`,
    decode: (cursor, field = 'after') => {
      const dot = cursor.lastIndexOf('.');
      const refused = () => badInput('The cursor is not one this API handed out to this caller; page again from the start (without after).', field);
      if (dot <= 0) throw refused();
      const key = Buffer.from(cursor.slice(0, dot), 'base64url').toString('utf8');
      if (!key || key.includes('\u0000') || encodeCursor(key) !== cursor.slice(0, dot)) throw refused();
      const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
      const expected = tag(key);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused();
      return key;
    },
  };
}

/**
 * The key a subgraph binds its cursors with, kept in its own database: generated on first start,
 * the same for every instance on that database and across restarts, so cursors stay valid there.
 */
export async function loadCursorSecret(db: SqlDatabase): Promise<Buffer> {
  const create = () => db.exec(`CREATE TABLE IF NOT EXISTS "_ketengraph_secret" ("name" TEXT PRIMARY KEY, "value" TEXT NOT NULL)`);
  // Two instances creating it at once on PostgreSQL: the loser's IF NOT EXISTS can still collide once; the table is there then.
  await create().catch(() => new Promise((resolve) => setTimeout(resolve, 100)).then(create));
  await db.query(`INSERT INTO "_ketengraph_secret" ("name", "value") VALUES ('cursor', $1) ON CONFLICT ("name") DO NOTHING`, [
    randomBytes(32).toString('base64url'),
  ]);
  const [row] = await db.query<{ value: string }>(`SELECT "value" FROM "_ketengraph_secret" WHERE "name" = 'cursor'`);
  return Buffer.from(row!.value, 'base64url');
}

export function pageSize(args: PageArgs, max = MAX_PAGE_SIZE): number {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > max) throw badInput(`first must be between 0 and ${max}.`, 'first');
  return first;
}

/**
 * Builds a connection from rows already sorted by `key`, fetched with one extra row beyond the
 * page (keyset pagination: `take: size + 1` where key > after).
 */
export function connectionFromKeyset<T>(
  rows: T[],
  size: number,
  key: (row: T) => string,
  totalCount: number,
  hasPrevious: boolean,
  cursors: CursorCodec,
): Connection<T> {
  const page = rows.slice(0, size);
  // A cursor costs an HMAC and most selections ask for none: each is computed when it is read.
  const cursorOf = (node: T | undefined) => (node === undefined ? null : cursors.encode(key(node)));
  const edges = page.map((node) => ({
    node,
    get cursor() {
      return cursorOf(node)!;
    },
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage: hasPrevious,
      get startCursor() {
        return cursorOf(page[0]);
      },
      get endCursor() {
        return cursorOf(page[page.length - 1]);
      },
    },
    totalCount,
  };
}

/**
 * Pages through a list that was loaded whole for its parent (a batched DataLoader result: all
 * trajectories of a patient, all placements of a trajectory). Such lists are short by nature;
 * loading them per batch keeps the statement count independent of the number of parents.
 */
export function connectionFromList<T>(all: T[], args: PageArgs, key: (row: T) => string, cursors: CursorCodec): Connection<T> {
  const size = pageSize(args);
  let start = 0;
  if (args.after) {
    const after = cursors.decode(args.after);
    start = all.findIndex((row) => key(row) === after) + 1;
    if (start === 0) throw badInput('The cursor does not belong to this list.', 'after');
  }
  return connectionFromKeyset(all.slice(start, start + size + 1), size, key, all.length, start > 0, cursors);
}
