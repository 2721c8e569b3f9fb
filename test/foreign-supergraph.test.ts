/**
 * The gateway over a supergraph that is not ketengraph's: two small subgraphs of this test's own,
 * composed with @apollo/composition, served over real sockets. The gateway starts with
 * authentication, request limits and the access log on; the features that need ketengraph's
 * subgraphs (event feed, subscriptions, webhook delivery, handover relay, relationship and BSN
 * lookups) are off because the supergraph has no subgraph for them.
 */
import { randomUUID } from 'node:crypto';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@ketengraph/gateway';
import { createTestKeyPair, mintTestToken, type TestKeyPair } from '@ketengraph/service-kit/testing';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_PRINCIPAL } from './support/federation.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@policy"])';
const PATIENTS = [
  { id: 'p-1', name: 'Jansen', ward: 'B2' },
  { id: 'p-2', name: 'de Vries', ward: 'C1' },
];

/** A partner's registry of patients: names are identity data under the access policy. */
const registry = {
  typeDefs: parse(`${LINK}
    "A partner's own Date: a moment, not ketengraph's calendar date."
    scalar Date
    type Query { patient(id: ID!): Patient  wards: [String!]!  admittedSince(since: Date!): [String!]! }
    type Patient @key(fields: "id") { id: ID!  name: String @policy(policies: [["identity"]]) }`),
  resolvers: {
    Query: {
      patient: (_: unknown, { id }: { id: string }) => PATIENTS.find((p) => p.id === id) ?? null,
      wards: () => PATIENTS.map((p) => p.ward),
      admittedSince: (_: unknown, { since }: { since: string }) => [`since ${since}`],
    },
    Patient: { __resolveReference: ({ id }: { id: string }) => PATIENTS.find((p) => p.id === id) ?? null },
  },
};
/** A partner's bed planning, extending the patient. */
const beds = {
  typeDefs: parse(`${LINK}
    type Patient @key(fields: "id") { id: ID!  ward: String @policy(policies: [["logistics"]]) }`),
  resolvers: { Patient: { __resolveReference: ({ id }: { id: string }) => PATIENTS.find((p) => p.id === id) ?? null } },
};

describe('the gateway over a foreign supergraph', () => {
  const servers: ApolloServer[] = [];
  let gateway: RunningGateway;
  let issuer: TestKeyPair;
  const token = (overrides: Partial<typeof TEST_PRINCIPAL> = {}) =>
    mintTestToken(issuer, { ...TEST_PRINCIPAL, organisationId: `foreign-${randomUUID()}`, ...overrides }, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  const post = async (query: string, authorization: string | null, variables: Record<string, unknown> = {}) => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization: `Bearer ${authorization}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] },
    };
  };

  beforeAll(async () => {
    const urls: Record<string, string> = {};
    for (const [name, module] of Object.entries({ registry, beds })) {
      const server = new ApolloServer({ schema: buildSubgraphSchema(module) });
      urls[name] = (await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } })).url;
      servers.push(server);
    }
    const composed = composeServices(Object.entries({ registry, beds }).map(([name, module]) => ({ name, url: urls[name]!, typeDefs: module.typeDefs })));
    if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
    issuer = await createTestKeyPair();
    const defaults = loadGatewayConfig({});
    gateway = await startGateway({
      ...defaults,
      port: 0,
      supergraphSdl: composed.supergraphSdl,
      supergraphPollMs: 0,
      callerTokens: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keys: { source: 'dev-issuer-key', key: issuer.signingKey }, clockSkewSeconds: 30 },
      signingKey: { source: 'key', key: (await createTestKeyPair()).signingKey },
      audit: { ...defaults.audit, databaseUrl: undefined, dataDir: 'memory://' },
      webhooks: { ...defaults.webhooks, dataDir: 'memory://' },
      explorer: { ...defaults.explorer, enabled: false },
      handoverRelay: { ...defaults.handoverRelay, enabled: true },
      limits: { ...defaults.limits, aliases: 1 },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    for (const server of servers) await server.stop();
  });

  it('serves the composed graph across both subgraphs, with authorization and the access log', async () => {
    const answer = await post('query Ward($id: ID!) { patient(id: $id) { id name ward } }', await token(), { id: 'p-2' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { patient: { id: 'p-2', name: 'de Vries', ward: 'C1' } } });
    // Patient data was given, so the access was written to the log (NEN 7513) for that patient.
    const records = await gateway.audit.ofRequest(answer.requestId!);
    expect(records.map((r) => r.patientId)).toContain('p-2');

    // A role without a grant for identity data gets the field withheld, as on ketengraph's own graph.
    const withheld = await post('query Ward($id: ID!) { patient(id: $id) { name ward } }', await token({ role: 'inspectie', purpose: 'kwaliteitstoezicht' }), {
      id: 'p-1',
    });
    expect(withheld.body.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHORIZED_FIELD_OR_TYPE');
  });

  it("passes a partner's scalar on as its subgraph defines it, not as ketengraph's scalar of the same name", async () => {
    // ketengraph's Date is a calendar date (YYYY-MM-DD) and the gateway parses it for its own subgraphs;
    // this partner's Date is a moment, which only its own subgraph can judge (as @apollo/gateway leaves it).
    const moment = '2026-11-29T10:00:00Z';
    for (const [query, variables] of [
      [`{ admittedSince(since: "${moment}") }`, {}],
      ['query Since($since: Date!) { admittedSince(since: $since) }', { since: moment }],
    ] as const) {
      const answer = await post(query, await token(), variables);
      expect(answer.body).toEqual({ data: { admittedSince: [`since ${moment}`] } });
    }
  });

  it('refuses without a valid token, and over its limits', async () => {
    expect((await post('{ wards }', null)).status).toBe(401);
    const aliases = await post('{ a: wards b: wards }', await token());
    expect(aliases.body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
  });

  it('leaves off the features whose subgraphs the supergraph does not have', async () => {
    expect(gateway.events).toBeNull();
    expect(gateway.subscriptions).toBeNull();
    expect(gateway.handoverRelay).toBeNull();
    const ready = await fetch(new URL('/ready', gateway.url));
    expect(ready.status).toBe(200);
    expect(Object.keys(((await ready.json()) as { dependencies: Record<string, boolean> }).dependencies).sort()).toEqual(['beds', 'registry']);
  });
});
