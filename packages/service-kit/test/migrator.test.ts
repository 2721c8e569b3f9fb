import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationDriftError, migrate, openDatabase, type Database } from '@ketengraph/service-kit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let db: Database;
let dir: string;
let schemas = 0;

// One embedded database for the file (starting PGlite is the slow part); each test gets an
// empty schema of its own on the search path, so tables and the history table start afresh.
beforeAll(async () => {
  db = await openDatabase({ dataDir: 'memory://' });
});

afterAll(async () => {
  await db?.close();
});

beforeEach(async () => {
  const schema = `test_${++schemas}`;
  await db.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";`);
  dir = mkdtempSync(join(tmpdir(), 'ketengraph-migrations-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeMigration(name: string, sql: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'migration.sql'), sql);
}

async function tableExists(name: string): Promise<boolean> {
  const rows = await db.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS "exists"`, [`"${name}"`]);
  return rows[0]!.exists;
}

async function appliedNames(): Promise<string[]> {
  return (await db.query<{ name: string }>(`SELECT "name" FROM "_ketengraph_migrations" ORDER BY "applied_at", "name"`)).map((row) => row.name);
}

describe('migrate', () => {
  it('applies migrations in name order, whatever order they were written in', async () => {
    // The second migration depends on the first; written to disk first so directory order is no help.
    writeMigration('20260102000000_add_column', `ALTER TABLE "Thing" ADD COLUMN "label" TEXT NOT NULL DEFAULT 'x';`);
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY);`);
    writeMigration('20260103000000_seed', `INSERT INTO "Thing" ("id") VALUES ('a');`);
    mkdirSync(join(dir, 'not_a_migration')); // a folder without migration.sql is ignored

    expect(await migrate(db, dir)).toEqual(['20260101000000_init', '20260102000000_add_column', '20260103000000_seed']);
    expect(await db.query(`SELECT "id", "label" FROM "Thing"`)).toEqual([{ id: 'a', label: 'x' }]);
    expect(await appliedNames()).toEqual(['20260101000000_init', '20260102000000_add_column', '20260103000000_seed']);
  });

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY); INSERT INTO "Thing" VALUES ('a');`);
    await migrate(db, dir);
    expect(await migrate(db, dir)).toEqual([]);
    expect(await db.query(`SELECT count(*)::int AS n FROM "Thing"`)).toEqual([{ n: 1 }]);
    expect(await appliedNames()).toEqual(['20260101000000_init']);
  });

  it('applies only the new migrations on a later run', async () => {
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY);`);
    await migrate(db, dir);
    writeMigration('20260102000000_other', `CREATE TABLE "Other" ("id" TEXT PRIMARY KEY);`);
    expect(await migrate(db, dir)).toEqual(['20260102000000_other']);
    expect(await tableExists('Other')).toBe(true);
  });

  it('rolls a failing migration back completely and surfaces the error', async () => {
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY);`);
    writeMigration(
      '20260102000000_broken',
      `CREATE TABLE "Half" ("id" TEXT PRIMARY KEY);
INSERT INTO "Thing" ("id") VALUES ('written-before-the-fault');
INSERT INTO "NoSuchTable" ("id") VALUES ('x');`,
    );
    writeMigration('20260103000000_after', `CREATE TABLE "After" ("id" TEXT PRIMARY KEY);`);

    await expect(migrate(db, dir)).rejects.toThrow(/NoSuchTable/);
    expect(await tableExists('Thing')).toBe(true);
    expect(await tableExists('Half')).toBe(false);
    expect(await tableExists('After')).toBe(false);
    expect(await db.query(`SELECT * FROM "Thing"`)).toEqual([]);
    expect(await appliedNames()).toEqual(['20260101000000_init']);

    // The connection is usable again, and a fixed migration applies on the next start.
    writeMigration('20260102000000_broken', `CREATE TABLE "Half" ("id" TEXT PRIMARY KEY);`);
    expect(await migrate(db, dir)).toEqual(['20260102000000_broken', '20260103000000_after']);
    expect(await tableExists('Half')).toBe(true);
  });

  it('refuses a migration that was changed after it was applied', async () => {
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY);`);
    await migrate(db, dir);
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY, "extra" TEXT);`);
    writeMigration('20260102000000_next', `CREATE TABLE "Next" ("id" TEXT PRIMARY KEY);`);
    const error = await migrate(db, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationDriftError);
    expect((error as Error).message).toMatch(/20260101000000_init.*checksum/);
    expect(await tableExists('Next')).toBe(false);
  });

  it('refuses a database with an applied migration that no longer exists as a file', async () => {
    writeMigration('20260101000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY);`);
    writeMigration('20260102000000_gone', `CREATE TABLE "Gone" ("id" TEXT PRIMARY KEY);`);
    await migrate(db, dir);
    rmSync(join(dir, '20260102000000_gone'), { recursive: true });
    await expect(migrate(db, dir)).rejects.toBeInstanceOf(MigrationDriftError);
  });

  it('refuses a new migration slipped in before one already applied', async () => {
    writeMigration('20260102000000_init', `CREATE TABLE "Thing" ("id" TEXT PRIMARY KEY);`);
    await migrate(db, dir);
    writeMigration('20260101000000_earlier', `CREATE TABLE "Earlier" ("id" TEXT PRIMARY KEY);`);
    await expect(migrate(db, dir)).rejects.toBeInstanceOf(MigrationDriftError);
    expect(await tableExists('Earlier')).toBe(false);
  });

  it('treats a missing migrations folder as no migrations', async () => {
    expect(await migrate(db, join(dir, 'absent'))).toEqual([]);
  });
});
