import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthenticationError, HttpError, loadAccessPolicy, type Principal } from '@ketengraph/service-kit';
import { createTestKeyPair, mintTestToken, type TestKeyPair } from '@ketengraph/service-kit/testing';
import { buildSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmission, type Admission } from '../src/admission/admit.js';
import { createCallerAuthentication } from '../src/admission/authentication/caller-authentication.js';
import { requestLimits } from '../src/admission/limits/limits.js';
import { loadGatewayConfig } from '../src/config/index.js';
import { organisationRateLimiter } from '../src/admission/rate-limit/limiter.js';
import { sha256, trustedDocumentResolver } from '../src/admission/trusted-documents/documents.js';

const ISSUER = 'https://idp.admission.test';
const AUDIENCE = 'ketengraph';
const schema = buildSchema(`
  type Query { patient(id: ID!): Patient }
  type Subscription { placementChanged: Change }
  type Change { cursor: String placement: Placement }
  type Placement { id: ID patient: Patient }
  type Patient { id: ID name: String placements: [Placement] }
`);
const REGISTERED = 'subscription { placementChanged { cursor } }';
const principal = (organisationId: string): Principal => ({ subject: 'u', organisationId, role: 'plaatser', scopes: [], purpose: 'plaatsing' });

/** Refusal code of a rejected promise or a throwing call: HttpError's and LimitError's, UNAUTHENTICATED for AuthenticationError. */
async function codeOf(attempt: () => unknown): Promise<string> {
  try {
    await attempt();
    return 'ADMITTED';
  } catch (error) {
    if (error instanceof AuthenticationError) return 'UNAUTHENTICATED';
    if (error instanceof HttpError) return error.code;
    return String((error as { extensions?: { code?: unknown } }).extensions?.code ?? error);
  }
}

describe('the admission step', () => {
  let keys: TestKeyPair;
  let admission: Admission;
  let enforcing: Admission;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    keys = await createTestKeyPair();
    const authenticate = await createCallerAuthentication(
      { issuer: ISSUER, audience: AUDIENCE, keys: { source: 'dev-issuer-key', key: keys.signingKey }, clockSkewSeconds: 0 },
      loadAccessPolicy(),
      false,
    );
    const limits = requestLimits({ ...loadGatewayConfig({}).limits, depth: 4, aliases: 1 }, { fieldSuggestions: false });
    const documents = new Map([[sha256(REGISTERED), REGISTERED]]);
    const common = { authenticate, limits, maxBodyBytes: 2000, maxBatchSize: 2 };
    admission = createAdmission({
      ...common,
      rateLimit: organisationRateLimiter({ perSecond: 1, burst: 0, burstSeconds: 10 }),
      trustedDocuments: trustedDocumentResolver(documents, { enforce: false, automaticPersistedQueries: false }),
    });
    enforcing = createAdmission({
      ...common,
      rateLimit: organisationRateLimiter({ perSecond: 0, burst: 0, burstSeconds: 10 }),
      trustedDocuments: trustedDocumentResolver(documents, { enforce: true, automaticPersistedQueries: false }),
    });
    // A real HTTP request through the step, answered with what it admitted or the refusal's code.
    server = createServer((request, response) => {
      admission.http(request, 'request-1').then(
        (admitted) => response.end(JSON.stringify({ admitted })),
        async (error: unknown) => response.end(JSON.stringify({ refused: await codeOf(() => Promise.reject(error)) })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise((resolve) => server?.close(resolve)));

  const token = (organisationId: string, expiresInSeconds = 60) =>
    mintTestToken(keys, principal(organisationId), { issuer: ISSUER, audience: AUDIENCE, expiresInSeconds });
  const http = async (init: { token?: string; body?: string; search?: string; method?: string }) => {
    const response = await fetch(`${url}${init.search ?? ''}`, {
      method: init.method ?? 'POST',
      headers: init.token ? { authorization: `Bearer ${init.token}` } : {},
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return (await response.json()) as { admitted?: { context: { principal: Principal }; body: unknown }; refused?: string };
  };

  it('admits an HTTP request with its caller, parsed body and registered document resolved from its id', async () => {
    const answer = await http({ token: await token('org-http'), body: JSON.stringify({ documentId: `sha256:${sha256(REGISTERED)}` }) });
    expect(answer.admitted?.context.principal.organisationId).toBe('org-http');
    expect(answer.admitted?.body).toEqual({ query: REGISTERED, extensions: {} });
  });

  it('refuses over HTTP in order: caller, rate limit, body size, JSON, NUL, batch', async () => {
    expect((await http({ body: '{}' })).refused).toBe('UNAUTHENTICATED');
    expect((await http({ token: await token('org-expired', -60), body: '{}' })).refused).toBe('UNAUTHENTICATED');
    const once = await token('org-rate');
    await http({ token: once, body: '{}' });
    // Over the rate, refused before the (oversized) body is read.
    expect((await http({ token: once, body: 'x'.repeat(5000) })).refused).toBe('RATE_LIMITED');
    expect((await http({ token: await token('org-large'), body: 'x'.repeat(5000) })).refused).toBe('PAYLOAD_TOO_LARGE');
    expect((await http({ token: await token('org-json'), body: '{"query": ' })).refused).toBe('BAD_REQUEST');
    expect((await http({ token: await token('org-nul'), body: JSON.stringify({ query: '{ patient(id: "\u0000") { id } }' }) })).refused).toBe('BAD_USER_INPUT');
    expect((await http({ token: await token('org-batch'), body: JSON.stringify([{}, {}, {}]) })).refused).toBe('BATCH_TOO_LARGE');
    expect(
      (await http({ token: await token('org-get'), method: 'GET', search: `?query=${encodeURIComponent('{ patient(id: "\\u0000") { id } }')}` })).refused,
    ).toBe('BAD_USER_INPUT');
  });

  it('gives a caller with the token’s expiry, for the transports that end a subscription then', async () => {
    const caller = await admission.caller(`Bearer ${await token('org-caller', 120)}`);
    expect(caller.principal.organisationId).toBe('org-caller');
    expect(caller.expiresAt - Date.now()).toBeGreaterThan(100_000);
    expect(await codeOf(() => admission.caller(undefined))).toBe('UNAUTHENTICATED');
    expect(await codeOf(() => admission.caller('Bearer not-a-token'))).toBe('UNAUTHENTICATED');
  });

  it('admits a subscription like a request: rate limit, NUL, trusted documents, then the operation limits', async () => {
    expect(await admission.subscription(principal('org-sub'), schema, { query: REGISTERED })).toBe(REGISTERED);
    expect(await codeOf(() => admission.subscription(principal('org-sub'), schema, { query: REGISTERED }))).toBe('RATE_LIMITED');
    expect(
      await codeOf(() =>
        admission.subscription(principal('org-deep'), schema, { query: 'subscription { placementChanged { placement { patient { placements { id } } } } }' }),
      ),
    ).toBe('QUERY_TOO_DEEP');
    expect(
      await codeOf(() => admission.subscription(principal('org-alias'), schema, { query: 'subscription { placementChanged { a: cursor b: cursor } }' })),
    ).toBe('TOO_MANY_ALIASES');
    expect(
      await codeOf(() =>
        admission.subscription(principal('org-sub-nul'), schema, { query: 'subscription { placementChanged { cursor } }', variables: { x: '\u0000' } }),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      await codeOf(() => enforcing.subscription(principal('org-strict'), schema, { query: 'subscription { placementChanged { placement { id } } }' })),
    ).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(await enforcing.subscription(principal('org-strict'), schema, { documentId: `sha256:${sha256(REGISTERED)}` })).toBe(REGISTERED);
  });

  it("admits a webhook's selection by the same trusted documents and limits", async () => {
    expect(enforcing.selection(schema, `sha256:${sha256(REGISTERED)}`)).toBe(REGISTERED);
    expect(await codeOf(() => enforcing.selection(schema, 'subscription { placementChanged { cursor placement { id } } }'))).toBe(
      'PERSISTED_QUERY_NOT_IN_LIST',
    );
    expect(await codeOf(() => admission.selection(schema, 'subscription { placementChanged { a: cursor b: cursor } }'))).toBe('TOO_MANY_ALIASES');
    expect(await codeOf(() => enforcing.selection(schema, `sha256:${'0'.repeat(64)}`))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});
