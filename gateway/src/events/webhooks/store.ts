/**
 * The webhook database: endpoints with their owners and secrets, the delivery schedule, dead
 * letters and how far the event feed has been enqueued. Every change is one SQL statement
 * (CTEs where several tables change), so it is atomic on PGlite and PostgreSQL alike without
 * holding a connection; several gateway instances share it through PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  badInput,
  connectionFromKeyset,
  decodeCursor,
  migrate,
  openSqlDatabase,
  pageSize,
  plainCursors,
  type Connection,
  type Principal,
  type SqlDatabase,
} from '@ketengraph/service-kit';
import { WEBHOOK_MIGRATIONS_DIR, type WebhookConfig } from './config.js';

export type EndpointStatus = 'pending_verification' | 'active' | 'paused';

/** Which events an endpoint receives (placementChanged's filter); null or an empty list means no restriction. */
export interface WebhookFilter {
  patientId: string | null;
  trajectoryId: string | null;
  providerId: string | null;
  toStatus: string[];
}

export interface Endpoint {
  id: string;
  organisationId: string;
  /** The principal that registered the endpoint; deliveries are resolved as this principal. */
  owner: Principal;
  url: string;
  description: string | null;
  filter: WebhookFilter;
  selection: string;
  status: EndpointStatus;
  /** Events after this sequence (the newest at registration) are delivered, once verified. */
  fromSequence: bigint;
  createdAt: Date;
  verifiedAt: Date | null;
  updatedAt: Date;
}

/** The fields of a feed event the schedule needs (matching the filter, ordering per patient). */
export interface EnqueueableEvent {
  sequence: bigint;
  patientId: string;
  trajectoryId: string;
  providerId: string;
  toStatus: string;
}

/** A delivery claimed by this instance, with what is needed to make it. */
export interface ClaimedDelivery {
  id: string;
  sequence: bigint;
  patientId: string;
  attempts: number;
  endpoint: Pick<Endpoint, 'id' | 'url' | 'selection' | 'owner'>;
  /** Valid secrets, newest first. */
  secrets: string[];
}

export interface DeadLetter {
  id: string;
  endpointId: string;
  sequence: bigint;
  /** The webhook-id the event was (and will again be) sent with. */
  messageId: string;
  attempts: number;
  lastError: string | null;
  deadAt: Date;
  redeliveredAt: Date | null;
}

interface EndpointRow extends Record<string, unknown> {
  id: string;
  organisation_id: string;
  owner_subject: string;
  owner_role: string;
  owner_purpose: string;
  owner_scopes: string[];
  url: string;
  description: string | null;
  filter_patient_id: string | null;
  filter_trajectory_id: string | null;
  filter_provider_id: string | null;
  filter_to_statuses: string[] | null;
  selection: string;
  status: EndpointStatus;
  from_sequence: string | number | bigint;
  created_at: Date;
  verified_at: Date | null;
  updated_at: Date;
}

const ENDPOINT_COLUMNS = `"id", "organisation_id", "owner_subject", "owner_role", "owner_purpose", "owner_scopes", "url", "description",
  "filter_patient_id", "filter_trajectory_id", "filter_provider_id", "filter_to_statuses", "selection", "status", "from_sequence", "created_at", "verified_at", "updated_at"`;

const toEndpoint = (row: EndpointRow): Endpoint => ({
  id: row.id,
  organisationId: row.organisation_id,
  owner: { subject: row.owner_subject, organisationId: row.organisation_id, role: row.owner_role, purpose: row.owner_purpose, scopes: row.owner_scopes },
  url: row.url,
  description: row.description,
  filter: {
    patientId: row.filter_patient_id,
    trajectoryId: row.filter_trajectory_id,
    providerId: row.filter_provider_id,
    toStatus: row.filter_to_statuses ?? [],
  },
  selection: row.selection,
  status: row.status,
  fromSequence: BigInt(row.from_sequence),
  createdAt: new Date(row.created_at),
  verifiedAt: row.verified_at && new Date(row.verified_at),
  updatedAt: new Date(row.updated_at),
});

const nullIfEmpty = (list: string[]) => (list.length ? list : null);

/**
 * The webhook database, opened (and migrated) on its first statement. Embedded, it is PGlite on a
 * worker thread, so polling the schedule never takes the gateway's event loop.
 */
class DatabaseOnFirstUse implements SqlDatabase {
  readonly kind: SqlDatabase['kind'];
  private database: Promise<SqlDatabase> | undefined;

  constructor(private readonly config: Pick<WebhookConfig, 'databaseUrl' | 'dataDir'>) {
    this.kind = config.databaseUrl ? 'postgres' : 'pglite';
  }

  get opened(): boolean {
    return this.database !== undefined;
  }

  open(): Promise<SqlDatabase> {
    this.database ??= (async () => {
      const db = await openSqlDatabase({ url: this.config.databaseUrl, dataDir: this.config.dataDir, poolSize: 4 }, (created) =>
        migrate(created, WEBHOOK_MIGRATIONS_DIR),
      );
      try {
        await migrate(db, WEBHOOK_MIGRATIONS_DIR);
      } catch (error) {
        await db.close();
        throw error;
      }
      return db;
    })().catch((error: unknown) => {
      this.database = undefined; // the next statement tries again
      throw error;
    });
    return this.database;
  }

  async query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]> {
    return (await this.open()).query<Row>(sql, params);
  }

  async exec(script: string): Promise<void> {
    await (await this.open()).exec(script);
  }

  async close(): Promise<void> {
    const database = this.database;
    this.database = undefined;
    if (database) await (await database.catch(() => undefined))?.close();
  }
}

export class WebhookStore {
  private constructor(private readonly database: DatabaseOnFirstUse) {}

  /** For tests and diagnosis: statements on the webhook database (opening it if needed). */
  get db(): SqlDatabase {
    return this.database;
  }

  /**
   * The webhook store described by the configuration. PostgreSQL, and an embedded database that
   * exists already (it may hold pending deliveries), are opened now; a new embedded one is created
   * when the first endpoint is registered — PGlite takes hundreds of MiB of the gateway process,
   * which a gateway whose partners use no webhooks should not carry.
   */
  static async open(config: Pick<WebhookConfig, 'databaseUrl' | 'dataDir'>): Promise<WebhookStore> {
    const database = new DatabaseOnFirstUse(config);
    if (config.databaseUrl || existsSync(join(config.dataDir, 'PG_VERSION'))) await database.open();
    return new WebhookStore(database);
  }

  /** Whether the database is open: until then there is no endpoint, so nothing to enqueue or deliver. */
  get opened(): boolean {
    return this.database.opened;
  }

  close(): Promise<void> {
    return this.database.close();
  }

  async ready(): Promise<boolean> {
    if (!this.opened) return true;
    return this.db.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  // ---- endpoints -------------------------------------------------------------------------------

  /** Registers an endpoint (pending verification) with its first secret; it receives the events after `fromSequence`. */
  async createEndpoint(input: {
    owner: Principal & { purpose: string };
    url: string;
    description: string | null;
    filter: WebhookFilter;
    selection: string;
    secret: string;
    fromSequence: bigint;
  }): Promise<Endpoint> {
    const { owner } = input;
    const [row] = await this.db.query<EndpointRow>(
      `WITH "endpoint" AS (
         INSERT INTO "webhook_endpoint" ("id", "organisation_id", "owner_subject", "owner_role", "owner_purpose", "owner_scopes", "url", "description",
           "filter_patient_id", "filter_trajectory_id", "filter_provider_id", "filter_to_statuses", "selection", "status", "from_sequence")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending_verification', $16::bigint)
         RETURNING ${ENDPOINT_COLUMNS}
       ), "secret" AS (
         INSERT INTO "webhook_secret" ("id", "endpoint_id", "secret") SELECT $14, "id", $15 FROM "endpoint"
       )
       SELECT * FROM "endpoint"`,
      [
        randomUUID(),
        owner.organisationId,
        owner.subject,
        owner.role,
        owner.purpose,
        [...owner.scopes],
        input.url,
        input.description,
        input.filter.patientId,
        input.filter.trajectoryId,
        input.filter.providerId,
        nullIfEmpty(input.filter.toStatus),
        input.selection,
        randomUUID(),
        input.secret,
        input.fromSequence.toString(),
      ],
    );
    return toEndpoint(row!);
  }

  /** The endpoint if it belongs to the organisation; another organisation's endpoint does not exist for the caller. */
  async endpoint(id: string, organisationId: string): Promise<Endpoint | undefined> {
    if (!isUuid(id) || !this.opened) return undefined;
    const [row] = await this.db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM "webhook_endpoint" WHERE "id" = $1 AND "organisation_id" = $2`, [
      id,
      organisationId,
    ]);
    return row && toEndpoint(row);
  }

  /** The organisation's endpoints, oldest first, as a Relay connection. */
  async endpoints(organisationId: string, first?: number | null, after?: string | null): Promise<Connection<Endpoint>> {
    const size = pageSize({ first: first ?? null });
    if (!this.opened) return connectionFromKeyset([], size, () => '', 0, Boolean(after), plainCursors);
    const params: unknown[] = [organisationId];
    let keyset = '';
    if (after) {
      const [createdAt, id] = parseKey(decodeCursor(after));
      params.push(createdAt, id);
      keyset = ` AND ("created_at", "id") > ($2::timestamptz, $3::uuid)`;
    }
    const [rows, [count]] = await Promise.all([
      this.db.query<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM "webhook_endpoint" WHERE "organisation_id" = $1${keyset} ORDER BY "created_at", "id" LIMIT ${size + 1}`,
        params,
      ),
      this.db.query<{ count: string | number }>(`SELECT count(*) AS "count" FROM "webhook_endpoint" WHERE "organisation_id" = $1`, [organisationId]),
    ]);
    return connectionFromKeyset(
      rows.map(toEndpoint),
      size,
      (e) => `${e.createdAt.toISOString()}|${e.id}`,
      Number(count?.count ?? 0),
      Boolean(after),
      plainCursors,
    );
  }

  /** Valid secrets of an endpoint, newest first. */
  async secrets(endpointId: string): Promise<string[]> {
    const rows = await this.db.query<{ secret: string }>(
      `SELECT "secret" FROM "webhook_secret" WHERE "endpoint_id" = $1 AND ("expires_at" IS NULL OR "expires_at" > now()) ORDER BY "created_at" DESC, "id"`,
      [endpointId],
    );
    return rows.map((row) => row.secret);
  }

  /**
   * Moves an endpoint from one status to another when it is in `from`; returns it, or undefined
   * when it is not the organisation's or not in `from` (the caller tells which).
   */
  async transition(id: string, organisationId: string, from: readonly EndpointStatus[], to: EndpointStatus): Promise<Endpoint | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<EndpointRow>(
      `UPDATE "webhook_endpoint" SET "status" = $3, "updated_at" = now(),
         "verified_at" = CASE WHEN "status" = 'pending_verification' THEN now() ELSE "verified_at" END
       WHERE "id" = $1 AND "organisation_id" = $2 AND "status" = ANY($4::text[])
       RETURNING ${ENDPOINT_COLUMNS}`,
      [id, organisationId, to, [...from]],
    );
    return row && toEndpoint(row);
  }

  /**
   * A new current secret; the previous ones keep signing until `overlapHours` from now (0: they
   * stop at once). Secrets whose overlap has passed are removed.
   */
  async rotateSecret(id: string, organisationId: string, secret: string, overlapHours: number): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.query<{ id: string }>(
      `WITH "endpoint" AS (
         SELECT "id" FROM "webhook_endpoint" WHERE "id" = $1 AND "organisation_id" = $2
       ), "expired" AS (
         DELETE FROM "webhook_secret" WHERE "endpoint_id" IN (SELECT "id" FROM "endpoint") AND "expires_at" <= now()
       ), "retired" AS (
         UPDATE "webhook_secret" SET "expires_at" = now() + make_interval(hours => $3::int)
         WHERE "endpoint_id" IN (SELECT "id" FROM "endpoint") AND ("expires_at" IS NULL OR "expires_at" > now() + make_interval(hours => $3::int))
       ), "added" AS (
         INSERT INTO "webhook_secret" ("id", "endpoint_id", "secret") SELECT $4, "id", $5 FROM "endpoint"
       )
       SELECT "id" FROM "endpoint"`,
      [id, organisationId, overlapHours, randomUUID(), secret],
    );
    return rows.length > 0;
  }

  /** Deletes an endpoint with its secrets, schedule and dead letters. */
  async deleteEndpoint(id: string, organisationId: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.query(`DELETE FROM "webhook_endpoint" WHERE "id" = $1 AND "organisation_id" = $2 RETURNING "id"`, [id, organisationId]);
    return rows.length > 0;
  }

  // ---- enqueueing ------------------------------------------------------------------------------

  /** How far the feed has been enqueued; initialised to `head` on a new database (no history is replayed to endpoints that do not exist yet). */
  async position(head: () => Promise<bigint>): Promise<bigint> {
    const [row] = await this.db.query<{ sequence: string | number | bigint }>(`SELECT "sequence" FROM "webhook_feed_position"`);
    if (row) return BigInt(row.sequence);
    await this.db.query(`INSERT INTO "webhook_feed_position" ("sequence") VALUES ($1) ON CONFLICT ("id") DO NOTHING`, [(await head()).toString()]);
    const [stored] = await this.db.query<{ sequence: string | number | bigint }>(`SELECT "sequence" FROM "webhook_feed_position"`);
    return BigInt(stored!.sequence);
  }

  /**
   * One delivery per (matching endpoint, event), and the position moved past the events, in one
   * statement. Idempotent: an instance that enqueues events another already did adds nothing
   * (unique endpoint and sequence). Every endpoint, in any status, gets the events after its
   * registration: claims wait for it to be active (verified, not paused). With `endpointId`,
   * for that endpoint only (the backfill at verification), and the position stays.
   */
  async enqueue(events: readonly EnqueueableEvent[], through: bigint | null, endpointId?: string): Promise<number> {
    const rows = await this.db.query<{ enqueued: string | number }>(
      `WITH "event" AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS e("sequence" BIGINT, "patient_id" TEXT, "trajectory_id" TEXT, "provider_id" TEXT, "to_status" TEXT)
       ), "inserted" AS (
         INSERT INTO "webhook_delivery" ("id", "endpoint_id", "sequence", "patient_id")
         SELECT gen_random_uuid(), w."id", e."sequence", e."patient_id"
         FROM "event" e JOIN "webhook_endpoint" w
           ON e."sequence" > w."from_sequence" AND ($3::uuid IS NULL OR w."id" = $3::uuid)
          AND (w."filter_patient_id" IS NULL OR e."patient_id" = w."filter_patient_id")
          AND (w."filter_trajectory_id" IS NULL OR e."trajectory_id" = w."filter_trajectory_id")
          AND (w."filter_provider_id" IS NULL OR e."provider_id" = w."filter_provider_id")
          AND (w."filter_to_statuses" IS NULL OR e."to_status" = ANY(w."filter_to_statuses"))
         ORDER BY e."sequence"
         ON CONFLICT ("endpoint_id", "sequence") DO NOTHING
         RETURNING 1
       ), "moved" AS (
         INSERT INTO "webhook_feed_position" ("sequence") SELECT $2::bigint WHERE $2::bigint IS NOT NULL
         ON CONFLICT ("id") DO UPDATE SET "sequence" = GREATEST("webhook_feed_position"."sequence", EXCLUDED."sequence")
       )
       SELECT count(*) AS "enqueued" FROM "inserted"`,
      [
        JSON.stringify(
          events.map((e) => ({
            sequence: e.sequence.toString(),
            patient_id: e.patientId,
            trajectory_id: e.trajectoryId,
            provider_id: e.providerId,
            to_status: e.toStatus,
          })),
        ),
        through?.toString() ?? null,
        endpointId ?? null,
      ],
    );
    return Number(rows[0]?.enqueued ?? 0);
  }

  /** Moves the position without enqueueing (events past retention could not be read). */
  async skipTo(sequence: bigint): Promise<void> {
    await this.db.query(
      `INSERT INTO "webhook_feed_position" ("sequence") VALUES ($1::bigint)
       ON CONFLICT ("id") DO UPDATE SET "sequence" = GREATEST("webhook_feed_position"."sequence", EXCLUDED."sequence")`,
      [sequence.toString()],
    );
  }

  // ---- delivering ------------------------------------------------------------------------------

  /**
   * Claims up to `limit` due deliveries for `owner` until `leaseMs` from now. Per endpoint and
   * patient only the earliest pending event is eligible, so a patient's next event waits until
   * the previous one is delivered, skipped or dead. Rows another instance is claiming are skipped
   * (FOR UPDATE SKIP LOCKED); a claim whose lease ran out (its instance died) is claimable again.
   */
  async claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.db.query<{
      id: string;
      sequence: string | number | bigint;
      patient_id: string;
      attempts: number;
      endpoint_id: string;
      url: string;
      selection: string;
      organisation_id: string;
      owner_subject: string;
      owner_role: string;
      owner_purpose: string;
      owner_scopes: string[];
      secrets: string[] | null;
    }>(
      `WITH "due" AS (
         SELECT d."id" FROM "webhook_delivery" d
         JOIN "webhook_endpoint" w ON w."id" = d."endpoint_id" AND w."status" = 'active'
         WHERE d."status" = 'pending' AND d."next_attempt_at" <= now()
           AND (d."lease_until" IS NULL OR d."lease_until" < now())
           AND NOT EXISTS (
             SELECT 1 FROM "webhook_delivery" p
             WHERE p."endpoint_id" = d."endpoint_id" AND p."patient_id" = d."patient_id" AND p."status" = 'pending' AND p."sequence" < d."sequence")
         ORDER BY d."next_attempt_at", d."sequence"
         LIMIT $3
         FOR UPDATE OF d SKIP LOCKED
       ), "claimed" AS (
         UPDATE "webhook_delivery" d SET "lease_owner" = $1, "lease_until" = now() + make_interval(secs => $2::double precision / 1000)
         FROM "due" WHERE d."id" = "due"."id"
         RETURNING d."id", d."sequence", d."patient_id", d."attempts", d."endpoint_id"
       )
       SELECT c.*, w."url", w."selection", w."organisation_id", w."owner_subject", w."owner_role", w."owner_purpose", w."owner_scopes",
         (SELECT array_agg(s."secret" ORDER BY s."created_at" DESC, s."id") FROM "webhook_secret" s
          WHERE s."endpoint_id" = w."id" AND (s."expires_at" IS NULL OR s."expires_at" > now())) AS "secrets"
       FROM "claimed" c JOIN "webhook_endpoint" w ON w."id" = c."endpoint_id"
       ORDER BY c."sequence"`,
      [owner, leaseMs, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      sequence: BigInt(row.sequence),
      patientId: row.patient_id,
      attempts: row.attempts,
      endpoint: {
        id: row.endpoint_id,
        url: row.url,
        selection: row.selection,
        owner: { subject: row.owner_subject, organisationId: row.organisation_id, role: row.owner_role, purpose: row.owner_purpose, scopes: row.owner_scopes },
      },
      secrets: row.secrets ?? [],
    }));
  }

  /** Records the end of a delivery this instance still holds: delivered, or skipped (the owner may not see the event). */
  async finish(id: string, owner: string, status: 'delivered' | 'skipped', attempts: number): Promise<void> {
    await this.db.query(
      `UPDATE "webhook_delivery" SET "status" = $3, "attempts" = $4, "finished_at" = now(), "lease_owner" = NULL, "lease_until" = NULL, "last_error" = NULL
       WHERE "id" = $1 AND "lease_owner" = $2 AND "status" = 'pending'`,
      [id, owner, status, attempts],
    );
  }

  /** A failed attempt: tried again after `delayMs`. */
  async retryLater(id: string, owner: string, attempts: number, delayMs: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE "webhook_delivery" SET "attempts" = $3, "next_attempt_at" = now() + make_interval(secs => $4::double precision / 1000),
         "last_error" = $5, "lease_owner" = NULL, "lease_until" = NULL
       WHERE "id" = $1 AND "lease_owner" = $2 AND "status" = 'pending'`,
      [id, owner, attempts, delayMs, error],
    );
  }

  /** The last attempt failed: the delivery is dead and listed as a dead letter. */
  async deadLetter(id: string, owner: string, attempts: number, error: string): Promise<void> {
    await this.db.query(
      `WITH "dead" AS (
         UPDATE "webhook_delivery" SET "status" = 'dead', "attempts" = $3, "last_error" = $4, "finished_at" = now(), "lease_owner" = NULL, "lease_until" = NULL
         WHERE "id" = $1 AND "lease_owner" = $2 AND "status" = 'pending'
         RETURNING "id", "endpoint_id", "sequence"
       )
       INSERT INTO "webhook_dead_letter" ("id", "delivery_id", "endpoint_id", "sequence", "attempts", "last_error")
       SELECT $5, "id", "endpoint_id", "sequence", $3, $4 FROM "dead"`,
      [id, owner, attempts, error, randomUUID()],
    );
  }

  /** Extends this instance's leases on deliveries still in flight (the heartbeat that lets leases be short). */
  async renew(ids: readonly string[], owner: string, leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE "webhook_delivery" SET "lease_until" = now() + make_interval(secs => $3::double precision / 1000) WHERE "id" = ANY($1::uuid[]) AND "lease_owner" = $2 AND "status" = 'pending'`,
      [[...ids], owner, leaseMs],
    );
  }

  /** Gives claims back without counting an attempt (shutdown). */
  async release(ids: readonly string[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE "webhook_delivery" SET "lease_owner" = NULL, "lease_until" = NULL WHERE "id" = ANY($1::uuid[]) AND "lease_owner" = $2`, [
      [...ids],
      owner,
    ]);
  }

  /**
   * Forgets finished deliveries (delivered or skipped) older than `days`: the feed never offers
   * events that old again, so their unique key is no longer needed. Dead ones stay with their
   * dead letter until the endpoint is deleted.
   */
  async forgetFinished(days: number): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM "webhook_delivery" WHERE "status" IN ('delivered', 'skipped') AND "finished_at" < now() - make_interval(days => $1::int) RETURNING 1`,
      [days],
    );
    return rows.length;
  }

  // ---- dead letters ----------------------------------------------------------------------------

  async deadLetters(endpointId: string, organisationId: string, first?: number | null, after?: string | null): Promise<Connection<DeadLetter>> {
    const size = pageSize({ first: first ?? null });
    const params: unknown[] = [endpointId, organisationId];
    let keyset = '';
    if (after) {
      const [deadAt, id] = parseKey(decodeCursor(after));
      params.push(deadAt, id);
      keyset = ` AND (l."dead_at", l."id") > ($3::timestamptz, $4::uuid)`;
    }
    const owned = `l."endpoint_id" = $1 AND EXISTS (SELECT 1 FROM "webhook_endpoint" w WHERE w."id" = l."endpoint_id" AND w."organisation_id" = $2)`;
    const [rows, [count]] = await Promise.all([
      this.db.query<DeadLetterRow>(`SELECT l.* FROM "webhook_dead_letter" l WHERE ${owned}${keyset} ORDER BY l."dead_at", l."id" LIMIT ${size + 1}`, params),
      this.db.query<{ count: string | number }>(`SELECT count(*) AS "count" FROM "webhook_dead_letter" l WHERE ${owned}`, params.slice(0, 2)),
    ]);
    return connectionFromKeyset(
      rows.map(toDeadLetter),
      size,
      (l) => `${l.deadAt.toISOString()}|${l.id}`,
      Number(count?.count ?? 0),
      Boolean(after),
      plainCursors,
    );
  }

  /**
   * Schedules a dead letter's event again (attempts from zero, due now). Returns the dead letter,
   * `undefined` when it is not the organisation's, or `'already'` when it was redelivered before.
   */
  async redeliver(deadLetterId: string, organisationId: string): Promise<DeadLetter | 'already' | undefined> {
    if (!isUuid(deadLetterId)) return undefined;
    const [row] = await this.db.query<DeadLetterRow>(
      `WITH "letter" AS (
         UPDATE "webhook_dead_letter" l SET "redelivered_at" = now()
         WHERE l."id" = $1 AND l."redelivered_at" IS NULL
           AND EXISTS (SELECT 1 FROM "webhook_endpoint" w WHERE w."id" = l."endpoint_id" AND w."organisation_id" = $2)
         RETURNING l.*
       ), "rescheduled" AS (
         UPDATE "webhook_delivery" d SET "status" = 'pending', "attempts" = 0, "next_attempt_at" = now(), "finished_at" = NULL, "last_error" = NULL
         FROM "letter" WHERE d."id" = "letter"."delivery_id"
       )
       SELECT * FROM "letter"`,
      [deadLetterId, organisationId],
    );
    if (row) return toDeadLetter(row);
    const [existing] = await this.db.query<DeadLetterRow>(
      `SELECT l.* FROM "webhook_dead_letter" l JOIN "webhook_endpoint" w ON w."id" = l."endpoint_id" AND w."organisation_id" = $2 WHERE l."id" = $1`,
      [deadLetterId, organisationId],
    );
    return existing ? 'already' : undefined;
  }

  /** Deliveries per endpoint and status for many endpoints, in one statement (batched per request by the subgraph). */
  async deliveryCounts(endpointIds: readonly string[]): Promise<DeliveryCount[]> {
    const rows = await this.db.query<{ endpoint_id: string; status: keyof DeliveryCounts; count: string | number }>(
      `SELECT "endpoint_id", "status", count(*) AS "count" FROM "webhook_delivery" WHERE "endpoint_id" = ANY($1::uuid[]) GROUP BY "endpoint_id", "status"`,
      [[...endpointIds]],
    );
    return rows.map((row) => ({ endpointId: row.endpoint_id, status: row.status, count: Number(row.count) }));
  }
}

export interface DeliveryCount {
  endpointId: string;
  status: keyof DeliveryCounts;
  count: number;
}

export interface DeliveryCounts {
  pending: number;
  delivered: number;
  skipped: number;
  dead: number;
}

interface DeadLetterRow extends Record<string, unknown> {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  sequence: string | number | bigint;
  attempts: number;
  last_error: string | null;
  dead_at: Date;
  redelivered_at: Date | null;
}

const toDeadLetter = (row: DeadLetterRow): DeadLetter => ({
  id: row.id,
  endpointId: row.endpoint_id,
  sequence: BigInt(row.sequence),
  messageId: messageId(row.delivery_id),
  attempts: row.attempts,
  lastError: row.last_error,
  deadAt: new Date(row.dead_at),
  redeliveredAt: row.redelivered_at && new Date(row.redelivered_at),
});

/** The webhook-id of a delivery: the same on every attempt and redelivery, so receivers can deduplicate. */
export function messageId(deliveryId: string): string {
  return `msg_${deliveryId.replaceAll('-', '')}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function isUuid(value: string): boolean {
  return UUID.test(value);
}

function parseKey(key: string): [string, string] {
  const [at, id] = key.split('|');
  const date = new Date(at ?? '');
  if (Number.isNaN(date.getTime()) || date.toISOString() !== at || !id || !isUuid(id)) throw badInput('The cursor is not one this API handed out.', 'after');
  return [at, id];
}
