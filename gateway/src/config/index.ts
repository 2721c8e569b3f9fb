/**
 * The gateway's configuration: one typed object read from the environment once, by one
 * `readEnv` over the variables declared in env.ts. The README's configuration table lists the
 * same variables with the same defaults (checked).
 */
import { join } from 'node:path';
import { ConfigurationError, type EnvValues, GATEWAY_KEYS_DIR, isProduction, readEnv, dataRoot, type TracingConfig } from '@ketengraph/service-kit';
import { SUBGRAPHS, SUPERGRAPH_FILE } from '../../../schema/subgraphs.js';
import type { CallerTokenSettings } from '../admission/authentication/config.js';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_DIR } from '../admission/authentication/dev-issuer.js';
import type { LimitsConfig } from '../admission/limits/config.js';
import type { RateLimitConfig } from '../admission/rate-limit/limiter.js';
import type { AuditConfig } from '../audit/config.js';
import type { AuthorizationMode } from '../authorization/plugin.js';
import type { ExplorerConfig } from '@ketengraph/explorer';
import type { EventsConfig } from '../events/config.js';
import type { HandoverRelayConfig } from '../events/handover-relay.js';
import type { WebhookConfig } from '../events/webhooks/config.js';
import type { ResilienceConfig } from '../federation/resilience/config.js';
import type { GatewaySigningKeySource } from '../federation/signing-key.js';
import type { ExposureConfig } from '../observability/exposure/config.js';
import { AUDIT_ENV, envNameOf, GATEWAY_ENV, SUBGRAPH_URL_ENV } from './env.js';

export { AUDIT_ENV, envNameOf, GATEWAY_ENV, SUBGRAPH_URL_ENV };

export interface GatewayConfig {
  /** PORT: port of the GraphQL endpoint (default 4000). */
  port: number;
  /** HOST: interface to listen on (default 127.0.0.1). */
  host: string;
  /** SUPERGRAPH_FILE: composed supergraph to serve (default schema/supergraph.graphql). */
  supergraphFile: string;
  /** Supergraph SDL given directly (tests); takes precedence over the file. */
  supergraphSdl?: string;
  /** <SUBGRAPH>_URL (e.g. PLAATSING_URL): routing overrides for the URLs in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** MAX_BODY_BYTES: largest request body accepted (default 1 MB). */
  maxBodyBytes: number;
  /** NODE_ENV=production: development key material is refused. */
  production: boolean;
  callerTokens: CallerTokenSettings;
  /** GATEWAY_SIGNING_KEY_FILE (a private JWK); unset generates a key pair in `.data/gateway-keys/`. */
  signingKey: GatewaySigningKeySource;
  /** AUTHORIZATION_MODE: `filter` (default) nulls withheld fields; `reject` refuses an operation with any. */
  authorizationMode: AuthorizationMode;
  /** AUDIT_DATABASE_URL / AUDIT_DATA_DIR: where the access log lives. */
  audit: AuditConfig;
  /** WEBHOOK_*: where webhook state lives and how deliveries are retried (events/webhooks/config.ts). */
  webhooks: WebhookConfig;
  /** EXPLORER_ENABLED: GraphiQL at /explorer (default on outside production). */
  explorer: ExplorerConfig;
  /** EVENT_POLL_INTERVAL_MS: the placement event feed behind subscriptions and webhooks. */
  events: EventsConfig;
  /** HANDOVER_RELAY, HANDOVER_RELAY_INTERVAL_MS, HANDOVER_RELAY_MAX_BACKOFF_MS: every transfer's handover in kwaliteit (events/handover-relay.ts). */
  handoverRelay: HandoverRelayConfig;
  /** SUPERGRAPH_POLL_MS: how often SUPERGRAPH_FILE is checked for a new supergraph (default 1000; 0 never). */
  supergraphPollMs: number;
  /** SHUTDOWN_GRACE_MS: how long a shutdown lets requests in flight finish before cutting them (default 15000). */
  shutdownGraceMs: number;
  /** SUBGRAPH_TIMEOUT_MS, SUBGRAPH_RETRIES, SUBGRAPH_BREAKER_*: subgraph timeouts, retries and circuit breakers. */
  resilience: ResilienceConfig;
  /** MAX_DEPTH, MAX_ALIASES, MAX_TOKENS, MAX_DIRECTIVES, MAX_COST, MAX_LIST_SIZE, MAX_BATCH_SIZE. */
  limits: LimitsConfig;
  /** INTROSPECTION, FIELD_SUGGESTIONS, TRUSTED_DOCUMENTS, AUTOMATIC_PERSISTED_QUERIES (closed under NODE_ENV=production). */
  exposure: ExposureConfig;
  /** TRUSTED_DOCUMENTS_FILE: the allow-list (default: the one `npm run generate` writes). */
  trustedDocumentsFile?: string;
  /** RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST, RATE_LIMIT_BURST_SECONDS: requests per organisation. */
  rateLimit: RateLimitConfig;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: where traces go (unset: not exported). */
  tracing: TracingConfig;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const values = readEnv({ ...GATEWAY_ENV, ...SUBGRAPH_URL_ENV }, env);
  const production = isProduction(env);
  const subgraphUrls: Record<string, string> = {};
  for (const { name } of SUBGRAPHS) {
    const url = (values as Record<string, unknown>)[envNameOf(name)];
    if (typeof url === 'string') subgraphUrls[name] = url;
  }
  return {
    port: values.PORT,
    host: values.HOST,
    supergraphFile: values.SUPERGRAPH_FILE ?? SUPERGRAPH_FILE,
    subgraphUrls,
    maxBodyBytes: values.MAX_BODY_BYTES,
    production,
    callerTokens: callerTokenSettings(values),
    signingKey: values.GATEWAY_SIGNING_KEY_FILE ? { source: 'file', file: values.GATEWAY_SIGNING_KEY_FILE } : { source: 'generated', dir: GATEWAY_KEYS_DIR },
    authorizationMode: values.AUTHORIZATION_MODE satisfies AuthorizationMode,
    audit: auditConfig(values, production),
    webhooks: {
      databaseUrl: values.WEBHOOK_DATABASE_URL,
      dataDir: values.WEBHOOK_DATA_DIR ?? join(dataRoot, 'gateway-webhooks'),
      maxAttempts: values.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: values.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: values.WEBHOOK_RETRY_MAX_MS,
      timeoutMs: values.WEBHOOK_TIMEOUT_MS,
      pollMs: values.WEBHOOK_POLL_MS,
      secretOverlapHours: values.WEBHOOK_SECRET_OVERLAP_HOURS,
      allowHttp: values.WEBHOOK_ALLOW_HTTP,
      allowPrivateAddresses: values.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    } satisfies WebhookConfig,
    explorer: { enabled: values.EXPLORER_ENABLED } satisfies ExplorerConfig,
    events: { pollIntervalMs: values.EVENT_POLL_INTERVAL_MS } satisfies EventsConfig,
    handoverRelay: handoverRelayConfig(values),
    supergraphPollMs: values.SUPERGRAPH_POLL_MS,
    shutdownGraceMs: values.SHUTDOWN_GRACE_MS,
    resilience: {
      timeoutMs: values.SUBGRAPH_TIMEOUT_MS,
      retries: values.SUBGRAPH_RETRIES,
      retryDelayMs: values.SUBGRAPH_RETRY_DELAY_MS,
      breakerFailures: values.SUBGRAPH_BREAKER_FAILURES,
      breakerHalfOpenMs: values.SUBGRAPH_BREAKER_HALF_OPEN_MS,
      maxResponseBytes: values.SUBGRAPH_MAX_RESPONSE_BYTES,
    } satisfies ResilienceConfig,
    limits: {
      depth: values.MAX_DEPTH,
      aliases: values.MAX_ALIASES,
      tokens: values.MAX_TOKENS,
      directives: values.MAX_DIRECTIVES,
      cost: values.MAX_COST,
      listSize: values.MAX_LIST_SIZE,
      batchSize: values.MAX_BATCH_SIZE,
    } satisfies LimitsConfig,
    exposure: {
      introspection: values.INTROSPECTION,
      fieldSuggestions: values.FIELD_SUGGESTIONS,
      trustedDocuments: values.TRUSTED_DOCUMENTS,
      automaticPersistedQueries: values.AUTOMATIC_PERSISTED_QUERIES,
    } satisfies ExposureConfig,
    trustedDocumentsFile: values.TRUSTED_DOCUMENTS_FILE,
    rateLimit: {
      perSecond: values.RATE_LIMIT_PER_SECOND,
      burst: values.RATE_LIMIT_BURST,
      burstSeconds: values.RATE_LIMIT_BURST_SECONDS,
    } satisfies RateLimitConfig,
    tracing: values.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT } : {},
  };
}

/** The access log's configuration alone (`npm run audit:verify` reads the same variables). */
export function loadAuditConfig(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  return auditConfig(readEnv(AUDIT_ENV, env), isProduction(env));
}

function auditConfig(values: EnvValues<typeof AUDIT_ENV>, production: boolean): AuditConfig {
  const dataDir = values.AUDIT_DATA_DIR ?? join(dataRoot, 'gateway-audit');
  // Beside the embedded database's folder (not in it), or in .data for PostgreSQL; an in-memory log
  // has no place of its own, so its checkpoints go to the log line and the metric only.
  const defaultCheckpoints = values.AUDIT_DATABASE_URL
    ? join(dataRoot, 'gateway-audit-checkpoints.jsonl')
    : dataDir.startsWith('memory://')
      ? null
      : `${dataDir.replace(/[\\/]+$/, '')}-checkpoints.jsonl`;
  return {
    databaseUrl: values.AUDIT_DATABASE_URL,
    dataDir,
    anchor: {
      keyFile: values.AUDIT_SEAL_KEY_FILE,
      production,
      checkpointFile: values.AUDIT_CHECKPOINT_FILE ?? defaultCheckpoints,
      checkpointIntervalMs: values.AUDIT_CHECKPOINT_INTERVAL_MS,
    },
  };
}

function callerTokenSettings(values: EnvValues<typeof GATEWAY_ENV>): CallerTokenSettings {
  const { AUTH_ISSUER: issuer, AUTH_JWKS_URL: url, AUTH_JWKS_FILE: file, AUTH_CLOCK_SKEW_SECONDS: clockSkewSeconds } = values;
  if (!issuer && !url && !file) return { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, keys: { source: 'dev-issuer', dir: DEV_ISSUER_DIR }, clockSkewSeconds };
  if (!issuer) throw new ConfigurationError(['AUTH_ISSUER is required with AUTH_JWKS_URL or AUTH_JWKS_FILE']);
  if (!url === !file) throw new ConfigurationError(['with AUTH_ISSUER, set exactly one of AUTH_JWKS_URL and AUTH_JWKS_FILE']);
  return { issuer, audience: values.AUTH_AUDIENCE ?? DEV_AUDIENCE, keys: url ? { source: 'url', url } : { source: 'file', file: file! }, clockSkewSeconds };
}

function handoverRelayConfig(values: EnvValues<typeof GATEWAY_ENV>): HandoverRelayConfig {
  const { HANDOVER_RELAY: enabled, HANDOVER_RELAY_INTERVAL_MS: intervalMs, HANDOVER_RELAY_MAX_BACKOFF_MS: maxBackoffMs } = values;
  if (maxBackoffMs < intervalMs) throw new ConfigurationError(['HANDOVER_RELAY_MAX_BACKOFF_MS must be at least HANDOVER_RELAY_INTERVAL_MS']);
  return { enabled, intervalMs, maxBackoffMs };
}
