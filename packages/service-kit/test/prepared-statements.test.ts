/**
 * On PostgreSQL, `read` and `query(…, { prepared: true })` use named prepared statements: the
 * server plans each fixed text once per connection. Values stay bound parameters, so one text is
 * one statement whatever the values; `pgbouncer=true` in the URL turns names off (a PgBouncer in
 * transaction mode before 1.21 cannot carry them). Needs TEST_DATABASE_URL (`.ci/run` sets it).
 */
import { openDatabase, type Database } from '@ketengraph/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabases, postgresUrl } from '../../../test/support/postgres.js';

const PATIENT = { text: 'SELECT "id", "name" FROM "patient" WHERE "id" = ANY($1) ORDER BY "id"', values: [] as unknown[] };
const read = (db: Database, ids: string[]) => db.read<{ id: string; name: string }>({ ...PATIENT, values: [ids] });
/** The statements this session has prepared (a pool of one connection: always the same session). */
const prepared = (db: Database) => db.query<{ name: string; statement: string }>('SELECT "name", "statement" FROM pg_prepared_statements');

describe.skipIf(!postgresUrl)('prepared statements on PostgreSQL', () => {
  let drop: () => Promise<void>;
  let url: string;
  const opened: Database[] = [];
  const open = async (at: string) => {
    const db = await openDatabase({ url: at, dataDir: 'unused', poolSize: 1 });
    opened.push(db);
    await db.exec(`CREATE TABLE IF NOT EXISTS "patient" ("id" TEXT PRIMARY KEY, "name" TEXT NOT NULL);
      INSERT INTO "patient" VALUES ('a', 'Jansen'), ('b', 'de Vries'), ('c', 'Bakker') ON CONFLICT DO NOTHING;`);
    return db;
  };

  beforeAll(async () => {
    const databases = await createDatabases(['prepared'] as const);
    drop = databases.drop;
    url = databases.urls.prepared;
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    await drop?.();
  });

  it('prepares a read once, whatever its values, and answers as an unnamed statement does', async () => {
    const db = await open(url);
    expect(await read(db, ['a', 'c'])).toEqual([
      { id: 'a', name: 'Jansen' },
      { id: 'c', name: 'Bakker' },
    ]);
    expect(await read(db, ['b'])).toEqual([{ id: 'b', name: 'de Vries' }]);
    expect(await read(db, ["b') OR true --"])).toEqual([]);
    const statements = (await prepared(db)).filter((s) => s.statement === PATIENT.text);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.name).toMatch(/^ketengraph_[0-9a-f]{24}$/);
    expect(await db.query('SELECT "name" FROM "patient" WHERE "id" = $1', ['a'])).toEqual([{ name: 'Jansen' }]);
    await db.query('SELECT "id" FROM "patient" WHERE "name" = $1', ['Bakker'], { prepared: true });
    const texts = (await prepared(db)).map((s) => s.statement);
    expect(texts).toContain('SELECT "id" FROM "patient" WHERE "name" = $1');
    expect(texts).not.toContain('SELECT "name" FROM "patient" WHERE "id" = $1');
  });

  it('prepares nothing with pgbouncer=true', async () => {
    const behindPgBouncer = new URL(url);
    behindPgBouncer.searchParams.set('pgbouncer', 'true');
    const db = await open(behindPgBouncer.href);
    expect(await read(db, ['a'])).toEqual([{ id: 'a', name: 'Jansen' }]);
    await db.query('SELECT "id" FROM "patient" WHERE "name" = $1', ['Bakker'], { prepared: true });
    expect(await prepared(db)).toEqual([]);
  });
});
