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

export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || key.includes('\u0000') || encodeCursor(key) !== cursor) throw badInput('The cursor is not one this API handed out.', 'after');
  return key;
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
export function connectionFromKeyset<T>(rows: T[], size: number, key: (row: T) => string, totalCount: number, hasPrevious: boolean): Connection<T> {
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ cursor: encodeCursor(key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage: hasPrevious,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount,
  };
}

/**
 * Pages through a list that was loaded whole for its parent (a batched DataLoader result: all
 * trajectories of a patient, all placements of a trajectory). Such lists are short by nature;
 * loading them per batch keeps the statement count independent of the number of parents.
 */
export function connectionFromList<T>(all: T[], args: PageArgs, key: (row: T) => string): Connection<T> {
  const size = pageSize(args);
  let start = 0;
  if (args.after) {
    const after = decodeCursor(args.after);
    start = all.findIndex((row) => key(row) === after) + 1;
    if (start === 0) throw badInput('The cursor does not belong to this list.', 'after');
  }
  return connectionFromKeyset(all.slice(start, start + size + 1), size, key, all.length, start > 0);
}
