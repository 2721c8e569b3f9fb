/**
 * Fresh PostgreSQL databases for tests, one per subgraph, on the server given by
 * TEST_DATABASE_URL (`.ci/run` starts one). Dropped again by `drop()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const postgresUrl = process.env.TEST_DATABASE_URL;

export async function createDatabases<Name extends string>(names: readonly Name[]): Promise<{ urls: Record<Name, string>; drop(): Promise<void> }> {
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const suffix = randomBytes(4).toString('hex');
  const urls = {} as Record<Name, string>;
  const created: string[] = [];
  for (const name of names) {
    const database = `ketengraph_${name.replaceAll('-', '_')}_${suffix}`;
    await admin.query(`CREATE DATABASE ${database}`);
    created.push(database);
    const url = new URL(postgresUrl);
    url.pathname = `/${database}`;
    urls[name] = url.href;
  }
  return {
    urls,
    drop: async () => {
      for (const database of created) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}
