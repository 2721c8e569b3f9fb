import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import {
  createRequestAccess,
  guardSchema,
  relationshipField,
  remoteRelationshipLookup,
  remoteTrajectoryOwners,
  type PatientOf,
  type RelationshipLookup,
  type RequestAccess,
  type TrajectoryOwnerLookup,
} from './access.js';
import { actorOf, type Actor } from './actor.js';
import { readSchemaPolicies, type RelationshipKind } from './grants.js';
import { ConfigurationError, envSchema, envVariable, type EnvSpec, isProduction, optionalEnvVariable, readEnv } from './config.js';
import { openDatabase, type Database } from './database.js';
import { isErrorCode, type ErrorCode } from './error-codes.js';
import { gatewayTokenAuthenticator } from './gateway-token.js';
import { startHttpService, type HttpService } from './http.js';
import { errorDetails, serviceLogger } from './logging.js';
import { operationMetricsPlugin, reportSqlStatements } from './metrics.js';
import { GATEWAY_KEYS_DIR, JWKS_FILE, type KeySource } from './keys.js';
import { migrate } from './migrator.js';
import { boundCursors, loadCursorSecret, type CursorCodec } from './pagination.js';
import { limitHeapGrowth } from './heap.js';
import { dataRoot } from './paths.js';
import { ScalarRefusal } from './scalars.js';
import { type AccessPolicy, internalScopes, loadAccessPolicy, type Principal } from './principal.js';
import { loadTracingConfig, startTracing } from './tracing-export.js';
import { createPeerFacts, type PeerFacts } from './peers.js';
import { createRequestWrites, recordWrites, WRITE_RECORDS_EXTENSION, type RequestWrites } from './write-access.js';

/** Everything a subgraph process is configured with; see the README's configuration table. */
export interface SubgraphConfig {
  port: number;
  host: string;
  /** PostgreSQL URL; unset means the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Patients to generate on first start into an empty database; 0 starts empty. */
  seedPatients: number;
  /** Random seed of the synthetic data; unset: the seed generator's default. */
  seed: number | undefined;
  /** The gateway's public key(s): only requests carrying a token the gateway signed are served. */
  gatewayKeys: KeySource;
  /**
   * Where relationships are checked that this subgraph does not hold: "own patients" at
   * plaatsing (PLAATSING_URL), "own supervisees" at indicatiestelling (INDICATIESTELLING_URL).
   */
  relationshipSources: Record<RelationshipKind, string>;
}

export interface SubgraphRequestContext<Prisma> {
  prisma: Prisma;
  /** The same database for the hot reads in SQL (`db.read`), past Prisma's query building; writes go through Prisma. */
  db: Database;
  requestId: string;
  /** Who the request runs for, from the gateway's verified token. */
  principal: Principal;
  /** The same person as recorded on changes (author, decider). */
  actor: Actor;
  /** The gateway's token of this request; server-to-server calls forward it to act for the same principal. */
  gatewayToken: string;
  /** The caller's access decisions and relationship checks. */
  access: RequestAccess;
  /** Cursors bound to this caller (role, organisation, purpose): another caller's are BAD_USER_INPUT. */
  cursors: CursorCodec;
  /** GraphQL URLs of the peers this subgraph may ask directly (with the forwarded gateway token). */
  peers: { plaatsing: string; indicatiestelling: string };
  /** The write rules for this caller: every mutation asks them before it changes anything. */
  writes: RequestWrites;
  /** Facts the write rules need from other subgraphs, batched per request. */
  peerFacts: PeerFacts;
}

/** How a subgraph takes part in the access rules (see access.ts). */
export interface SubgraphAccess<Prisma, Context> {
  /** Per type with guarded fields: the patient a parent object belongs to. */
  patientOf: Record<string, PatientOf<Context>>;
  /** The relationships whose data this subgraph holds, answered from its own tables (and served to the others as `relatedPatients`). */
  relationships?: Partial<Record<RelationshipKind, (prisma: Prisma, organisationId: string, patientIds: readonly string[] | null) => Promise<string[]>>>;
  /** Only the subgraph that owns trajectories: whose each is. The others ask it (`RequestAccess.trajectoryPatient`). */
  trajectoryOwners?: (prisma: Prisma, trajectoryIds: readonly string[]) => Promise<Map<string, string>>;
}

export interface SeedOptions {
  /** Unset: the seed generator's default seed. */
  seed: number | undefined;
  patients: number;
}

/** What one subgraph contributes; the kit does the rest (database, migrations, seed, HTTP). */
export interface SubgraphModule<Prisma extends { $disconnect(): Promise<void> }, Context extends SubgraphRequestContext<Prisma>> {
  name: string;
  defaultPort: number;
  /** The environment variables this subgraph reads beyond every subgraph's (`subgraphEnv`); the README documents them. */
  env?: EnvSpec;
  /** The subgraph's folder; holds `schema.graphql` and `prisma/migrations`. */
  root: string;
  resolvers: GraphQLResolverMap<Context>;
  createPrisma(adapter: SqlDriverAdapterFactory): Prisma;
  createContext(base: SubgraphRequestContext<Prisma>): Context;
  access: SubgraphAccess<Prisma, Context>;
  /** True when the database holds no domain data yet (first start). */
  isEmpty(prisma: Prisma): Promise<boolean>;
  seed(prisma: Prisma, options: SeedOptions): Promise<void>;
  /** Apollo Server plugins of this subgraph, e.g. to add coded partial errors to a response. */
  plugins?: ApolloServerPlugin<Context>[];
  /** Work that runs beside the requests while the subgraph serves (e.g. listening for notifications); resolves to its stop. */
  attach?(db: Database): Promise<() => Promise<void>>;
}

export interface RunningSubgraph<Prisma> {
  name: string;
  url: string;
  port: number;
  prisma: Prisma;
  db: Database;
  close(): Promise<void>;
}

/** What every subgraph process reads from the environment (README: configuration). */
export function subgraphEnv(name: string, defaultPort: number) {
  return {
    PORT: envVariable(envSchema.port(), defaultPort, String(defaultPort)),
    HOST: envVariable(envSchema.text(), '127.0.0.1', '`127.0.0.1`'),
    DATABASE_URL: optionalEnvVariable(envSchema.postgresUrl()),
    DATA_DIR: envVariable(envSchema.text(), join(dataRoot, name), '`.data/<subgraph>`'),
    SEED_PATIENTS: envVariable(envSchema.integer(0), 2000, '`2000`'),
    SEED: optionalEnvVariable(envSchema.integer(0), '`20261122`'),
    GATEWAY_PUBLIC_KEY_FILE: optionalEnvVariable(envSchema.text(), '`.data/gateway-keys/jwks.json`'),
    GATEWAY_JWKS_URL: optionalEnvVariable(envSchema.url()),
    ...PEER_ENV,
  } satisfies EnvSpec;
}

/** Where a subgraph reaches the peers it asks directly (relationships, the indication check). */
export const PEER_ENV = {
  INDICATIESTELLING_URL: envVariable(envSchema.url(), 'http://127.0.0.1:4001/graphql', '`http://127.0.0.1:4001/graphql`'),
  PLAATSING_URL: envVariable(envSchema.url(), 'http://127.0.0.1:4002/graphql', '`http://127.0.0.1:4002/graphql`'),
} satisfies EnvSpec;

export function loadSubgraphConfig(name: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): SubgraphConfig {
  const values = readEnv(subgraphEnv(name, defaultPort), env);
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL,
    dataDir: values.DATA_DIR,
    seedPatients: values.SEED_PATIENTS,
    seed: values.SEED,
    gatewayKeys: gatewayKeySource(values, isProduction(env)),
    relationshipSources: relationshipSources(values, loadAccessPolicy()),
  };
}

/** Where each relationship is asked: the URL of the subgraph the policy names as its holder (<NAME>_URL). */
function relationshipSources(values: Record<string, unknown>, policy: AccessPolicy): Record<RelationshipKind, string> {
  const urlOf = (kind: RelationshipKind) => {
    const holder = policy.relationshipHolders[kind].subgraph;
    const url = values[`${holder.toUpperCase().replaceAll('-', '_')}_URL`];
    if (typeof url !== 'string') throw new ConfigurationError([`the access policy names ${holder} as holder of ${kind}, but no ${holder} URL is configured`]);
    return url;
  };
  return { 'own-patients': urlOf('own-patients'), 'own-supervisees': urlOf('own-supervisees') };
}

function gatewayKeySource(values: { GATEWAY_JWKS_URL: string | undefined; GATEWAY_PUBLIC_KEY_FILE: string | undefined }, production: boolean): KeySource {
  const { GATEWAY_JWKS_URL: url, GATEWAY_PUBLIC_KEY_FILE: file } = values;
  if (url && file) throw new ConfigurationError(['set GATEWAY_JWKS_URL or GATEWAY_PUBLIC_KEY_FILE, not both']);
  if (url) return { source: 'url', url };
  if (file) return { source: 'file', file };
  // The development default trusts whatever key pair the local gateway generated; production names its key.
  if (production) throw new ConfigurationError(["NODE_ENV=production: set GATEWAY_JWKS_URL or GATEWAY_PUBLIC_KEY_FILE to the gateway's public key"]);
  return { source: 'file', file: join(GATEWAY_KEYS_DIR, JWKS_FILE) };
}

/** Opens and migrates a subgraph's database, with a Prisma client over it. */
export async function openSubgraphDatabase<Prisma extends { $disconnect(): Promise<void> }, Context extends SubgraphRequestContext<Prisma>>(
  module: SubgraphModule<Prisma, Context>,
  config: Pick<SubgraphConfig, 'databaseUrl' | 'dataDir'> & Partial<Pick<SubgraphConfig, 'seedPatients' | 'seed'>>,
): Promise<{ db: Database; prisma: Prisma }> {
  const migrations = join(module.root, 'prisma', 'migrations');
  const seedInto = async (prisma: Prisma) => {
    if (config.seedPatients && (await module.isEmpty(prisma))) await module.seed(prisma, { seed: config.seed, patients: config.seedPatients });
  };
  // A new embedded database is migrated and seeded before it is moved into place (see openDatabase): an interrupted first start leaves nothing half-made.
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }, async (created) => {
    await migrate(created, migrations);
    const prisma = module.createPrisma(created.adapter);
    try {
      await seedInto(prisma);
    } finally {
      await prisma.$disconnect();
    }
  });
  try {
    await migrate(db, migrations);
    const prisma = module.createPrisma(db.adapter);
    await seedInto(prisma);
    return { db, prisma };
  } catch (error) {
    await db.close();
    throw error;
  }
}

export async function startSubgraph<Prisma extends { $disconnect(): Promise<void> }, Context extends SubgraphRequestContext<Prisma>>(
  module: SubgraphModule<Prisma, Context>,
  overrides: Partial<SubgraphConfig> = {},
): Promise<RunningSubgraph<Prisma>> {
  const config = { ...loadSubgraphConfig(module.name, module.defaultPort), ...overrides };
  const authenticate = gatewayTokenAuthenticator(config.gatewayKeys, loadAccessPolicy());
  const { db, prisma } = await openSubgraphDatabase(module, config);
  const cursorSecret = await loadCursorSecret(db);
  const detach = module.attach ? await module.attach(db) : async () => undefined;

  const sdl = readFileSync(join(module.root, 'schema.graphql'), 'utf8');
  const policy = loadAccessPolicy();
  const systemScopes = internalScopes(policy);
  const policies = readSchemaPolicies(sdl, policy.patientTypes);
  const held = module.access.relationships ?? {};
  const heldKinds = Object.keys(held) as RelationshipKind[];
  // Who holds a relationship is declared in the policy; a subgraph answering one it does not hold would be a second source.
  for (const kind of heldKinds) {
    if (policy.relationshipHolders[kind].subgraph !== module.name)
      throw new Error(`${module.name} answers ${kind}, but the access policy's relationshipHolders names ${policy.relationshipHolders[kind].subgraph}.`);
  }
  const resolvers = { ...module.resolvers } as GraphQLResolverMap<Context>;
  for (const kind of heldKinds) {
    // Serves the relationship this subgraph holds to the other subgraphs, for the caller's organisation.
    const lookup = held[kind]!;
    resolvers.Query = {
      ...(resolvers.Query as Record<string, unknown>),
      [relationshipField(kind, policy)]: (_: unknown, args: { patientIds?: string[] | null }, context: Context) =>
        lookup(prisma, context.principal.organisationId, args.patientIds ?? null),
    } as never;
  }
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as GraphQLResolverMap<unknown> });
  guardSchema(schema, policies, module.access.patientOf, policy);
  recordWrites(schema, policy, module.name);
  const apollo = new ApolloServer<Context>({
    schema,
    includeStacktraceInErrorResponses: false,
    // The process's own shutdown (main.ts) owns SIGTERM/SIGINT; Apollo's handler would stop the server
    // underneath it and re-raise the signal, which left shutdown waiting for the forced exit.
    stopOnTerminationSignals: false,
    formatError: maskUnexpectedErrors(module.name),
    // Federated tracing (ftv1) is for Apollo Studio; ketengraph traces with OpenTelemetry instead.
    // Cache hints are not used (the gateway does not cache responses); the plugin would wrap every field's resolver.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      operationMetricsPlugin(module.name),
      writeRecordsPlugin<Context>(),
      ...(module.plugins ?? []),
    ],
  });
  await apollo.start();
  let http: HttpService;
  try {
    http = await startHttpService({
      apollo,
      service: module.name,
      port: config.port,
      host: config.host,
      quietRequest: (context) => context.principal.scopes.some((scope) => systemScopes.has(scope)),
      context: async (request: IncomingMessage, requestId: string) => {
        const { principal, token } = await authenticate(request);
        const lookups = {} as Record<RelationshipKind, RelationshipLookup>;
        for (const kind of ['own-patients', 'own-supervisees'] as const) {
          const local = held[kind];
          lookups[kind] = local
            ? (organisationId, ids) => local(prisma, organisationId, ids)
            : remoteRelationshipLookup(kind, config.relationshipSources[kind], () => token);
        }
        const owners: TrajectoryOwnerLookup = module.access.trajectoryOwners
          ? (ids) => module.access.trajectoryOwners!(prisma, ids)
          : remoteTrajectoryOwners(config.relationshipSources['own-supervisees'], () => token);
        const access = createRequestAccess(policy, policies, principal, lookups, owners);
        const cursors = boundCursors(cursorSecret, JSON.stringify([principal.role, principal.organisationId, principal.purpose]));
        const peers = { plaatsing: config.relationshipSources['own-patients'], indicatiestelling: config.relationshipSources['own-supervisees'] };
        const writes = createRequestWrites(policy, principal, access);
        const peerFacts = createPeerFacts(peers, () => token);
        return module.createContext({
          prisma,
          db,
          requestId,
          principal,
          actor: actorOf(principal),
          gatewayToken: token,
          access,
          cursors,
          peers,
          writes,
          peerFacts,
        });
      },
      readiness: async () => ({
        database: await db.query('SELECT 1').then(
          () => true,
          () => false,
        ),
      }),
    });
  } catch (error) {
    await apollo.stop();
    await detach();
    await db.close();
    throw error;
  }
  const stopReporting = reportSqlStatements(module.name, () => db.statementCount());
  let closing: Promise<void> | undefined;
  return {
    name: module.name,
    url: http.url,
    port: http.port,
    prisma,
    db,
    // Once: a second call (a supervisor and a test both stopping it) waits for the first.
    close: () =>
      (closing ??= (async () => {
        await http.close();
        stopReporting();
        await apollo.stop();
        await detach();
        await prisma.$disconnect();
        await db.close();
      })()),
  };
}

/** Hands the request's write records to the gateway, which writes them to the access log. */
function writeRecordsPlugin<Context extends { writes: RequestWrites }>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          if (!contextValue.writes?.records.length || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, [WRITE_RECORDS_EXTENSION]: contextValue.writes.records };
        },
      };
    },
  };
}

/** Codes Apollo Server gives its own refusals of a request (no resolver ran): passed on as they are. */
const KNOWN_CODES = new Set<ErrorCode>([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Errors raised on purpose carry a code; anything else (a database fault, a bug) is logged here
 * without request data and reaches the client only as INTERNAL_SERVER_ERROR.
 */
function maskUnexpectedErrors(subgraph: string) {
  const log = serviceLogger(subgraph);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    const code = formatted.extensions?.code;
    // A value a kit scalar refuses (an impossible Date, a BSN failing the 11-check) is the caller's input. graphql-js
    // reports a literal as a validation error and a variable with its value quoted ("got invalid value …", personal
    // data for a BSN): answer with the scalar's own message, which never repeats the value.
    const refusal = scalarRefusal(error);
    if (refusal)
      return {
        message: refusal.message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode },
      };
    const deliberate = original === undefined || original instanceof GraphQLError || (isErrorCode(code) && KNOWN_CODES.has(code));
    if (deliberate && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    log.error({ ...errorDetails(original), path: formatted.path }, 'unexpected resolver error');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode } };
  };
}

function scalarRefusal(error: unknown): ScalarRefusal | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 5; at = (at as GraphQLError).originalError, depth++) {
    if (at instanceof ScalarRefusal) return at;
  }
  return undefined;
}

/** Starts a subgraph as its own process and closes it cleanly on SIGINT/SIGTERM. */
export async function runSubgraphProcess<Prisma extends { $disconnect(): Promise<void> }, Context extends SubgraphRequestContext<Prisma>>(
  module: SubgraphModule<Prisma, Context>,
): Promise<void> {
  limitHeapGrowth();
  // Registered before the server starts, so its spans (continuing the gateway's traceparent) are exported.
  const stopTracing = await startTracing(loadTracingConfig(process.env));
  const running = await startSubgraph(module);
  const log = serviceLogger(module.name);
  log.info({ url: running.url }, 'listening');
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    // A shutdown that cannot finish (a stuck connection, a database that does not answer) must not keep the process alive.
    setTimeout(() => process.exit(1), 20_000).unref();
    log.info({ signal }, 'shutting down');
    running
      .close()
      .then(stopTracing)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error(errorDetails(error), 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
