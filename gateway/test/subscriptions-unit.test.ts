import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeEventCursor } from '@ketengraph/service-kit';
import { buildSchema, GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { PlacementChangeEvent } from '../src/events/feed.js';
import { matchesFilter, prepareSelection } from '../src/events/resolve.js';
import { Channel } from '../src/events/subscriptions/channel.js';
import { coalesceWrites } from '../src/events/subscriptions/websocket.js';
import { WebSocket, WebSocketServer } from 'ws';

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

describe('coalesceWrites', () => {
  /** A WebSocket server whose connections coalesce their writes, and a raw client that can stop reading. */
  async function connection() {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const accepted = new Promise<WebSocket>((resolve) =>
      server.on('upgrade', (request, socket, head) =>
        wss.handleUpgrade(request, socket, head, (ws) => {
          coalesceWrites(ws, socket);
          resolve(ws);
        }),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    await new Promise((resolve) => client.once('open', resolve));
    return {
      ws: await accepted,
      client,
      received,
      close: async () => {
        client.terminate();
        wss.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }
  const sent = (ws: WebSocket, data: string) => new Promise<void>((resolve, reject) => ws.send(data, (error) => (error ? reject(error) : resolve())));

  it('sends the messages of one turn in one write, in order, and counts them sent at once', async () => {
    const { ws, received, close } = await connection();
    const writes: number[] = [];
    const socket = (ws as unknown as { _socket: { _writev: (chunks: unknown[], cb: () => void) => void } })._socket;
    const writev = socket._writev.bind(socket);
    socket._writev = (chunks, cb) => {
      writes.push(chunks.length);
      writev(chunks, cb);
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => sent(ws, `message ${i}`)));
    await expect.poll(() => received.length).toBe(50);
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => `message ${i}`));
    expect(writes).toHaveLength(1);
    await close();
  });

  it('waits for a client that does not read once a megabyte is unsent (backpressure)', async () => {
    const { ws, client, close } = await connection();
    // The client stops reading: its socket's data no longer reaches ws (which would resume it), and it is paused.
    const clientSocket = (client as unknown as { _socket: import('node:net').Socket })._socket;
    clientSocket.removeAllListeners('data');
    clientSocket.pause();
    const big = 'x'.repeat(64 * 1024);
    let acknowledged = 0;
    let waiting: Promise<void> | undefined;
    // Queued while little is unsent; the operating system's buffers fill first, then the socket's.
    for (let i = 0; i < 2000 && !waiting; i++) {
      void sent(ws, big).then(() => void acknowledged++);
      await new Promise((resolve) => setImmediate(resolve)); // the turn ends: what was queued is written
      if (ws.bufferedAmount >= 1 << 20) waiting = sent(ws, big);
    }
    expect(waiting, 'the unsent bytes reached the limit').toBeDefined();
    const before = acknowledged;
    await new Promise((resolve) => setTimeout(resolve, 100));
    let done = false;
    void waiting!.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done, 'a send past the limit waits for the client').toBe(false);
    expect(acknowledged).toBe(before);
    clientSocket.resume();
    await waiting;
    await close();
  });
});
