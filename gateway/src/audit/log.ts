import { randomInt } from 'node:crypto';
import {
  badInput,
  errorDetails,
  serviceLogger,
  connectionFromKeyset,
  decodeCursor,
  migrate,
  openSqlDatabase,
  pageSize,
  plainCursors,
  type Connection,
  type SqlDatabase,
} from '@ketengraph/service-kit';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  checkChain,
  EMPTY_HEAD,
  extendChain,
  type AuditRecord,
  type AuditRecordInput,
  type ChainBreak,
  type ChainHead,
} from './chain.js';
import { appendCheckpoint, checkpointValid, macMatches, readCheckpoints, sealOf, signCheckpoint, type AuditAnchor, type Checkpoint } from './anchor.js';
import { AUDIT_MIGRATIONS_DIR, resolveAnchor, type AuditConfig } from './config.js';
import { auditCheckpoints, auditCheckpointSequence } from '../observability/metrics.js';

/** An audit record the log refuses to write (malformed input); nothing of the batch is written. */
export class AuditInputError extends Error {
  override name = 'AuditInputError';
}

/**
 * What verification can find wrong: a broken chain (naive tampering), a record without a valid seal
 * (appended or rewritten without the key), a record that differs from a checkpoint, records missing
 * against a checkpoint (a deleted tail), a checkpoint that is not one the key signed.
 */
export type VerifyProblem = ChainBreak | 'seal missing' | 'seal mismatch' | 'checkpoint mismatch' | 'deleted tail' | 'checkpoint invalid';

export type VerifyResult =
  | { ok: true; count: number; head: ChainHead; anchored?: { sequence: number; time: string | null; unanchored: number } }
  | { ok: false; count: number; sequence: number; eventId: string | null; reason: VerifyProblem; detail?: string };

/** Checking seals and checkpoints besides the chain: the key and the checkpoints (lines of the file, null where unreadable). */
export interface VerifyAnchor {
  key: Buffer;
  checkpoints: readonly (Checkpoint | null)[];
}

interface Pending {
  records: AuditRecordInput[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const COLUMNS = `"sequence", "event_id", "occurred_at", "action", "patient_id", "user_id", "organisation_id", "role", "purpose",
  "fields_delivered", "categories_delivered", "fields_withheld", "categories_withheld", "outcome", "request_id", "operation_name",
  "previous_hash", "hash", "seal"`;

// One statement per batch: the rows travel as one JSON parameter, so any number of records is one round trip.
const INSERT = `INSERT INTO "audit_record" (${COLUMNS})
SELECT ${COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS r(
  "sequence" BIGINT, "event_id" UUID, "occurred_at" TIMESTAMPTZ, "action" TEXT, "patient_id" TEXT, "user_id" TEXT,
  "organisation_id" TEXT, "role" TEXT, "purpose" TEXT, "fields_delivered" TEXT[], "categories_delivered" TEXT[],
  "fields_withheld" TEXT[], "categories_withheld" TEXT[], "outcome" TEXT, "request_id" TEXT, "operation_name" TEXT,
  "previous_hash" TEXT, "hash" TEXT, "seal" TEXT)
ORDER BY "sequence"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Field coordinates and category names only: the shape leaves no room for a data value.
const FIELD_COORDINATE = /^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/;
const CATEGORY = /^[a-z][a-z_]*$/;
/** Records per INSERT when concurrent requests are written together; one request is never split. */
const MAX_BATCH_ROWS = 5000;
/**
 * Records a checkpoint checks per page. The check runs on the gateway's event loop (~35 µs a
 * record: parsing, hash, seal), and requests are served between pages: 1,000 at once held them up
 * ~45 ms, 250 about 12 ms.
 */
const CHECKPOINT_PAGE_ROWS = 250;
/** Times a writer re-reads the head after another writer extended the chain first. */
const MAX_ATTEMPTS = 25;

/**
 * The gateway's NEN 7513 audit log: append-only, hash-chained (see chain.ts), in its own
 * database. Appends are queued and written in order by one writer per instance; requests that
 * arrive while a write is in flight go together in the next INSERT (group commit). A second
 * instance on the same PostgreSQL database is detected by the primary key on `sequence` and the
 * chain trigger: the loser re-reads the head and chains again, so the chain never forks.
 */
export class AuditLog {
  private head: ChainHead | undefined;
  private readonly queue: Pending[] = [];
  private writing = false;
  private draining: Promise<void> = Promise.resolve();
  private closed = false;
  /** The last head a checkpoint was signed for (verified up to there); read from the checkpoint file at first use. */
  private anchoredHead: ChainHead | undefined;
  private writtenSinceCheckpoint = true;
  private checkpointing: Promise<Checkpoint | null> = Promise.resolve(null);
  private checkpointTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly db: SqlDatabase,
    private readonly anchor?: AuditAnchor,
  ) {
    if (anchor) {
      this.checkpointTimer = setInterval(() => void this.checkpoint().catch(() => undefined), anchor.checkpointIntervalMs);
      this.checkpointTimer.unref();
    }
  }

  /** Opens (and migrates) the audit database described by the configuration. */
  static async open(config: AuditConfig): Promise<AuditLog> {
    const anchor = config.anchor && resolveAnchor(config.anchor);
    const db = await openSqlDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 4 }, (created) => migrate(created, AUDIT_MIGRATIONS_DIR));
    try {
      await migrate(db, AUDIT_MIGRATIONS_DIR);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new AuditLog(db, anchor);
  }

  /**
   * Signs a checkpoint of the current head, after checking that every record since the previous
   * one extends the chain and carries a valid seal (an altered log is reported, never signed over).
   * Appends it to the checkpoint file, logs it and sets the metric. Null when there is nothing new
   * or no anchor; runs one at a time.
   */
  checkpoint(): Promise<Checkpoint | null> {
    const anchor = this.anchor;
    if (!anchor) return Promise.resolve(null);
    const run = async (): Promise<Checkpoint | null> => {
      if (!this.writtenSinceCheckpoint && this.anchoredHead) return null;
      this.writtenSinceCheckpoint = false;
      if (!this.anchoredHead) {
        const last = anchor.checkpointFile
          ? (await readCheckpoints(anchor.checkpointFile)).filter((c): c is Checkpoint => c !== null && checkpointValid(anchor.key, c)).at(-1)
          : undefined;
        this.anchoredHead = last ? { sequence: last.sequence, hash: last.hash } : EMPTY_HEAD;
      }
      // The record the previous checkpoint anchors must still be there, unchanged (a deleted tail would otherwise be re-signed).
      const anchored = this.anchoredHead;
      const [at] =
        anchored.sequence > 0
          ? await this.db.query<{ hash: string }>(`SELECT "hash" FROM "audit_record" WHERE "sequence" = $1`, [anchored.sequence])
          : [{ hash: anchored.hash }];
      const checked: VerifyResult =
        at?.hash !== anchored.hash
          ? { ok: false, count: 0, sequence: anchored.sequence, eventId: null, reason: at ? 'checkpoint mismatch' : 'deleted tail' }
          : await verifyFrom(this.db, anchored, anchor.key, CHECKPOINT_PAGE_ROWS);
      if (!checked.ok) {
        auditCheckpoints.inc({ outcome: 'refused' });
        log.error({ sequence: checked.sequence, reason: checked.reason }, 'access log altered since the last checkpoint; no checkpoint signed');
        return null;
      }
      const [row] = await this.db.query<{ count: number | string }>(`SELECT count(*) AS "count" FROM "audit_record"`);
      const checkpoint = signCheckpoint(anchor.key, {
        sequence: checked.head.sequence,
        hash: checked.head.hash,
        count: Number(row?.count ?? 0),
        time: new Date().toISOString(),
      });
      if (anchor.checkpointFile) await appendCheckpoint(anchor.checkpointFile, checkpoint);
      this.anchoredHead = checked.head;
      auditCheckpoints.inc({ outcome: 'signed' });
      auditCheckpointSequence.set(checkpoint.sequence);
      // The external copy: a log collector keeps every checkpoint line, out of reach of the database's owner.
      log.info({ auditCheckpoint: checkpoint }, 'audit checkpoint');
      return checkpoint;
    };
    const next = this.checkpointing.then(run, run);
    this.checkpointing = next.catch((error: unknown) => {
      auditCheckpoints.inc({ outcome: 'failed' });
      log.error(errorDetails(error), 'audit checkpoint failed');
      return null;
    });
    return next;
  }

  /**
   * Writes the records of one request, in the given order, in one transaction. Resolves once
   * they are committed; rejects when they are not (the caller must then withhold the response).
   */
  append(records: readonly AuditRecordInput[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('The audit log is closed.'));
    let normalised: AuditRecordInput[];
    try {
      // The records of one request often share their lists (a change delivered to many subscribers): each is checked and copied once.
      const lists = new Map<string, Map<unknown, string[]>>();
      normalised = records.map((record) => normalise(record, lists));
    } catch (error) {
      return Promise.reject(error);
    }
    if (normalised.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records: normalised, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // Started after the current turn of the event loop: the records of every response finished in
        // it go in one INSERT (one round trip, for the embedded database one message to its thread).
        this.draining = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      // Cleared in the same tick the queue is found empty, so no append can slip in unnoticed.
      if (this.queue.length === 0) {
        this.writing = false;
        return;
      }
      const batch: Pending[] = [];
      let rows = 0;
      while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.records.length <= MAX_BATCH_ROWS)) {
        const next = this.queue.shift()!;
        batch.push(next);
        rows += next.records.length;
      }
      try {
        await this.write(batch.flatMap((pending) => pending.records));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }

  private async write(records: AuditRecordInput[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.head ??= await this.readHead();
      const chained = extendChain(this.head, records);
      const key = this.anchor?.key;
      try {
        const rows = JSON.stringify(chained.map((record) => ({ ...toRow(record), seal: key ? sealOf(key, record.hash) : null })));
        await this.db.query(INSERT, [rows], { prepared: true });
        this.writtenSinceCheckpoint = true;
        const last = chained[chained.length - 1]!;
        this.head = { sequence: last.sequence, hash: last.hash };
        return;
      } catch (error) {
        // Whatever happened, the cached head may be stale now: read it again before the next write.
        this.head = undefined;
        if (!headMoved(error) || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, randomInt(0, 1 + Math.min(attempt, 8) * 2)));
      }
    }
  }

  private async readHead(): Promise<ChainHead> {
    const [row] = await this.db.query<{ sequence: number | string; hash: string }>(
      `SELECT "sequence", "hash" FROM "audit_record" ORDER BY "sequence" DESC LIMIT 1`,
    );
    return row ? { sequence: Number(row.sequence), hash: row.hash } : EMPTY_HEAD;
  }

  /**
   * The privacy officer's trail: records about one patient with `from <= occurredAt <= to`, in
   * time order, as a Relay connection (`first` default 20, at most 100).
   */
  async trail(patientId: string, from: Date, to: Date, first?: number | null, after?: string | null): Promise<Connection<AuditRecord>> {
    const size = pageSize({ first: first ?? null });
    if (!(from.getTime() <= to.getTime())) throw badInput('from must not be later than to.', 'from');
    const params: unknown[] = [patientId, from.toISOString(), to.toISOString()];
    let keyset = '';
    if (after) {
      const [occurredAt, sequence] = parseTrailCursor(decodeCursor(after));
      params.push(occurredAt, sequence);
      keyset = ` AND ("occurred_at", "sequence") > ($4::timestamptz, $5::bigint)`;
    }
    const where = `"patient_id" = $1 AND "occurred_at" >= $2::timestamptz AND "occurred_at" <= $3::timestamptz`;
    const [rows, [count]] = await Promise.all([
      this.db.query<StoredRow>(`SELECT * FROM "audit_record" WHERE ${where}${keyset} ORDER BY "occurred_at", "sequence" LIMIT ${size + 1}`, params),
      this.db.query<{ count: number | string }>(`SELECT count(*) AS "count" FROM "audit_record" WHERE ${where}`, params.slice(0, 3)),
    ]);
    return connectionFromKeyset(rows.map(fromRow), size, trailCursorKey, Number(count?.count ?? 0), Boolean(after), plainCursors);
  }

  /** The records one request left, in order (its request id is the `x-request-id` it was answered with). */
  async ofRequest(requestId: string): Promise<AuditRecord[]> {
    const rows = await this.db.query<StoredRow>(`SELECT * FROM "audit_record" WHERE "request_id" = $1 ORDER BY "sequence"`, [requestId]);
    return rows.map(fromRow);
  }

  /** Walks the whole chain in pages of `pageSize` records; reports the first broken record. */
  async verify(options: { pageSize?: number; anchor?: VerifyAnchor } = {}): Promise<VerifyResult> {
    return verifyAuditChain(this.db, options);
  }

  /** For the gateway's /ready: the audit database answers. */
  async ready(): Promise<boolean> {
    if (this.closed) return false;
    return this.db.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  /** Refuses new appends, writes what is queued, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining;
    clearInterval(this.checkpointTimer);
    // A clean shutdown anchors everything written: only a crash leaves records after the last checkpoint.
    await this.checkpoint().catch(() => undefined);
    await this.db.close();
  }
}

/**
 * Walks the whole chain; with an anchor also every record's seal and the checkpoints: a checkpoint
 * not signed by the key, a record that differs from a checkpoint, records missing below the last
 * checkpoint (a deleted tail). Reports the first problem.
 */
export async function verifyAuditChain(db: SqlDatabase, options: { pageSize?: number; anchor?: VerifyAnchor } = {}): Promise<VerifyResult> {
  const anchor = options.anchor;
  const checkpoints: Checkpoint[] = [];
  for (const [index, checkpoint] of (anchor?.checkpoints ?? []).entries()) {
    if (!checkpoint || !checkpointValid(anchor!.key, checkpoint)) {
      return {
        ok: false,
        count: 0,
        sequence: checkpoint?.sequence ?? 0,
        eventId: null,
        reason: 'checkpoint invalid',
        detail: `checkpoint ${index + 1} is not one the seal key signed (altered or forged)`,
      };
    }
    checkpoints.push(checkpoint);
  }
  const result = await verifyFrom(db, EMPTY_HEAD, anchor?.key, options.pageSize ?? 1000, checkpoints);
  if (!result.ok || !anchor) return result;
  const last = checkpoints.reduce<Checkpoint | null>((latest, c) => (!latest || c.sequence > latest.sequence ? c : latest), null);
  if (last && last.sequence > result.head.sequence) {
    return {
      ok: false,
      count: result.count,
      sequence: result.head.sequence + 1,
      eventId: null,
      reason: 'deleted tail',
      detail: `records ${result.head.sequence + 1} to ${last.sequence} are missing: the checkpoint of ${last.time} counted ${last.count} records up to ${last.sequence}`,
    };
  }
  return { ...result, anchored: { sequence: last?.sequence ?? 0, time: last?.time ?? null, unanchored: result.head.sequence - (last?.sequence ?? 0) } };
}

/** Checks the records after `from`: chain links, and with a key their seals and the checkpoints that fall on them. */
async function verifyFrom(
  db: SqlDatabase,
  from: ChainHead,
  key: Buffer | undefined,
  limit: number,
  checkpoints: readonly Checkpoint[] = [],
): Promise<VerifyResult & { ok: boolean }> {
  const bySequence = new Map<number, Checkpoint[]>();
  for (const c of checkpoints) bySequence.set(c.sequence, [...(bySequence.get(c.sequence) ?? []), c]);
  let head = from;
  let count = 0;
  for (;;) {
    const rows = await db.query<StoredRow>(`SELECT * FROM "audit_record" WHERE "sequence" > $1 ORDER BY "sequence" LIMIT ${limit}`, [head.sequence]);
    if (rows.length === 0) return { ok: true, count, head };
    const records = rows.map(fromRow);
    const result = checkChain(head, records);
    const checkedUpTo = result.ok ? records.length : records.indexOf(result.record);
    for (let i = 0; i < checkedUpTo && key; i++) {
      const record = records[i]!;
      const seal = rows[i]!.seal;
      if (seal === null || seal === undefined)
        return { ok: false, count: count + i, sequence: record.sequence, eventId: record.eventId, reason: 'seal missing' };
      if (!macMatches(sealOf(key, record.hash), seal))
        return { ok: false, count: count + i, sequence: record.sequence, eventId: record.eventId, reason: 'seal mismatch' };
      for (const c of bySequence.get(record.sequence) ?? []) {
        if (c.hash !== record.hash)
          return {
            ok: false,
            count: count + i,
            sequence: record.sequence,
            eventId: record.eventId,
            reason: 'checkpoint mismatch',
            detail: `the checkpoint of ${c.time} signed another hash for this record`,
          };
      }
    }
    if (!result.ok) {
      return { ok: false, count: count + checkedUpTo, sequence: result.record.sequence, eventId: result.record.eventId, reason: result.reason };
    }
    count += records.length;
    head = result.head;
  }
}

const log = serviceLogger('gateway');

/** Another writer extended the chain first (same sequence taken, or our head no longer the predecessor). */
function headMoved(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === '23000';
}

/** `checked`: lists already checked and copied, per field, for records that share them. */
function normalise(record: AuditRecordInput, checked: Map<string, Map<unknown, string[]>>): AuditRecordInput {
  const fail = (what: string): never => {
    throw new AuditInputError(`Audit record refused: ${what}.`);
  };
  const text = (value: unknown, name: string): string =>
    typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : fail(`${name} must be a non-empty string of at most 200 characters`);
  const optionalText = (value: unknown, name: string): string | null => (value === null || value === undefined ? null : text(value, name));
  const list = (value: unknown, pattern: RegExp, name: string): string[] => {
    let ofField = checked.get(name);
    if (!ofField) checked.set(name, (ofField = new Map()));
    const copy = ofField.get(value);
    if (copy) return copy;
    if (!(Array.isArray(value) && value.every((item) => typeof item === 'string' && pattern.test(item)))) fail(`${name} must be a list of names`);
    const checkedCopy = [...(value as string[])];
    ofField.set(value, checkedCopy);
    return checkedCopy;
  };
  const eventId = typeof record.eventId === 'string' ? record.eventId.toLowerCase() : '';
  if (!UUID.test(eventId)) fail('eventId must be a UUID');
  if (!(record.occurredAt instanceof Date) || Number.isNaN(record.occurredAt.getTime())) fail('occurredAt must be a valid Date');
  if (!AUDIT_ACTIONS.includes(record.action)) fail('unknown action');
  if (!AUDIT_OUTCOMES.includes(record.outcome)) fail('unknown outcome');
  return {
    eventId,
    occurredAt: new Date(record.occurredAt.getTime()),
    action: record.action,
    patientId: optionalText(record.patientId, 'patientId'),
    userId: text(record.userId, 'userId'),
    organisationId: text(record.organisationId, 'organisationId'),
    role: text(record.role, 'role'),
    purpose: optionalText(record.purpose, 'purpose'),
    fieldsDelivered: list(record.fieldsDelivered, FIELD_COORDINATE, 'fieldsDelivered'),
    categoriesDelivered: list(record.categoriesDelivered, CATEGORY, 'categoriesDelivered'),
    fieldsWithheld: list(record.fieldsWithheld, FIELD_COORDINATE, 'fieldsWithheld'),
    categoriesWithheld: list(record.categoriesWithheld, CATEGORY, 'categoriesWithheld'),
    outcome: record.outcome,
    requestId: text(record.requestId, 'requestId'),
    operationName: optionalText(record.operationName, 'operationName'),
  };
}

interface StoredRow extends Record<string, unknown> {
  sequence: number | string;
  event_id: string;
  occurred_at: Date;
  action: AuditRecord['action'];
  patient_id: string | null;
  user_id: string;
  organisation_id: string;
  role: string;
  purpose: string | null;
  fields_delivered: string[];
  categories_delivered: string[];
  fields_withheld: string[];
  categories_withheld: string[];
  outcome: AuditRecord['outcome'];
  request_id: string;
  operation_name: string | null;
  previous_hash: string;
  hash: string;
  seal?: string | null;
}

function toRow(record: AuditRecord): Record<string, unknown> {
  return {
    sequence: record.sequence,
    event_id: record.eventId,
    occurred_at: record.occurredAt.toISOString(),
    action: record.action,
    patient_id: record.patientId,
    user_id: record.userId,
    organisation_id: record.organisationId,
    role: record.role,
    purpose: record.purpose,
    fields_delivered: record.fieldsDelivered,
    categories_delivered: record.categoriesDelivered,
    fields_withheld: record.fieldsWithheld,
    categories_withheld: record.categoriesWithheld,
    outcome: record.outcome,
    request_id: record.requestId,
    operation_name: record.operationName,
    previous_hash: record.previousHash,
    hash: record.hash,
  };
}

function fromRow(row: StoredRow): AuditRecord {
  return {
    sequence: Number(row.sequence),
    eventId: row.event_id,
    occurredAt: new Date(row.occurred_at),
    action: row.action,
    patientId: row.patient_id,
    userId: row.user_id,
    organisationId: row.organisation_id,
    role: row.role,
    purpose: row.purpose,
    fieldsDelivered: row.fields_delivered,
    categoriesDelivered: row.categories_delivered,
    fieldsWithheld: row.fields_withheld,
    categoriesWithheld: row.categories_withheld,
    outcome: row.outcome,
    requestId: row.request_id,
    operationName: row.operation_name,
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

const trailCursorKey = (record: AuditRecord): string => `${record.occurredAt.toISOString()}|${record.sequence}`;

function parseTrailCursor(key: string): [string, number] {
  const [occurredAt, sequence] = key.split('|');
  const at = new Date(occurredAt ?? '');
  const seq = Number(sequence);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== occurredAt || !Number.isSafeInteger(seq) || seq < 1) {
    throw badInput('The cursor is not one this API handed out.', 'after');
  }
  return [occurredAt, seq];
}
