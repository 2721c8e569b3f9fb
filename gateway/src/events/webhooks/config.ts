import { join } from 'node:path';
import { repositoryRoot } from '@ketengraph/service-kit';

/** Webhook storage and delivery settings; see the README's configuration table. */
export interface WebhookConfig {
  /** WEBHOOK_DATABASE_URL: PostgreSQL connection URL (shared by gateway instances); unset means the embedded database in `dataDir`. */
  databaseUrl: string | undefined;
  /** WEBHOOK_DATA_DIR: directory of the embedded PGlite database (default `.data/gateway-webhooks`). */
  dataDir: string;
  /** WEBHOOK_MAX_ATTEMPTS: attempts per event before it becomes a dead letter (default 8). */
  maxAttempts: number;
  /** WEBHOOK_RETRY_BASE_MS: delay before the first retry; doubles per attempt, with jitter (default 5000). */
  retryBaseMs: number;
  /** WEBHOOK_RETRY_MAX_MS: longest delay between two attempts (default 1 hour). */
  retryMaxMs: number;
  /** WEBHOOK_TIMEOUT_MS: how long a receiver may take to answer (default 10000). */
  timeoutMs: number;
  /** WEBHOOK_POLL_MS: how often an instance looks for due deliveries when nothing woke it (default 1000). */
  pollMs: number;
  /** WEBHOOK_SECRET_OVERLAP_HOURS: how long the previous secret keeps signing after a rotation (default 24). */
  secretOverlapHours: number;
  /** WEBHOOK_ALLOW_HTTP: accept http:// receiver URLs (default: yes, except with NODE_ENV=production). */
  allowHttp: boolean;
  /**
   * WEBHOOK_ALLOW_PRIVATE_ADDRESSES: let receivers be on loopback, private or link-local addresses
   * (default: yes, except with NODE_ENV=production, where a registration must not make the
   * gateway call into its own network or a cloud metadata service).
   */
  allowPrivateAddresses: boolean;
}

/** The folder of the webhook database's migrations (Prisma's layout, applied by the kit's migrator). */
export const WEBHOOK_MIGRATIONS_DIR = join(repositoryRoot, 'gateway', 'webhook-migrations');
