/**
 * The gateway's subgraph calls share the answer of an identical query already on its way only
 * with the same caller: a real HTTP server stands in for the subgraph, holds its answers until
 * every call was made, and records who asked.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Principal } from '@ketengraph/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubgraphDataSource } from '../src/federation/data-source.js';
import { loadGatewayConfig } from '../src/config/index.js';
import { SubgraphGuards } from '../src/federation/resilience/guard.js';

const { resilience } = loadGatewayConfig({ SUBGRAPH_RETRIES: '0' });
const asked: { authorization: string; body: string }[] = [];
let release: () => void = () => undefined;
let held = Promise.resolve();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      asked.push({ authorization: request.headers.authorization ?? '', body });
      await held;
      // The answer names the caller it was made for, so a shared answer would show.
      const data = { patient: { id: 'p1', askedBy: request.headers.authorization } };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const caller = (subject: string, organisationId = 'dji'): Principal => ({ subject, organisationId, role: 'plaatser', scopes: [], purpose: 'plaatsing' });
// A token per caller, as the gateway's (one per subject, organisation, role, scopes and purpose).
const tokens = { tokenFor: async (p: Principal) => `token-of-${p.subject}-${p.organisationId}-${p.role}-${p.purpose}` };

function fetchAs(source: SubgraphDataSource, principal: Principal, query: string, requestId: string) {
  return source.process({
    kind: 'incoming operation',
    request: { query, variables: { id: 'p1' } },
    context: { requestId, principal },
    incomingRequestContext: {} as never,
    document: undefined as never,
    pathInIncomingRequest: [],
  } as never) as Promise<{ data?: { patient: { id: string; askedBy: string } } }>;
}

/** Makes the calls while the subgraph holds its answers, then lets it answer. */
async function concurrently<T>(calls: () => Promise<T>[]): Promise<T[]> {
  asked.length = 0;
  held = new Promise((resolve) => (release = resolve));
  const pending = calls();
  while (asked.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 50)); // any further call is on the wire by now
  release();
  return Promise.all(pending);
}

describe('identical subgraph queries in flight', () => {
  const query = 'query($id: ID!) { patient(id: $id) { id askedBy } }';

  it('are asked once for the same caller, and each request gets its own copy of the answer', async () => {
    const source = new SubgraphDataSource('indicatiestelling', url, tokens, new SubgraphGuards(resilience).of('indicatiestelling'), resilience);
    const [first, second] = await concurrently(() => [fetchAs(source, caller('alice'), query, 'r1'), fetchAs(source, caller('alice'), query, 'r2')]);
    expect(asked).toHaveLength(1);
    expect(first!.data!.patient.askedBy).toBe(`Bearer ${await tokens.tokenFor(caller('alice'))}`);
    expect(second!.data).toEqual(first!.data);
    expect(second!.data).not.toBe(first!.data); // the gateway merges into what it receives: no shared objects
  });

  it('are never merged across callers: another subject, organisation, role or purpose asks for itself', async () => {
    const source = new SubgraphDataSource('indicatiestelling', url, tokens, new SubgraphGuards(resilience).of('indicatiestelling'), resilience);
    const others = [
      caller('alice'),
      caller('bob'),
      caller('alice', 'forzo'),
      { ...caller('alice'), role: 'reclassering' },
      { ...caller('alice'), purpose: null },
    ];
    const answers = await concurrently(() => others.map((principal, i) => fetchAs(source, principal, query, `r${i}`)));
    expect(asked).toHaveLength(others.length);
    for (const [i, principal] of others.entries()) {
      expect(answers[i]!.data!.patient.askedBy).toBe(`Bearer ${await tokens.tokenFor(principal)}`);
    }
  });

  it('are never merged when they are mutations', async () => {
    const source = new SubgraphDataSource('plaatsing', url, tokens, new SubgraphGuards(resilience).of('plaatsing'), resilience);
    const mutation = 'mutation($id: ID!) { patient(id: $id) { id askedBy } }';
    await concurrently(() => [fetchAs(source, caller('alice'), mutation, 'r1'), fetchAs(source, caller('alice'), mutation, 'r2')]);
    expect(asked).toHaveLength(2);
  });

  it('are asked anew once the first answer arrived (nothing is cached)', async () => {
    const source = new SubgraphDataSource('indicatiestelling', url, tokens, new SubgraphGuards(resilience).of('indicatiestelling'), resilience);
    asked.length = 0;
    held = Promise.resolve();
    await fetchAs(source, caller('alice'), query, 'r1');
    await fetchAs(source, caller('alice'), query, 'r2');
    expect(asked).toHaveLength(2);
  });
});
