import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repositoryRoot } from '@ketengraph/service-kit';
import { graphql } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabases, postgresUrl } from '../../test/support/postgres.js';
import { readCheckpoints } from '../src/audit/anchor.js';
import { canonicalJson, chainHash } from '../src/audit/chain.js';
import { resolveAnchor } from '../src/audit/config.js';
import { AuditInputError, AuditLog, createAuditSchema, GENESIS_HASH, verifyAuditChain, type AuditRecordInput } from '../src/audit/index.js';
import { loadAuditConfig } from '../src/config/index.js';

let clock = Date.UTC(2026, 10, 22, 9, 0, 0);
function record(overrides: Partial<AuditRecordInput> = {}): AuditRecordInput {
  clock += 1000;
  return {
    eventId: randomUUID(),
    occurredAt: new Date(clock),
    action: 'read',
    patientId: 'patient-1',
    userId: 'user-1',
    organisationId: 'dji-forzo',
    role: 'plaatser',
    purpose: 'plaatsing',
    fieldsDelivered: ['Patient.bsn', 'Patient.name'],
    categoriesDelivered: ['identity'],
    fieldsWithheld: ['Trajectory.diagnoses'],
    categoriesWithheld: ['medical'],
    outcome: 'partially_granted',
    requestId: randomUUID(),
    operationName: 'PatientTrajectory',
    ...overrides,
  };
}

async function sequenceOrder(log: AuditLog): Promise<string[]> {
  return (await log.db.query<{ event_id: string }>(`SELECT "event_id" FROM "audit_record" ORDER BY "sequence"`)).map((row) => row.event_id);
}

/** Runs a statement with the append-only triggers off: the test forging tampering, as only a database owner could. */
async function tamper(log: AuditLog, sql: string): Promise<void> {
  await log.db.exec(`ALTER TABLE "audit_record" DISABLE TRIGGER USER; ${sql}; ALTER TABLE "audit_record" ENABLE TRIGGER USER;`);
}

const backends: { name: string; skip: boolean; fresh: () => Promise<AuditLog> }[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

backends.push({
  name: 'embedded PGlite',
  skip: false,
  fresh: async () => {
    const log = await AuditLog.open({ databaseUrl: undefined, dataDir: 'memory://' });
    cleanups.push(() => log.close().catch(() => undefined));
    return log;
  },
});
let pgCounter = 0;
backends.push({
  name: 'PostgreSQL',
  skip: !postgresUrl,
  fresh: async () => {
    const { urls, drop } = await createDatabases([`audit${pgCounter++}`]);
    const log = await AuditLog.open({ databaseUrl: Object.values<string>(urls)[0], dataDir: 'unused' });
    cleanups.push(async () => {
      await log.close().catch(() => undefined);
      await drop();
    });
    return log;
  },
});

describe('canonical JSON of a record', () => {
  it('is exactly JSON.stringify of the record in the documented key order (chain.ts), also for nulls, quotes and non-ASCII text', () => {
    const shared = ['Patient.name', 'Query.placementChanges'];
    for (const overrides of [
      {},
      { patientId: null, purpose: null, operationName: null, fieldsWithheld: [], categoriesWithheld: [] },
      { userId: 'Zoë "de" Vries\\\n\u2028', organisationId: 'ggz-🦉', requestId: 'a:b:c' },
      { fieldsDelivered: shared, fieldsWithheld: shared },
    ]) {
      const r = record(overrides);
      const expected = JSON.stringify({
        sequence: 9_007_199_254,
        eventId: r.eventId,
        occurredAt: r.occurredAt.toISOString(),
        action: r.action,
        patientId: r.patientId,
        userId: r.userId,
        organisationId: r.organisationId,
        role: r.role,
        purpose: r.purpose,
        fieldsDelivered: r.fieldsDelivered,
        categoriesDelivered: r.categoriesDelivered,
        fieldsWithheld: r.fieldsWithheld,
        categoriesWithheld: r.categoriesWithheld,
        outcome: r.outcome,
        requestId: r.requestId,
        operationName: r.operationName,
      });
      expect(canonicalJson(9_007_199_254, r)).toBe(expected);
      expect(canonicalJson(9_007_199_254, r)).toBe(expected); // the second time from the lists' cache
    }
  });
});

describe.each(backends)('audit log on $name', ({ fresh, skip }) => {
  it.skipIf(skip)('appends records that verify as one chain from the genesis hash', async () => {
    const log = await fresh();
    expect(await log.verify()).toEqual({ ok: true, count: 0, head: { sequence: 0, hash: GENESIS_HASH } });
    await log.append([record()]);
    await log.append([record(), record({ patientId: null, action: 'search', outcome: 'granted', fieldsWithheld: [], categoriesWithheld: [] })]);
    await log.append([]);
    const result = await log.verify({ pageSize: 2 });
    expect(result).toMatchObject({ ok: true, count: 3, head: { sequence: 3 } });
    const [first] = await log.db.query<{ previous_hash: string; purpose: string }>(`SELECT * FROM "audit_record" WHERE "sequence" = 1`);
    expect(first?.previous_hash).toBe(GENESIS_HASH);
  });

  it.skipIf(skip)('keeps the order of a batch, and keeps each request contiguous under concurrent appends', async () => {
    const log = await fresh();
    const batch = Array.from({ length: 7 }, () => record());
    await log.append(batch);
    expect(await sequenceOrder(log)).toEqual(batch.map((r) => r.eventId));

    const requests = Array.from({ length: 60 }, () => Array.from({ length: 3 }, () => record()));
    await Promise.all(requests.map((records) => log.append(records)));
    const order = await sequenceOrder(log);
    for (const records of requests) {
      const start = order.indexOf(records[0]!.eventId);
      expect(order.slice(start, start + 3)).toEqual(records.map((r) => r.eventId));
    }
    expect(await log.verify()).toMatchObject({ ok: true, count: 7 + 180 });
  });

  it.skipIf(skip)('refuses UPDATE, DELETE, TRUNCATE and rows that do not extend the chain', async () => {
    const log = await fresh();
    await log.append([record(), record()]);
    await expect(log.db.query(`UPDATE "audit_record" SET "purpose" = 'beleid' WHERE "sequence" = 1`)).rejects.toThrow(/append-only/);
    await expect(log.db.query(`DELETE FROM "audit_record" WHERE "sequence" = 2`)).rejects.toThrow(/append-only/);
    await expect(log.db.query(`TRUNCATE "audit_record"`)).rejects.toThrow(/append-only/);
    const forged = `INSERT INTO "audit_record" ("sequence", "event_id", "occurred_at", "action", "user_id", "organisation_id", "role",
      "fields_delivered", "categories_delivered", "fields_withheld", "categories_withheld", "outcome", "request_id", "previous_hash", "hash")
      VALUES ($1, gen_random_uuid(), now(), 'read', 'u', 'o', 'r', '{}', '{}', '{}', '{}', 'granted', 'x', $2, $2)`;
    await expect(log.db.query(forged, [3, GENESIS_HASH])).rejects.toThrow(/does not extend the chain/);
    await expect(log.db.query(forged, [10, GENESIS_HASH])).rejects.toThrow(/does not extend the chain/);
    // Several rows in one statement (as the log writes a batch): each must chain from the one before it, without gaps.
    const [head] = await log.db.query<{ hash: string }>(`SELECT "hash" FROM "audit_record" WHERE "sequence" = 2`);
    const next = 'a'.repeat(64);
    const forgedPair = `INSERT INTO "audit_record" ("sequence", "event_id", "occurred_at", "action", "user_id", "organisation_id", "role",
      "fields_delivered", "categories_delivered", "fields_withheld", "categories_withheld", "outcome", "request_id", "previous_hash", "hash")
      VALUES (3, gen_random_uuid(), now(), 'read', 'u', 'o', 'r', '{}', '{}', '{}', '{}', 'granted', 'x', $1, $2),
             ($3, gen_random_uuid(), now(), 'read', 'u', 'o', 'r', '{}', '{}', '{}', '{}', 'granted', 'x', $4, $4)`;
    await expect(log.db.query(forgedPair, [head!.hash, next, 4, GENESIS_HASH])).rejects.toThrow(/audit_record 4 does not extend the chain/);
    await expect(log.db.query(forgedPair, [head!.hash, next, 5, next])).rejects.toThrow(/audit_record 5 does not extend the chain/);
    await expect(log.db.query(forgedPair, [GENESIS_HASH, next, 4, next])).rejects.toThrow(/audit_record 3 does not extend the chain/);
    // Hashes and seals are exactly 64 lowercase hex digits (a shorter value is not padded into passing).
    const withHash = `INSERT INTO "audit_record" ("sequence", "event_id", "occurred_at", "action", "user_id", "organisation_id", "role",
      "fields_delivered", "categories_delivered", "fields_withheld", "categories_withheld", "outcome", "request_id", "previous_hash", "hash", "seal")
      VALUES (3, gen_random_uuid(), now(), 'read', 'u', 'o', 'r', '{}', '{}', '{}', '{}', 'granted', 'x', $1, $2, $3)`;
    for (const [hash, seal] of [
      ['A'.repeat(64), null],
      ['a'.repeat(63), null],
      [`${'a'.repeat(63)} `, null],
      [next, 'b'.repeat(63)],
      [next, 'g'.repeat(64)],
    ])
      await expect(log.db.query(withHash, [head!.hash, hash, seal]), `${hash} ${seal}`).rejects.toThrow(/check constraint/);
    expect(await log.verify()).toMatchObject({ ok: true, count: 2 });
  });

  it.skipIf(skip)('names the first tampered record: edited content, deleted row, re-hashed row', async () => {
    const edited = await fresh();
    const records = Array.from({ length: 5 }, () => record());
    await edited.append(records);
    await tamper(edited, `UPDATE "audit_record" SET "purpose" = 'beleid' WHERE "sequence" = 3`);
    expect(await verifyAuditChain(edited.db, { pageSize: 2 })).toEqual({
      ok: false,
      count: 2,
      sequence: 3,
      eventId: records[2]!.eventId,
      reason: 'hash mismatch',
    });

    const deleted = await fresh();
    await deleted.append(records.map((r) => ({ ...r, eventId: randomUUID() })));
    const [fourth] = await deleted.db.query<{ event_id: string }>(`SELECT "event_id" FROM "audit_record" WHERE "sequence" = 4`);
    await tamper(deleted, `DELETE FROM "audit_record" WHERE "sequence" = 3`);
    expect(await deleted.verify()).toEqual({ ok: false, count: 2, sequence: 4, eventId: fourth!.event_id, reason: 'gap in sequence' });

    // A forger who also recomputes the edited row's hash breaks the link to the next row.
    const rehashed = await fresh();
    await rehashed.append(records.map((r) => ({ ...r, eventId: randomUUID() })));
    const [third] = await rehashed.db.query<{ event_id: string }>(`SELECT "event_id" FROM "audit_record" WHERE "sequence" = 3`);
    await tamper(rehashed, `UPDATE "audit_record" SET "hash" = repeat('a', 64) WHERE "sequence" = 2`);
    expect(await rehashed.verify()).toMatchObject({ ok: false, sequence: 2, reason: 'hash mismatch' });
    const { canonicalJson, chainHash } = await import('../src/audit/chain.js');
    expect(canonicalJson(1, records[0]!)).toMatch(/^\{"sequence":1,"eventId":"[0-9a-f-]{36}","occurredAt":"2026-11-22T\d\d:\d\d:\d\d\.000Z","action":"read",/);
    const [second] = await rehashed.db.query<{ event_id: string; previous_hash: string }>(`SELECT * FROM "audit_record" WHERE "sequence" = 2`);
    const forgedHash = chainHash(second!.previous_hash, 2, { ...records[1]!, eventId: second!.event_id, purpose: 'beleid' });
    await tamper(rehashed, `UPDATE "audit_record" SET "purpose" = 'beleid', "hash" = '${forgedHash}' WHERE "sequence" = 2`);
    expect(await rehashed.verify()).toEqual({ ok: false, count: 2, sequence: 3, eventId: third!.event_id, reason: 'previous-hash mismatch' });
  });

  it.skipIf(skip)('rejects when the write fails, and refuses malformed records without writing any of them', async () => {
    const log = await fresh();
    await expect(log.append([record(), record({ fieldsDelivered: ['Patient.bsn=999912345'] })])).rejects.toBeInstanceOf(AuditInputError);
    await expect(log.append([record({ eventId: 'not-a-uuid' })])).rejects.toBeInstanceOf(AuditInputError);
    await expect(log.append([record({ outcome: 'maybe' as never })])).rejects.toBeInstanceOf(AuditInputError);
    // Records of one request that share a list: it is checked for each field it stands in.
    const categories = ['identity'];
    await expect(log.append([record({ categoriesDelivered: categories }), record({ fieldsDelivered: categories })])).rejects.toBeInstanceOf(AuditInputError);
    expect(await log.verify()).toMatchObject({ ok: true, count: 0 });
    await log.append([record()]);
    await log.db.close();
    await expect(log.append([record()])).rejects.toThrow();
    const closed = await fresh();
    await closed.close();
    await expect(closed.append([record()])).rejects.toThrow(/closed/);
  });

  it.skipIf(skip)('gives the trail of one patient within a time window, paged', async () => {
    const log = await fresh();
    const base = Date.UTC(2026, 0, 10, 12, 0, 0);
    const at = (minutes: number) => new Date(base + minutes * 60_000);
    const mine = [0, 10, 20, 30, 40].map((m) => record({ patientId: 'patient-a', occurredAt: at(m) }));
    await log.append([record({ patientId: 'patient-a', occurredAt: at(-60) }), mine[2]!, mine[0]!, record({ patientId: 'patient-b', occurredAt: at(5) })]);
    await log.append([mine[1]!, mine[4]!, mine[3]!, record({ patientId: 'patient-a', occurredAt: at(120) })]);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const connection = await log.trail('patient-a', at(0), at(40), 2, after);
      expect(connection.totalCount).toBe(5);
      expect(connection.pageInfo.hasPreviousPage).toBe(page > 0);
      seen.push(...connection.edges.map((edge) => edge.node.eventId));
      after = connection.pageInfo.endCursor;
      expect(connection.pageInfo.hasNextPage).toBe(page < 2);
    }
    expect(seen).toEqual(mine.map((r) => r.eventId));
    const none = await log.trail('patient-b', at(10), at(40));
    expect(none).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
    await expect(log.trail('patient-a', at(40), at(0))).rejects.toThrow(/from/);
    await expect(log.trail('patient-a', at(0), at(40), 2, 'bm9wZQ')).rejects.toThrow(/cursor/);
  });

  it.skipIf(skip)('measures appends per second', async () => {
    const log = await fresh();
    const requests = Array.from({ length: 2000 }, () => [record(), record()]);
    let started = performance.now();
    for (const records of requests.slice(0, 300)) await log.append(records);
    const sequential = 300 / ((performance.now() - started) / 1000);
    started = performance.now();
    await Promise.all(requests.slice(300).map((records) => log.append(records)));
    const concurrent = 1700 / ((performance.now() - started) / 1000);
    console.log(
      `audit appends (${log.db.kind}): ${sequential.toFixed(0)} requests/s one at a time, ${concurrent.toFixed(0)} requests/s concurrent (2 records each)`,
    );
    expect(await log.verify()).toMatchObject({ ok: true, count: 4000 });
  });
});

describe.skipIf(!postgresUrl)('audit log on PostgreSQL with two gateway instances', () => {
  it('two appenders on one database produce one unbroken chain', async () => {
    const { urls, drop } = await createDatabases(['audit_shared']);
    const url = urls.audit_shared;
    const one = await AuditLog.open({ databaseUrl: url, dataDir: 'unused' });
    const two = await AuditLog.open({ databaseUrl: url, dataDir: 'unused' });
    try {
      const batches = (n: number) => Array.from({ length: n }, () => Array.from({ length: 1 + (clock % 4) }, () => record()));
      const ones = batches(150);
      const twos = batches(150);
      // One at a time per instance (as a gateway's queue would) and both instances at once.
      const run = async (log: AuditLog, list: AuditRecordInput[][]) => {
        for (let i = 0; i < list.length; i += 10) await Promise.all(list.slice(i, i + 10).map((records) => log.append(records)));
      };
      await Promise.all([run(one, ones), run(two, twos)]);
      const total = [...ones, ...twos].reduce((sum, list) => sum + list.length, 0);
      expect(await one.verify()).toMatchObject({ ok: true, count: total });
      const order = await sequenceOrder(one);
      for (const records of [...ones, ...twos]) {
        const start = order.indexOf(records[0]!.eventId);
        expect(order.slice(start, start + records.length)).toEqual(records.map((r) => r.eventId));
      }
    } finally {
      await one.close();
      await two.close();
      await drop();
    }
  });
});

describe('audit subgraph and npm run audit:verify', () => {
  it('answers auditTrail from the log, and refuses a window that ends before it starts', async () => {
    const log = await AuditLog.open({ databaseUrl: undefined, dataDir: 'memory://' });
    const schema = createAuditSchema(log);
    try {
      const entry = record({ patientId: 'patient-x', occurredAt: new Date('2026-03-01T10:00:00.000Z'), outcome: 'partially_granted' });
      await log.append([entry]);
      const source = `query Trail($id: ID!) { auditTrail(patientId: $id, from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00+01:00", first: 5) {
        totalCount edges { node { eventId occurredAt action patientId userId organisationId role purpose fieldsDelivered categoriesDelivered fieldsWithheld categoriesWithheld outcome requestId operationName } } pageInfo { hasNextPage } } }`;
      const result = (await graphql({ schema, source, variableValues: { id: 'patient-x' } })) as unknown as {
        data: { auditTrail: { totalCount: number; edges: { node: Record<string, unknown> }[] } };
      };
      expect(result.data.auditTrail.totalCount).toBe(1);
      expect(result.data.auditTrail.edges[0]!.node).toEqual({
        eventId: entry.eventId,
        occurredAt: '2026-03-01T10:00:00.000Z',
        action: 'READ',
        patientId: 'patient-x',
        userId: 'user-1',
        organisationId: 'dji-forzo',
        role: 'plaatser',
        purpose: 'plaatsing',
        fieldsDelivered: ['Patient.bsn', 'Patient.name'],
        categoriesDelivered: ['identity'],
        fieldsWithheld: ['Trajectory.diagnoses'],
        categoriesWithheld: ['medical'],
        outcome: 'PARTIALLY_GRANTED',
        requestId: entry.requestId,
        operationName: 'PatientTrajectory',
      });
      const bad = await graphql({ schema, source: '{ auditTrail(patientId: "p", from: "2026-03-02T00:00:00Z", to: "2026-03-01T00:00:00Z") { totalCount } }' });
      expect(bad.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    } finally {
      await log.close();
    }
  });

  it('the script prints OK for an intact log and names the first broken record and a deleted tail, exit code 1', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ketengraph-audit-'));
    const dataDir = join(root, 'audit');
    const keyFile = join(root, 'seal-key');
    const checkpointFile = join(root, 'checkpoints.jsonl');
    writeFileSync(keyFile, randomBytes(32).toString('base64url'));
    const env = { ...process.env, AUDIT_DATABASE_URL: undefined, AUDIT_DATA_DIR: dataDir, AUDIT_SEAL_KEY_FILE: keyFile, AUDIT_CHECKPOINT_FILE: checkpointFile };
    const run = promisify(execFile);
    const verify = () =>
      run(join(repositoryRoot, 'node_modules/.bin/tsx'), ['scripts/audit-verify.ts'], { cwd: repositoryRoot, env }).then(
        ({ stdout }) => ({ code: 0, output: stdout }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
      );
    const open = () => AuditLog.open(loadAuditConfig(env));
    try {
      const records = [record(), record(), record()];
      let log = await open();
      await log.append(records);
      await log.close(); // a clean shutdown signs a checkpoint of everything written
      expect(await verify()).toMatchObject({
        code: 0,
        output: expect.stringMatching(/^OK: 3 audit records, chain and seals intact .*1 checkpoints, the last at record 3/),
      });
      log = await open();
      await tamper(log, `DELETE FROM "audit_record" WHERE "sequence" = 3`);
      await log.close();
      const tail = await verify();
      expect(tail.code).toBe(1);
      expect(tail.output).toContain('BROKEN at record 3: deleted tail — records 3 to 3 are missing');
      log = await open();
      await tamper(log, `UPDATE "audit_record" SET "fields_delivered" = '{}' WHERE "sequence" = 2`);
      await log.close();
      const broken = await verify();
      expect(broken.code).toBe(1);
      expect(broken.output).toContain(`BROKEN at record 2 (event ${records[1]!.eventId}): hash mismatch`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the access log anchored against whoever holds its database', () => {
  const root = mkdtempSync(join(tmpdir(), 'ketengraph-anchor-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  /** A sealed log with five records and a checkpoint over them, and a way to run the verifier as audit:verify does. */
  async function anchoredLog() {
    const keyFile = join(root, `key-${counter}`);
    writeFileSync(keyFile, randomBytes(32).toString('base64'));
    const anchor = { keyFile, production: true, checkpointFile: join(root, `checkpoints-${counter++}.jsonl`), checkpointIntervalMs: 3_600_000 };
    const key = resolveAnchor(anchor).key;
    const log = await AuditLog.open({ databaseUrl: undefined, dataDir: 'memory://', anchor });
    cleanups.push(() => log.close().catch(() => undefined));
    const records = Array.from({ length: 5 }, () => record());
    await log.append(records);
    expect(await log.checkpoint()).toMatchObject({ sequence: 5, count: 5 });
    const verify = async () => log.verify({ pageSize: 2, anchor: { key, checkpoints: await readCheckpoints(anchor.checkpointFile) } });
    return { log, anchor, records, verify };
  }
  /** Rows as the chain hashes them. */
  async function rows(log: AuditLog): Promise<(AuditRecordInput & { sequence: number; previousHash: string; hash: string })[]> {
    const stored = await log.db.query<Record<string, any>>(`SELECT * FROM "audit_record" ORDER BY "sequence"`);
    return stored.map((r) => ({
      sequence: Number(r.sequence),
      eventId: r.event_id,
      occurredAt: new Date(r.occurred_at),
      action: r.action,
      patientId: r.patient_id,
      userId: r.user_id,
      organisationId: r.organisation_id,
      role: r.role,
      purpose: r.purpose,
      fieldsDelivered: r.fields_delivered,
      categoriesDelivered: r.categories_delivered,
      fieldsWithheld: r.fields_withheld,
      categoriesWithheld: r.categories_withheld,
      outcome: r.outcome,
      requestId: r.request_id,
      operationName: r.operation_name,
      previousHash: r.previous_hash,
      hash: r.hash,
    }));
  }

  it('verifies an untouched log and says how much of it a checkpoint anchors', async () => {
    const { log, verify } = await anchoredLog();
    await log.append([record()]);
    expect(await verify()).toMatchObject({ ok: true, count: 6, anchored: { sequence: 5, unanchored: 1 } });
    expect(await log.checkpoint()).toMatchObject({ sequence: 6 });
    expect(await log.checkpoint()).toBeNull(); // nothing new
    expect(await verify()).toMatchObject({ ok: true, count: 6, anchored: { sequence: 6, unanchored: 0 } });
  });

  it('names a record appended with a correctly computed hash (no valid seal), and signs no checkpoint over it', async () => {
    const { log, verify } = await anchoredLog();
    const head = (await rows(log)).at(-1)!;
    const forged = record({ patientId: 'patient-forged' });
    const hash = chainHash(head.hash, 6, forged);
    const insert = (seal: string | null) =>
      tamper(
        log,
        `INSERT INTO "audit_record" ("sequence", "event_id", "occurred_at", "action", "patient_id", "user_id", "organisation_id", "role", "purpose",
        "fields_delivered", "categories_delivered", "fields_withheld", "categories_withheld", "outcome", "request_id", "operation_name", "previous_hash", "hash", "seal")
        VALUES (6, '${forged.eventId}', '${forged.occurredAt.toISOString()}', 'read', 'patient-forged', 'user-1', 'dji-forzo', 'plaatser', 'plaatsing',
        '{Patient.bsn,Patient.name}', '{identity}', '{Trajectory.diagnoses}', '{medical}', 'partially_granted', '${forged.requestId}', 'PatientTrajectory', '${head.hash}', '${hash}', ${seal ? `'${seal}'` : 'NULL'})`,
      );
    await insert(null);
    // The chain itself holds: only the seal tells.
    expect(await verifyAuditChain(log.db)).toMatchObject({ ok: true, count: 6 });
    expect(await verify()).toEqual({ ok: false, count: 5, sequence: 6, eventId: forged.eventId, reason: 'seal missing' });
    expect(await log.checkpoint()).toBeNull();
    await tamper(log, `DELETE FROM "audit_record" WHERE "sequence" = 6`);
    await insert('ab'.repeat(32));
    expect(await verify()).toEqual({ ok: false, count: 5, sequence: 6, eventId: forged.eventId, reason: 'seal mismatch' });
  });

  it('names a deleted tail against the last checkpoint', async () => {
    const { log, verify } = await anchoredLog();
    await tamper(log, `DELETE FROM "audit_record" WHERE "sequence" >= 4`);
    expect(await verifyAuditChain(log.db)).toMatchObject({ ok: true, count: 3 });
    expect(await verify()).toMatchObject({
      ok: false,
      count: 3,
      sequence: 4,
      eventId: null,
      reason: 'deleted tail',
      detail: expect.stringContaining('records 4 to 5 are missing'),
    });
    // The gateway does not sign over it either, not even once it wrote new records where the deleted ones were.
    await log.append([record()]);
    expect(await log.checkpoint()).toBeNull();
  });

  it('names the first record of an edit whose chain was recomputed after it', async () => {
    const { log, records, verify } = await anchoredLog();
    const stored = await rows(log);
    let previous = stored[1]!.hash;
    for (const row of stored.slice(2)) {
      const edited = row.sequence === 3 ? { ...row, purpose: 'beleid' } : row;
      const hash = chainHash(previous, row.sequence, edited);
      await tamper(
        log,
        `UPDATE "audit_record" SET "purpose" = '${edited.purpose}', "previous_hash" = '${previous}', "hash" = '${hash}' WHERE "sequence" = ${row.sequence}`,
      );
      previous = hash;
    }
    expect(await verifyAuditChain(log.db)).toMatchObject({ ok: true, count: 5 });
    expect(await verify()).toEqual({ ok: false, count: 2, sequence: 3, eventId: records[2]!.eventId, reason: 'seal mismatch' });
  });

  it('still names naive tampering (edit, delete in the middle), and a forged or altered checkpoint', async () => {
    const edited = await anchoredLog();
    await tamper(edited.log, `UPDATE "audit_record" SET "purpose" = 'beleid' WHERE "sequence" = 2`);
    expect(await edited.verify()).toMatchObject({ ok: false, sequence: 2, reason: 'hash mismatch' });
    const deleted = await anchoredLog();
    await tamper(deleted.log, `DELETE FROM "audit_record" WHERE "sequence" = 2`);
    expect(await deleted.verify()).toMatchObject({ ok: false, sequence: 3, reason: 'gap in sequence' });
    const forged = await anchoredLog();
    const lines = readFileSync(forged.anchor.checkpointFile, 'utf8').trim().split('\n');
    writeFileSync(forged.anchor.checkpointFile, `${lines[0]!.replace('"sequence":5', '"sequence":9').replace('"count":5', '"count":9')}\n`);
    expect(await forged.verify()).toMatchObject({ ok: false, reason: 'checkpoint invalid', detail: expect.stringContaining('checkpoint 1') });
  });
});
