/**
 * The gateway's configuration: one typed object read from the environment once. The README's
 * configuration table lists the same variables with the same defaults.
 */
import { GATEWAY_KEYS_DIR, loadTracingConfig, type TracingConfig, type KeySource, type SigningKey } from '@ketengraph/service-kit';
import { SUBGRAPHS, SUPERGRAPH_FILE } from '../../schema/subgraphs.js';
import { loadAuditConfig, type AuditConfig } from './audit/config.js';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_DIR } from './auth/dev-issuer.js';
import type { AuthorizationMode } from './authorization/plugin.js';
import { loadExplorerConfig, type ExplorerConfig } from './explorer/config.js';
import { loadExposureConfig, type ExposureConfig } from './exposure/config.js';
import { loadLimitsConfig, type LimitsConfig } from './limits/config.js';
import { loadRateLimitConfig, type RateLimitConfig } from './rate-limit/limiter.js';
import { loadResilienceConfig, positiveInteger, type ResilienceConfig } from './resilience/config.js';
import { loadEventsConfig, type EventsConfig } from './events/config.js';
import { loadHandoverRelayConfig, type HandoverRelayConfig } from './events/handover-relay.js';
import { loadWebhookConfig, type WebhookConfig } from './webhooks/config.js';

/**
 * Where the caller tokens' public keys come from: the identity provider's JWKS, or a development
 * issuer whose private key the gateway holds (the built-in one in `dir`, or a key given in memory
 * by tests); only with a development issuer can the explorer mint tokens for its sample users.
 */
export type CallerKeySource = KeySource | { source: 'dev-issuer'; dir: string } | { source: 'dev-issuer-key'; key: SigningKey };

/** How callers' bearer tokens are verified. */
export interface CallerTokenSettings {
  /** AUTH_ISSUER: required `iss` (default: the development issuer's). */
  issuer: string;
  /** AUTH_AUDIENCE: required `aud` (default ketengraph; the development issuer's is always ketengraph). */
  audience: string;
  /** AUTH_JWKS_URL or AUTH_JWKS_FILE; neither means the development issuer in `.data/dev-issuer/`. */
  keys: CallerKeySource;
  /** AUTH_CLOCK_SKEW_SECONDS: tolerated difference with the issuer's clock (default 30). */
  clockSkewSeconds: number;
}

/** The gateway's own key for its tokens to subgraphs: a file, generated for development, or given (tests). */
export type GatewaySigningKeySource = { source: 'file'; file: string } | { source: 'generated'; dir: string } | { source: 'key'; key: SigningKey };

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
  /** WEBHOOK_*: where webhook state lives and how deliveries are retried (webhooks/config.ts). */
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

function loadCallerTokenSettings(env: NodeJS.ProcessEnv): CallerTokenSettings {
  const skew = Number(env.AUTH_CLOCK_SKEW_SECONDS ?? 30);
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) throw new Error('AUTH_CLOCK_SKEW_SECONDS must be an integer from 0 to 300.');
  const { AUTH_ISSUER: issuer, AUTH_JWKS_URL: url, AUTH_JWKS_FILE: file } = env;
  if (!issuer && !url && !file)
    return { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, keys: { source: 'dev-issuer', dir: DEV_ISSUER_DIR }, clockSkewSeconds: skew };
  const audience = env.AUTH_AUDIENCE || DEV_AUDIENCE;
  if (!issuer) throw new Error('AUTH_ISSUER is required with AUTH_JWKS_URL or AUTH_JWKS_FILE.');
  if (!url === !file) throw new Error('With AUTH_ISSUER, set exactly one of AUTH_JWKS_URL and AUTH_JWKS_FILE.');
  return { issuer, audience, keys: url ? { source: 'url', url } : { source: 'file', file: file! }, clockSkewSeconds: skew };
}
