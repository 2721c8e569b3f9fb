import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDatabase } from './database.js';

/**
 * Applies the SQL migrations of `prisma/migrations/<name>/migration.sql` in name order (Prisma's
 * layout, so `prisma migrate diff` output drops straight in). Each migration runs in its own
 * transaction together with its row in `_ketengraph_migrations`. The migrator refuses a database
 * whose history is not a prefix of the files: a migration edited after it was applied, or one
 * applied that no longer exists, means the code and the database disagree about the schema.
 */
export class MigrationDriftError extends Error {
  override name = 'MigrationDriftError';
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(migrationsDir: string): MigrationFile[] {
  if (!existsSync(migrationsDir)) return [];
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Applies pending migrations; returns the names applied now. Idempotent. */
export async function migrate(db: SqlDatabase, migrationsDir: string): Promise<string[]> {
  const files = readMigrations(migrationsDir);
  await db.exec(`CREATE TABLE IF NOT EXISTS "_ketengraph_migrations" (
    "name" TEXT PRIMARY KEY,
    "checksum" TEXT NOT NULL,
    "applied_at" TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
  const applied = await db.query<{ name: string; checksum: string }>(`SELECT "name", "checksum" FROM "_ketengraph_migrations" ORDER BY "name"`);
  applied.forEach((row, i) => {
    const file = files[i];
    if (!file || file.name !== row.name) {
      throw new MigrationDriftError(
        `Database has migration ${row.name} applied, but the migration files ${file ? `have ${file.name} in its place` : 'do not contain it'}. Refusing to start.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationDriftError(
        `Migration ${row.name} was changed after it was applied (checksum differs). Refusing to start; add a new migration instead.`,
      );
    }
  });
  const pending = files.slice(applied.length);
  for (const file of pending) {
    // A lock keeps two instances starting against one PostgreSQL from applying the same file twice;
    // the insert's primary key makes the loser's transaction fail instead of double-applying.
    await db
      .exec(`BEGIN;
${db.kind === 'postgres' ? `SELECT pg_advisory_xact_lock(727274);` : ''}
${file.sql}
;
INSERT INTO "_ketengraph_migrations" ("name", "checksum") VALUES ('${file.name.replaceAll("'", "''")}', '${file.checksum}');
COMMIT;`)
      .catch(async (error: unknown) => {
        await db.exec('ROLLBACK').catch(() => undefined);
        throw error;
      });
  }
  return pending.map((file) => file.name);
}
