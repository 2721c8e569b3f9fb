-- NEN 7513 access log of the gateway: one row per patient-data event, no data values.
-- Rows form a hash chain in `sequence` order (see gateway/src/audit/chain.ts); the store itself
-- refuses changes to written rows and any row that does not extend the chain's head.

CREATE TABLE "audit_record" (
    "sequence" BIGSERIAL PRIMARY KEY,
    "event_id" UUID NOT NULL,
    "occurred_at" TIMESTAMPTZ NOT NULL,
    "action" TEXT NOT NULL,
    "patient_id" TEXT,
    "user_id" TEXT NOT NULL,
    "organisation_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "purpose" TEXT,
    "fields_delivered" TEXT[] NOT NULL,
    "categories_delivered" TEXT[] NOT NULL,
    "fields_withheld" TEXT[] NOT NULL,
    "categories_withheld" TEXT[] NOT NULL,
    "outcome" TEXT NOT NULL,
    "request_id" TEXT NOT NULL,
    "operation_name" TEXT,
    "previous_hash" CHAR(64) NOT NULL,
    "hash" CHAR(64) NOT NULL,
    CONSTRAINT "audit_record_event_id_key" UNIQUE ("event_id"),
    CONSTRAINT "audit_record_action_check" CHECK ("action" IN ('read', 'create', 'update', 'search')),
    CONSTRAINT "audit_record_outcome_check" CHECK ("outcome" IN ('granted', 'partially_granted', 'denied', 'error')),
    CONSTRAINT "audit_record_hash_check" CHECK ("hash" ~ '^[0-9a-f]{64}$' AND "previous_hash" ~ '^[0-9a-f]{64}$')
);

-- The privacy officer's trail: one patient, a time window, in time order (keyset on sequence).
CREATE INDEX "audit_record_patient_id_occurred_at_idx" ON "audit_record" ("patient_id", "occurred_at", "sequence");

-- Append-only: written rows are never changed or removed, not even by the table's owner in
-- ordinary use (tests that forge tampering disable the trigger explicitly).
CREATE FUNCTION "audit_record_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_record is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_record_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_record"
  FOR EACH ROW EXECUTE FUNCTION "audit_record_refuse_change"();
CREATE TRIGGER "audit_record_no_truncate" BEFORE TRUNCATE ON "audit_record"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_record_refuse_change"();

-- A new row must extend the head: the next sequence number, chained from its predecessor's hash
-- (the genesis value for the first). Two writers extending the same head collide on the primary
-- key, so the chain cannot fork; the loser re-reads the head and retries.
CREATE FUNCTION "audit_record_extend_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  predecessor CHAR(64);
BEGIN
  IF NEW."sequence" = 1 THEN
    predecessor := repeat('0', 64);
  ELSE
    SELECT "hash" INTO predecessor FROM "audit_record" WHERE "sequence" = NEW."sequence" - 1;
  END IF;
  IF predecessor IS NULL OR predecessor <> NEW."previous_hash" THEN
    RAISE EXCEPTION 'audit_record % does not extend the chain', NEW."sequence" USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "audit_record_extend_chain" BEFORE INSERT ON "audit_record"
  FOR EACH ROW EXECUTE FUNCTION "audit_record_extend_chain"();
