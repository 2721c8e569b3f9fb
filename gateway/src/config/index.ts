/**
 * The gateway's configuration: one typed object read from the environment once. The README's
 * configuration table lists the same variables with the same defaults.
 */
import { GATEWAY_KEYS_DIR, loadTracingConfig, type TracingConfig } from '@ketengraph/service-kit';
import { SUBGRAPHS, SUPERGRAPH_FILE } from '../../../schema/subgraphs.js';
import { loadAuditConfig, type AuditConfig } from '../audit/config.js';
import { loadCallerTokenSettings, type CallerTokenSettings } from '../admission/authentication/config.js';
import type { AuthorizationMode } from '../authorization/plugin.js';
import { loadExplorerConfig, type ExplorerConfig } from '@ketengraph/explorer';
import { loadExposureConfig, type ExposureConfig } from '../observability/exposure/config.js';
import { loadLimitsConfig, type LimitsConfig } from '../admission/limits/config.js';
import { loadRateLimitConfig, type RateLimitConfig } from '../admission/rate-limit/limiter.js';
import { loadResilienceConfig, positiveInteger, type ResilienceConfig } from '../federation/resilience/config.js';
import { loadEventsConfig, type EventsConfig } from '../events/config.js';
import { loadHandoverRelayConfig, type HandoverRelayConfig } from '../events/handover-relay.js';
import { loadWebhookConfig, type WebhookConfig } from '../events/webhooks/config.js';
import type { GatewaySigningKeySource } from '../federation/signing-key.js';

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

export function envNameOf(subgraph: string): string {
  return `${subgraph.toUpperCase().replaceAll('-', '_')}_URL`;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const subgraphUrls: Record<string, string> = {};
  for (const { name } of SUBGRAPHS) {
    const url = env[envNameOf(name)];
    if (url) subgraphUrls[name] = url;
  }
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0) throw new Error('PORT must be a port number.');
  const maxBodyBytes = Number(env.MAX_BODY_BYTES ?? 1_000_000);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new Error('MAX_BODY_BYTES must be a positive integer.');
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    supergraphFile: env.SUPERGRAPH_FILE ?? SUPERGRAPH_FILE,
    subgraphUrls,
    maxBodyBytes,
    production: env.NODE_ENV === 'production',
    callerTokens: loadCallerTokenSettings(env),
    signingKey: env.GATEWAY_SIGNING_KEY_FILE ? { source: 'file', file: env.GATEWAY_SIGNING_KEY_FILE } : { source: 'generated', dir: GATEWAY_KEYS_DIR },
    authorizationMode: authorizationMode(env.AUTHORIZATION_MODE),
    audit: loadAuditConfig(env),
    webhooks: loadWebhookConfig(env),
    explorer: loadExplorerConfig(env),
    events: loadEventsConfig(env),
    handoverRelay: loadHandoverRelayConfig(env),
    supergraphPollMs: positiveInteger(env, 'SUPERGRAPH_POLL_MS', 1000, 0),
    shutdownGraceMs: positiveInteger(env, 'SHUTDOWN_GRACE_MS', 15_000, 0),
    resilience: loadResilienceConfig(env),
    limits: loadLimitsConfig(env),
    exposure: loadExposureConfig(env),
    trustedDocumentsFile: env.TRUSTED_DOCUMENTS_FILE || undefined,
    rateLimit: loadRateLimitConfig(env),
    tracing: loadTracingConfig(env),
  };
}

function authorizationMode(value: string | undefined): AuthorizationMode {
  if (value === undefined || value === '' || value === 'filter') return 'filter';
  if (value === 'reject') return 'reject';
  throw new Error('AUTHORIZATION_MODE must be filter or reject.');
}
