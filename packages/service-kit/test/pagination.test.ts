import { boundCursors, connectionFromKeyset, connectionFromList, decodeCursor, encodeCursor, pageSize, plainCursors } from '@ketengraph/service-kit';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';

const rows = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
const key = (row: { id: string }) => row.id;
const ids = (connection: { edges: { node: { id: string } }[] }) => connection.edges.map((edge) => edge.node.id);

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return (error as GraphQLError).extensions.code;
  }
  return null;
}

describe('cursors', () => {
  it('round-trip any key, including non-ASCII', () => {
    for (const value of ['a', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924', 'Ünïcödé 2026']) expect(decodeCursor(encodeCursor(value))).toBe(value);
  });

  it.each(['not a cursor!', '%%%', 'YWJj=', 'YW Jj', ''])('refuse garbage %j with BAD_USER_INPUT', (cursor) => {
    expect(codeOf(() => decodeCursor(cursor))).toBe('BAD_USER_INPUT');
  });
});

describe('cursors bound to a caller', () => {
  const secret = Buffer.alloc(32, 7);
  const mine = boundCursors(secret, 'zorgaanbieder|provider-1|zorgverlening');
  const theirs = boundCursors(secret, 'zorgaanbieder|provider-2|zorgverlening');

  it('round-trip for the caller they were minted for', () => {
    for (const value of ['a', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924', 'Ünïcödé 2026']) expect(mine.decode(mine.encode(value))).toBe(value);
  });

  it('mean nothing for another caller, another key or with the position changed', () => {
    const cursor = mine.encode('patient-0042');
    expect(codeOf(() => theirs.decode(cursor))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => boundCursors(Buffer.alloc(32, 8), 'zorgaanbieder|provider-1|zorgverlening').decode(cursor))).toBe('BAD_USER_INPUT');
    const tag = cursor.slice(cursor.lastIndexOf('.'));
    expect(codeOf(() => mine.decode(`${encodeCursor('patient-0043')}${tag}`))).toBe('BAD_USER_INPUT');
  });

  it.each(['', '.', 'abc', encodeCursor('patient-0042'), `${encodeCursor('x')}.`, `${encodeCursor('x')}.AAAAAAAAAAAAAAAAAAAAAA`])(
    'refuse forged %j with BAD_USER_INPUT',
    (cursor) => {
      expect(codeOf(() => mine.decode(cursor))).toBe('BAD_USER_INPUT');
    },
  );
});

describe('pageSize', () => {
  it('defaults to 20 and allows 0..100', () => {
    expect(pageSize({})).toBe(20);
    expect(pageSize({ first: null })).toBe(20);
    expect(pageSize({ first: 0 })).toBe(0);
    expect(pageSize({ first: 100 })).toBe(100);
  });

  it.each([101, -1, 2.5])('refuses first: %s', (first) => {
    expect(codeOf(() => pageSize({ first }))).toBe('BAD_USER_INPUT');
  });
});

describe('connectionFromList', () => {
  it('pages through the list without gaps or overlap', () => {
    const first = connectionFromList(rows, { first: 2 }, key, plainCursors);
    expect(ids(first)).toEqual(['a', 'b']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: encodeCursor('a'), endCursor: encodeCursor('b') });
    expect(first.totalCount).toBe(5);

    const second = connectionFromList(rows, { first: 2, after: first.pageInfo.endCursor }, key, plainCursors);
    expect(ids(second)).toEqual(['c', 'd']);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const last = connectionFromList(rows, { first: 2, after: second.pageInfo.endCursor }, key, plainCursors);
    expect(ids(last)).toEqual(['e']);
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true, endCursor: encodeCursor('e') });
    expect(last.edges[0]!.cursor).toBe(encodeCursor('e'));
  });

  it('returns an exact last page without a next page, and an empty page after the last item', () => {
    expect(connectionFromList(rows, { first: 5 }, key, plainCursors).pageInfo.hasNextPage).toBe(false);
    const after = connectionFromList(rows, { after: encodeCursor('e') }, key, plainCursors);
    expect(after.edges).toEqual([]);
    expect(after.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('handles an empty list', () => {
    expect(connectionFromList([], {}, key, plainCursors)).toEqual({
      edges: [],
      totalCount: 0,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('refuses a garbage cursor and a well-formed cursor of another list', () => {
    expect(codeOf(() => connectionFromList(rows, { after: '!!' }, key, plainCursors))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => connectionFromList(rows, { after: encodeCursor('zz') }, key, plainCursors))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => connectionFromList(rows, { first: 101 }, key, plainCursors))).toBe('BAD_USER_INPUT');
  });
});

describe('connectionFromKeyset', () => {
  it('uses the extra row only to tell that a next page exists', () => {
    const connection = connectionFromKeyset(rows.slice(0, 3), 2, key, 5, false, plainCursors);
    expect(ids(connection)).toEqual(['a', 'b']);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    expect(connectionFromKeyset(rows.slice(0, 2), 2, key, 2, true, plainCursors).pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });
});
