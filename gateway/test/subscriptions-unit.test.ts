import { encodeEventCursor } from '@ketengraph/service-kit';
import { buildSchema, GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { PlacementChangeEvent } from '../src/events/feed.js';
import { matchesFilter, prepareSelection } from '../src/events/resolve.js';
import { Channel } from '../src/events/subscriptions/channel.js';

/** The part of the API schema a subscription touches (the real one is tested through the federation). */
const schema = buildSchema(`
  enum PlacementStatus { REQUESTED INTAKE ACCEPTED }
  input PlacementChangeFilter { patientId: ID trajectoryId: ID providerId: ID toStatus: [PlacementStatus!] }
  type Patient { id: ID! name: String }
  type Placement { id: ID! status: PlacementStatus! patient: Patient }
  type PlacementChange { cursor: String! sequence: String! toStatus: PlacementStatus! placement: Placement }
  type Query { placementChange(cursor: String!): PlacementChange }
  type Subscription { placementChanged(filter: PlacementChangeFilter, after: String): PlacementChange! }
`);

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof GraphQLError ? error.extensions.code : 'not a GraphQLError';
  }
  return 'no error';
};

describe('prepareSelection', () => {
  it('turns the selection under placementChanged into the per-event query, keeping alias, fragments and the variables it uses', () => {
    const prepared = prepareSelection(schema, {
      document: `
        subscription Feed($after: String, $filter: PlacementChangeFilter, $withName: Boolean!) {
          changes: placementChanged(after: $after, filter: $filter) { cursor ...Where }
        }
        fragment Where on PlacementChange { placement { id patient { name @include(if: $withName) } } }
        query Unrelated { placementChange(cursor: "x") { cursor } }`,
      operationName: 'Feed',
      variables: { after: encodeEventCursor(41n), filter: { patientId: 'p1', toStatus: ['INTAKE'] }, withName: true },
    });
    expect(prepared.responseKey).toBe('changes');
    expect(prepared.after).toBe(41n);
    expect(prepared.filter).toEqual({ patientId: 'p1', toStatus: ['INTAKE'] });
    expect(prepared.variables).toEqual({ withName: true });
    expect(prepared.operationName).toBe('Feed');
    expect(prepared.query).toMatch(
      /^query Feed\(\$kg__cursor: String!, \$withName: Boolean!\) \{\s+changes: placementChange\(cursor: \$kg__cursor\) \{\s+cursor\s+\.\.\.Where/,
    );
    expect(prepared.query).toContain('fragment Where on PlacementChange');
    expect(prepared.query).not.toContain('Unrelated');
  });

  it('refuses what is not a valid placementChanged subscription with typed errors', () => {
    const prepare =
      (document: string, variables: Record<string, unknown> = {}, operationName?: string) =>
      () =>
        prepareSelection(schema, { document, variables, operationName });
    expect(codeOf(prepare('subscription {'))).toBe('GRAPHQL_PARSE_FAILED');
    expect(codeOf(prepare('subscription { placementChanged { nope } }'))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(prepare('{ placementChange(cursor: "x") { cursor } }'))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(prepare('subscription A { placementChanged { cursor } } subscription B { placementChanged { cursor } }'))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(prepare('subscription A { placementChanged { cursor } }', {}, 'B'))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(prepare('subscription($kg__cursor: String) { placementChanged(after: $kg__cursor) { cursor } }'))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(prepare('subscription($after: String) { placementChanged(after: $after) { cursor } }', { after: 'not-a-cursor' }))).toBe('BAD_USER_INPUT');
    expect(
      codeOf(prepare('subscription($filter: PlacementChangeFilter) { placementChanged(filter: $filter) { cursor } }', { filter: { toStatus: ['NO_SUCH'] } })),
    ).toBe('BAD_USER_INPUT');
  });
});

describe('matchesFilter', () => {
  const event: PlacementChangeEvent = {
    sequence: 7n,
    cursor: encodeEventCursor(7n),
    placementId: 'pl',
    patientId: 'pa',
    trajectoryId: 'tr',
    providerId: 'pr',
    fromStatus: 'REQUESTED',
    toStatus: 'INTAKE',
    occurredAt: new Date(),
  };
  it('requires every given condition', () => {
    expect(matchesFilter(event, null)).toBe(true);
    expect(matchesFilter(event, { patientId: 'pa', trajectoryId: 'tr', providerId: 'pr', toStatus: ['INTAKE', 'ACCEPTED'] })).toBe(true);
    expect(matchesFilter(event, { patientId: 'other' })).toBe(false);
    expect(matchesFilter(event, { trajectoryId: 'other' })).toBe(false);
    expect(matchesFilter(event, { providerId: 'other' })).toBe(false);
    expect(matchesFilter(event, { toStatus: ['ACCEPTED'] })).toBe(false);
  });
});

describe('Channel', () => {
  it('ends at once when the consumer returns while waiting, and tells the producer', async () => {
    let ended = 0;
    const channel = new Channel<number>(2, () => ended++);
    const pending = channel.next();
    await channel.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
    channel.push(1);
    expect(await channel.next()).toEqual({ value: undefined, done: true });
  });

  it('delivers what is buffered before an error, then the error once', async () => {
    const channel = new Channel<number>(5, () => undefined);
    channel.push(1);
    channel.push(2);
    channel.end(new Error('stop'));
    expect(await channel.next()).toEqual({ value: 1, done: false });
    expect(await channel.next()).toEqual({ value: 2, done: false });
    await expect(channel.next()).rejects.toThrow('stop');
    expect(await channel.next()).toEqual({ value: undefined, done: true });
  });

  it('makes the producer wait while the consumer is behind', async () => {
    const channel = new Channel<number>(1, () => undefined);
    channel.push(1);
    let roomy = false;
    const room = channel.room().then(() => (roomy = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(roomy).toBe(false);
    await channel.next();
    await room;
    expect(roomy).toBe(true);
  });
});
