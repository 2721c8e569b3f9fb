/**
 * The whole federation in one test process: four real subgraphs over HTTP on free ports, each
 * with its own embedded database (in memory), composed into a supergraph with their actual URLs,
 * behind the real ketengraph gateway. Keys are generated in memory: a test identity provider
 * whose tokens the gateway trusts, and the gateway's own key the subgraphs trust.
 */
import { forensischCv } from '@ketengraph/forensisch-cv';
import { loadGatewayConfig, startGateway, type GatewayConfig, type RunningGateway } from '@ketengraph/gateway';
import { indicatiestelling } from '@ketengraph/indicatiestelling';
import { kwaliteit } from '@ketengraph/kwaliteit';
import { createPlaatsing } from '@ketengraph/plaatsing';
import { signGatewayToken, startSubgraph, type Principal, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestKeyPair, mintTestToken, type TestKeyPair } from '@ketengraph/service-kit/testing';
import { createServer } from 'node:net';
import { composeSupergraph } from '../../schema/compose.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export interface Federation {
  gateway: RunningGateway;
  subgraphs: Record<'indicatiestelling' | 'plaatsing' | 'forensisch-cv' | 'kwaliteit', RunningSubgraph<unknown>>;
  /** POSTs an operation to the gateway with a caller token for `principal` (default TEST_PRINCIPAL). */
  request<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { principal?: Principal; operationName?: string },
  ): Promise<GraphQLResponse<T>>;
  /** A token from the test identity provider, as a caller would send it to the gateway. */
  callerToken(principal?: Principal, options?: { expiresInSeconds?: number }): Promise<string>;
  /** A token as the gateway sends it to subgraphs, for calling a subgraph directly. */
  gatewayToken(principal?: Principal, options?: { expiresInSeconds?: number }): Promise<string>;
  /** The test identity provider's key pair and the gateway's own key pair. */
  keys: { issuer: TestKeyPair; gateway: TestKeyPair };
  /** SQL statements sent by all four subgraphs so far. */
  statementCount(): number;
  /** Another gateway instance on the same subgraphs and keys (a restart, a second machine); the caller closes it. */
  startGateway(overrides?: Partial<GatewayConfig>): Promise<RunningGateway>;
  close(): Promise<void>;
}

/** A DJI placement officer who may also write everywhere, so lifecycle tests can run every step as one caller. */
export const TEST_PRINCIPAL: Principal = {
  subject: 'test-user',
  organisationId: 'dji-forzo',
  role: 'plaatser',
  scopes: ['indicatie:write', 'plaatsing:write', 'cv:write', 'kwaliteit:write'],
  purpose: 'plaatsing',
};
export const TEST_ISSUER = 'https://idp.test.ketengraph.example';
export const TEST_AUDIENCE = 'ketengraph';

export interface FederationOptions {
  seedPatients?: number;
  /** PostgreSQL URL per subgraph; subgraphs without one use an in-memory embedded database. */
  databaseUrls?: Partial<Record<keyof Federation['subgraphs'], string>>;
  /** PostgreSQL URL for the gateway's access log; unset keeps it in memory. */
  auditDatabaseUrl?: string;
  authorizationMode?: 'filter' | 'reject';
  /** Webhook database and timings; unset keeps the database in memory with the default timings. */
  webhooks?: Partial<GatewayConfig['webhooks']>;
  /** Whether the gateway relays transfers to kwaliteit as handovers (HANDOVER_RELAY); off unless asked. */
  handoverRelay?: boolean;
}

export async function startFederation(options: FederationOptions = {}): Promise<Federation> {
  const keys = { issuer: await createTestKeyPair(), gateway: await createTestKeyPair() };
  const base = { port: 0, dataDir: 'memory://', seedPatients: options.seedPatients ?? 40, gatewayKeys: { source: 'jwks' as const, jwks: keys.gateway.jwks } };
  // The relationship holders' ports are fixed up front: every subgraph asks them about relationships.
  const ports = { indicatiestelling: await freePort(), plaatsing: await freePort() };
  const relationshipSources = {
    'own-patients': `http://127.0.0.1:${ports.plaatsing}/graphql`,
    'own-supervisees': `http://127.0.0.1:${ports.indicatiestelling}/graphql`,
  };
  const on = (name: keyof Federation['subgraphs']) => ({
    ...base,
    port: name === 'indicatiestelling' || name === 'plaatsing' ? ports[name] : 0,
    databaseUrl: options.databaseUrls?.[name],
    relationshipSources,
  });
  const ind = await startSubgraph(indicatiestelling, on('indicatiestelling'));
  const started: RunningSubgraph<unknown>[] = [ind as RunningSubgraph<unknown>];
  try {
    // A deadline for a live peer, not a test of it: on a busy CI machine an indication check can take seconds.
    const pl = await startSubgraph(createPlaatsing({ indicatiestellingUrl: ind.url, indicatiestellingTimeoutMs: 15_000 }), on('plaatsing'));
    started.push(pl as RunningSubgraph<unknown>);
    const cv = await startSubgraph(forensischCv, on('forensisch-cv'));
    started.push(cv as RunningSubgraph<unknown>);
    const kw = await startSubgraph(kwaliteit, on('kwaliteit'));
    started.push(kw as RunningSubgraph<unknown>);
    const subgraphs = { indicatiestelling: ind, plaatsing: pl, 'forensisch-cv': cv, kwaliteit: kw } as Federation['subgraphs'];
    const supergraphSdl = composeSupergraph(Object.fromEntries(Object.entries(subgraphs).map(([name, sg]) => [name, sg.url])));
    const defaults = loadGatewayConfig({});
    const gatewayConfig: GatewayConfig = {
      ...defaults,
      port: 0,
      supergraphSdl,
      // The test identity provider as the gateway's development issuer: the explorer mints its sample users' tokens with it.
      callerTokens: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keys: { source: 'dev-issuer-key', key: keys.issuer.signingKey }, clockSkewSeconds: 30 },
      signingKey: { source: 'key', key: keys.gateway.signingKey },
      audit: { databaseUrl: options.auditDatabaseUrl, dataDir: 'memory://' },
      authorizationMode: options.authorizationMode ?? 'filter',
      webhooks: { ...defaults.webhooks, dataDir: 'memory://', ...options.webhooks },
      // Off in the shared harness: a background relay would add SQL statements to the counts the
      // batching tests take per request. test/handover-relay.test.ts runs gateways with it on.
      handoverRelay: { ...defaults.handoverRelay, enabled: options.handoverRelay ?? false },
    };
    const gateway = await startGateway(gatewayConfig);
    const callerToken: Federation['callerToken'] = (principal = TEST_PRINCIPAL, { expiresInSeconds = 300 } = {}) =>
      mintTestToken(keys.issuer, principal, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, expiresInSeconds });
    return {
      gateway,
      subgraphs,
      keys,
      callerToken,
      gatewayToken: (principal = TEST_PRINCIPAL, { expiresInSeconds } = {}) => signGatewayToken(principal, keys.gateway.signingKey, expiresInSeconds),
      request: async (query, variables, { principal = TEST_PRINCIPAL, operationName } = {}) => {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await callerToken(principal)}` },
          body: JSON.stringify({ query, variables, operationName }),
        });
        return (await response.json()) as never;
      },
      statementCount: () => started.reduce((sum, sg) => sum + sg.db.statementCount(), 0),
      startGateway: (overrides = {}) => startGateway({ ...gatewayConfig, ...overrides }),
      close: async () => {
        await gateway.close();
        await Promise.all(started.map((sg) => sg.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((sg) => sg.close()));
    throw error;
  }
}

/** A port that was free a moment ago (the OS picks it; the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
