import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  domainError,
  redirectLogs,
  startSubgraph,
  type Principal,
  type RunningSubgraph,
  type SubgraphModule,
  type SubgraphRequestContext,
} from '@ketengraph/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway } from '../src/testing.js';

/** The smallest subgraph the kit can run: no tables, no Prisma, three fields. */
interface NoPrisma {
  $disconnect(): Promise<void>;
}

const root = mkdtempSync(join(tmpdir(), 'ketengraph-http-'));
mkdirSync(join(root, 'prisma', 'migrations'), { recursive: true });
writeFileSync(
  join(root, 'schema.graphql'),
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { ping(echo: String): String! refuse: String fail: String }`,
);

const probe: SubgraphModule<NoPrisma, SubgraphRequestContext<NoPrisma>> = {
  name: 'probe',
  defaultPort: 0,
  root,
  access: { patientOf: {} },
  resolvers: {
    Query: {
      ping: (_: unknown, args: { echo?: string }) => `pong${args.echo ? ` ${args.echo.length}` : ''}`,
      refuse: () => {
        throw domainError('NOT_FOUND', 'Nothing here.');
      },
      fail: () => {
        throw new Error('database fault for patient 111222333');
      },
    },
  },
  createPrisma: () => ({ $disconnect: async () => undefined }),
  createContext: (base) => base,
  isEmpty: async () => false,
  seed: async () => undefined,
};

let sg: RunningSubgraph<NoPrisma>;
let base: string;
const gateway = await createTestGateway();
const caller = { userId: 'user-1', organisationId: 'dji', role: 'plaatser' };

beforeAll(async () => {
  sg = await startSubgraph(probe, { port: 0, dataDir: 'memory://', seedPatients: 0, gatewayKeys: gateway.gatewayKeys });
  base = sg.url.replace(/\/graphql$/, '');
});

afterAll(async () => {
  await sg?.close();
  rmSync(root, { recursive: true, force: true });
});

const post = async (body: string | Buffer, headers: Record<string, string> = {}) =>
  // A fresh token per request: one minted before the subgraph's start could expire on a slow machine.
  fetch(sg.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(await gateway.authorization(caller)), ...headers }, body });

describe('http service', () => {
  it('answers a GraphQL POST and echoes the request id', async () => {
    const response = await post(JSON.stringify({ query: '{ ping }' }), { 'x-request-id': 'req-42' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(await response.json()).toEqual({ data: { ping: 'pong' } });
  });

  it('refuses a body over the limit with 413 before parsing it', async () => {
    const padding = 'x'.repeat(1_000_001);
    const response = await post(JSON.stringify({ query: 'query ($echo: String) { ping(echo: $echo) }', variables: { echo: padding } }));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    // The connection and server survive the refusal.
    expect((await post(JSON.stringify({ query: '{ ping }' }))).status).toBe(200);
  });

  it('accepts a body just under the limit', async () => {
    const echo = 'x'.repeat(999_000);
    const response = await post(JSON.stringify({ query: 'query ($echo: String) { ping(echo: $echo) }', variables: { echo } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { ping: 'pong 999000' } });
  });

  it('refuses a body that is not JSON with 400', async () => {
    const response = await post('{"query": "{ ping }"');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('passes deliberate refusals through and masks unexpected errors without their message', async () => {
    const refused = (await (await post(JSON.stringify({ query: '{ refuse }' }))).json()) as any;
    expect(refused.errors[0]).toMatchObject({ message: 'Nothing here.', extensions: { code: 'NOT_FOUND' } });
    const failed = (await (await post(JSON.stringify({ query: '{ fail }' }))).json()) as any;
    expect(failed.errors[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(failed)).not.toContain('111222333');
  });

  it("logs a caller's request at info and the gateway's own background reads (internal scopes) at debug", async () => {
    const lines: { level: string; msg: string; requestId?: string }[] = [];
    const restore = redirectLogs({ write: (line: string) => lines.push(JSON.parse(line)) }, 'debug');
    try {
      const headers = (who: Principal, requestId: string) =>
        gateway.authorization(who).then((authorization) => ({ 'content-type': 'application/json', 'x-request-id': requestId, ...authorization }));
      const body = JSON.stringify({ query: '{ ping }' });
      const feedReader: Principal = {
        subject: 'urn:ketengraph:gateway:event-reader',
        organisationId: 'ketengraph-gateway',
        role: 'beleid',
        scopes: ['events:read'],
        purpose: null,
      };
      const person: Principal = { subject: 'user-1', organisationId: 'dji', role: 'plaatser', scopes: ['plaatsing:write'], purpose: 'plaatsing' };
      for (const [who, requestId] of [
        [feedReader, 'background-read'],
        [person, 'caller-read'],
      ] as const) {
        expect((await (await fetch(sg.url, { method: 'POST', headers: await headers(who, requestId), body })).json()) as unknown).toEqual({
          data: { ping: 'pong' },
        });
      }
      // The request line is written once the answer has gone out.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      restore();
    }
    const requestLine = (requestId: string) => lines.find((line) => line.msg === 'request' && line.requestId === requestId);
    expect(requestLine('background-read')?.level).toBe('debug');
    expect(requestLine('caller-read')?.level).toBe('info');
  });

  it('serves health, readiness, metrics and 404', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true } });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^ketengraph_sql_statements_total\{subgraph="probe"\} \d+$/m);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
  });
});
