/**
 * `npm run seed -- --patients N [--seed S]`: regenerates every subgraph's database with N
 * synthetic patients (stop `npm start` first: an embedded database has one owner at a time).
 * Uses the same database configuration as `npm start` (<SUBGRAPH>_DATABASE_URL / _DATA_DIR).
 * Regenerating means starting from an empty database (append-only tables refuse TRUNCATE by
 * design), so this is a development and benchmark tool and refuses to run in production.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SEED } from '@ketengraph/seed-data';
import { loadSubgraphConfig, openDatabase, openSubgraphDatabase, type SubgraphModule } from '@ketengraph/service-kit';
import { SUBGRAPHS } from '../schema/subgraphs.js';
import { databaseName, embeddedDatabaseConfig, startEmbeddedPostgres } from './embedded-postgres.js';

const { values } = parseArgs({
  options: { patients: { type: 'string', default: '2000' }, seed: { type: 'string', default: String(DEFAULT_SEED) }, only: { type: 'string' } },
});
const patients = Number(values.patients);
const seed = Number(values.seed);
if (!Number.isInteger(patients) || patients < 1 || patients > 90_000) throw new Error('--patients must be 1..90000');
if (process.env.NODE_ENV === 'production') throw new Error('npm run seed replaces all data; it does not run with NODE_ENV=production.');

const prefixOf = (name: string) => name.toUpperCase().replaceAll('-', '_');

const modules: Record<string, () => Promise<SubgraphModule<never, never>>> = {
  indicatiestelling: async () => (await import('@ketengraph/indicatiestelling')).indicatiestelling as never,
  plaatsing: async () => (await import('@ketengraph/plaatsing')).plaatsing as never,
  'forensisch-cv': async () => (await import('@ketengraph/forensisch-cv')).forensischCv as never,
  kwaliteit: async () => (await import('@ketengraph/kwaliteit')).kwaliteit as never,
};

// Each subgraph seeds in its own process (an embedded database is single-threaded), as many at a time as there are cores.
if (!values.only) {
  // As `npm start` keeps them: a database per subgraph on the embedded PostgreSQL server unless configured otherwise.
  const embedded = embeddedDatabaseConfig();
  const server =
    embedded.engine === 'postgres' && SUBGRAPHS.some(({ name }) => !process.env[`${prefixOf(name)}_DATABASE_URL`] && !process.env[`${prefixOf(name)}_DATA_DIR`])
      ? await startEmbeddedPostgres(embedded)
      : undefined;
  for (const { name } of SUBGRAPHS) {
    if (!server || process.env[`${prefixOf(name)}_DATABASE_URL`] || process.env[`${prefixOf(name)}_DATA_DIR`]) continue;
    await server.ensureDatabase(databaseName(name));
    process.env[`${prefixOf(name)}_DATABASE_URL`] = server.url(databaseName(name));
  }
  const queue = SUBGRAPHS.map((s) => s.name);
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const args = [fileURLToPath(import.meta.url), '--patients', String(patients), '--seed', String(seed), '--only', name];
      const code = await new Promise<number | null>((resolve) =>
        spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' }).on('exit', resolve),
      );
      if (code !== 0) throw new Error(`seeding ${name} failed`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(availableParallelism(), SUBGRAPHS.length) }, worker));
  } finally {
    await server?.stop();
  }
  process.exit(0);
}

for (const { name, port } of SUBGRAPHS.filter((s) => s.name === values.only)) {
  const started = Date.now();
  const module = await modules[name]!();
  const prefix = prefixOf(name);
  const config = loadSubgraphConfig(name, port, {
    DATABASE_URL: process.env[`${prefix}_DATABASE_URL`],
    ...(process.env[`${prefix}_DATA_DIR`] ? { DATA_DIR: process.env[`${prefix}_DATA_DIR`] } : {}),
  });
  if (config.databaseUrl) {
    const empty = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    await empty.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    await empty.close();
  } else {
    rmSync(config.dataDir, { recursive: true, force: true });
  }
  // Seeds while creating (an embedded one aside, moved into place when complete).
  const { db, prisma } = await openSubgraphDatabase(module, { ...config, seedPatients: patients, seed });
  await (prisma as { $disconnect(): Promise<void> }).$disconnect();
  await db.close();
  console.log(`${name}: seeded ${patients} patients in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
