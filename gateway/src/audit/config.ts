import { join } from 'node:path';
import { repositoryRoot } from '@ketengraph/service-kit';

/** Where the gateway's audit log lives; see the README's configuration table. */
export interface AuditConfig {
  /** AUDIT_DATABASE_URL: PostgreSQL connection URL; unset means the embedded database in `dataDir`. */
  databaseUrl: string | undefined;
  /** AUDIT_DATA_DIR: directory of the embedded PGlite database (default `.data/gateway-audit`). */
  dataDir: string;
}

export function loadAuditConfig(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  return {
    databaseUrl: env.AUDIT_DATABASE_URL || undefined,
    dataDir: env.AUDIT_DATA_DIR || join(repositoryRoot, '.data', 'gateway-audit'),
  };
}

/** The folder of the audit log's migrations (Prisma's layout, applied by the kit's migrator). */
export const AUDIT_MIGRATIONS_DIR = join(repositoryRoot, 'gateway', 'audit-migrations');
