/**
 * Every environment variable the gateway reads, declared once: its type, its default, and the
 * closed default under NODE_ENV=production (the security defaults, all here). `loadGatewayConfig`
 * reads them with one `readEnv` call; the README's configuration table is checked against them.
 */
import { COMMON_ENV, type EnvSpec, envSchema, envVariable, optionalEnvVariable } from '@ketengraph/service-kit';
import { SUBGRAPHS } from '../../../schema/subgraphs.js';

/** Open in development, closed under NODE_ENV=production unless set. */
const openInDevelopment = (production: boolean) => !production;
const DEVELOPMENT_ONLY = '`true`; `false` with `NODE_ENV=production`';
const integer = (min: number, max: number | undefined, fallback: number) => envVariable(envSchema.integer(min, max), fallback, `\`${fallback}\``);

export function envNameOf(subgraph: string): string {
  return `${subgraph.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** Routing overrides for the subgraphs' URLs in the supergraph (e.g. PLAATSING_URL). */
export const SUBGRAPH_URL_ENV: EnvSpec = Object.fromEntries(
  SUBGRAPHS.map(({ name }) => [envNameOf(name), optionalEnvVariable(envSchema.url(), 'URLs in the supergraph')]),
);

export const AUDIT_ENV = {
  AUDIT_DATABASE_URL: optionalEnvVariable(envSchema.postgresUrl()),
  AUDIT_DATA_DIR: optionalEnvVariable(envSchema.text(), '`.data/gateway-audit`'),
  AUDIT_SEAL_KEY_FILE: optionalEnvVariable(envSchema.text(), 'generated `.data/audit-seal-key` (required with `NODE_ENV=production`)'),
  AUDIT_CHECKPOINT_FILE: optionalEnvVariable(envSchema.text(), 'beside the embedded database'),
  AUDIT_CHECKPOINT_INTERVAL_MS: integer(1000, undefined, 60_000),
} satisfies EnvSpec;

export const GATEWAY_ENV = {
  ...COMMON_ENV,
  PORT: envVariable(envSchema.port(), 4000, '4000'),
  HOST: envVariable(envSchema.text(), '127.0.0.1', '`127.0.0.1`'),
  SUPERGRAPH_FILE: optionalEnvVariable(envSchema.text(), '`schema/supergraph.graphql`'),
  MAX_BODY_BYTES: integer(1, undefined, 1_000_000),
  // Callers' tokens: unset, the development issuer (refused under NODE_ENV=production when the gateway starts).
  AUTH_ISSUER: optionalEnvVariable(envSchema.text(), 'development issuer'),
  AUTH_JWKS_URL: optionalEnvVariable(envSchema.url()),
  AUTH_JWKS_FILE: optionalEnvVariable(envSchema.text()),
  AUTH_AUDIENCE: optionalEnvVariable(envSchema.text(), '`ketengraph`'),
  AUTH_CLOCK_SKEW_SECONDS: integer(0, 300, 30),
  AUTHORIZATION_MODE: envVariable(envSchema.oneOf(['filter', 'reject']), 'filter', '`filter`'),
  GATEWAY_SIGNING_KEY_FILE: optionalEnvVariable(envSchema.text(), 'generated in `.data/gateway-keys/` (not in production)'),
  ...AUDIT_ENV,
  WEBHOOK_DATABASE_URL: optionalEnvVariable(envSchema.postgresUrl()),
  WEBHOOK_DATA_DIR: optionalEnvVariable(envSchema.text(), '`.data/gateway-webhooks`'),
  WEBHOOK_MAX_ATTEMPTS: integer(1, 100, 8),
  WEBHOOK_RETRY_BASE_MS: integer(1, 3_600_000, 5000),
  WEBHOOK_RETRY_MAX_MS: integer(1, 86_400_000, 3_600_000),
  WEBHOOK_TIMEOUT_MS: integer(100, 120_000, 10_000),
  WEBHOOK_POLL_MS: integer(10, 60_000, 1000),
  WEBHOOK_SECRET_OVERLAP_HOURS: integer(0, 720, 24),
  WEBHOOK_ALLOW_HTTP: envVariable(envSchema.flag(), openInDevelopment, DEVELOPMENT_ONLY),
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: envVariable(envSchema.flag(), openInDevelopment, DEVELOPMENT_ONLY),
  EXPLORER_ENABLED: envVariable(envSchema.flag(), openInDevelopment, DEVELOPMENT_ONLY),
  EVENT_POLL_INTERVAL_MS: integer(10, 60_000, 250),
  HANDOVER_RELAY: envVariable(envSchema.flag(), true, '`on`'),
  HANDOVER_RELAY_INTERVAL_MS: integer(10, 600_000, 1000),
  HANDOVER_RELAY_MAX_BACKOFF_MS: integer(10, 3_600_000, 30_000),
  SUPERGRAPH_POLL_MS: integer(0, undefined, 1000),
  SHUTDOWN_GRACE_MS: integer(0, undefined, 15_000),
  SUBGRAPH_TIMEOUT_MS: integer(1, undefined, 10_000),
  SUBGRAPH_RETRIES: integer(0, undefined, 2),
  SUBGRAPH_RETRY_DELAY_MS: integer(1, undefined, 50),
  SUBGRAPH_BREAKER_FAILURES: integer(1, undefined, 5),
  SUBGRAPH_BREAKER_HALF_OPEN_MS: integer(1, undefined, 5000),
  SUBGRAPH_MAX_RESPONSE_BYTES: integer(1, undefined, 20_000_000),
  MAX_DEPTH: integer(1, undefined, 15),
  MAX_ALIASES: integer(0, undefined, 30),
  MAX_TOKENS: integer(1, undefined, 4000),
  MAX_DIRECTIVES: integer(0, undefined, 30),
  MAX_COST: integer(1, undefined, 500_000),
  MAX_LIST_SIZE: integer(1, undefined, 100),
  MAX_BATCH_SIZE: integer(1, undefined, 10),
  INTROSPECTION: envVariable(envSchema.flag(), openInDevelopment, DEVELOPMENT_ONLY),
  FIELD_SUGGESTIONS: envVariable(envSchema.flag(), openInDevelopment, DEVELOPMENT_ONLY),
  TRUSTED_DOCUMENTS: envVariable(envSchema.flag(), (production) => production, '`false`; `true` with `NODE_ENV=production`'),
  TRUSTED_DOCUMENTS_FILE: optionalEnvVariable(envSchema.text(), '`gateway/src/admission/trusted-documents/generated/manifest.json`'),
  AUTOMATIC_PERSISTED_QUERIES: envVariable(envSchema.flag(), false, '`false`'),
  RATE_LIMIT_PER_SECOND: integer(0, undefined, 100),
  RATE_LIMIT_BURST: integer(0, undefined, 300),
  RATE_LIMIT_BURST_SECONDS: integer(1, undefined, 10),
} satisfies EnvSpec;
