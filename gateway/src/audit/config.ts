import { join } from 'node:path';
import { dataRoot, repositoryRoot } from '@ketengraph/service-kit';
import { loadSealKey, type AuditAnchor } from './anchor.js';

/** Where the seal key is read from (when the log opens, so a missing production key stops the start, not the config). */
export interface AnchorConfig {
  /** AUDIT_SEAL_KEY_FILE; unset: a generated development key (refused in production). */
  keyFile: string | undefined;
  production: boolean;
  checkpointFile: string | null;
  checkpointIntervalMs: number;
}

/** Where the gateway's audit log lives; see the README's configuration table. */
export interface AuditConfig {
  /** AUDIT_DATABASE_URL: PostgreSQL connection URL; unset means the embedded database in `dataDir`. */
  databaseUrl: string | undefined;
  /** AUDIT_DATA_DIR: directory of the embedded PGlite database (default `.data/gateway-audit`). */
  dataDir: string;
  /** Seal key and checkpoints (anchor.ts); absent only where a test builds a log without them. */
  anchor?: AnchorConfig;
}

export const DEVELOPMENT_SEAL_KEY_FILE = join(dataRoot, 'audit-seal-key');

/** Reads the seal key the configuration names. */
export function resolveAnchor(config: AnchorConfig): AuditAnchor {
  return {
    key: loadSealKey(config.keyFile, DEVELOPMENT_SEAL_KEY_FILE, config.production),
    checkpointFile: config.checkpointFile,
    checkpointIntervalMs: config.checkpointIntervalMs,
  };
}

/** The folder of the audit log's migrations (Prisma's layout, applied by the kit's migrator). */
export const AUDIT_MIGRATIONS_DIR = join(repositoryRoot, 'gateway', 'audit-migrations');
