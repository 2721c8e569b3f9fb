-- Webhook state of the gateway (its own database: the audit log stays audit-only). Endpoints
-- belong to the organisation that registered them and are delivered as the registering
-- principal; deliveries are the durable schedule (at least once, in order per patient per
-- endpoint); never a response body or a payload is stored, so no personal data lands here.

CREATE TABLE "webhook_endpoint" (
    "id" UUID PRIMARY KEY,
    "organisation_id" TEXT NOT NULL,
    "owner_subject" TEXT NOT NULL,
    "owner_role" TEXT NOT NULL,
    "owner_purpose" TEXT NOT NULL,
    "owner_scopes" TEXT[] NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    -- Which events (the fields of placementChanged's filter); null means no restriction.
    "filter_patient_id" TEXT,
    "filter_trajectory_id" TEXT,
    "filter_provider_id" TEXT,
    "filter_to_statuses" TEXT[],
    -- The GraphQL subscription document on placementChanged that shapes the payload.
    "selection" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    -- Events after this sequence (the newest at registration) are delivered, once verified.
    "from_sequence" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "verified_at" TIMESTAMPTZ,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT "webhook_endpoint_status_check" CHECK ("status" IN ('pending_verification', 'active', 'paused'))
);
CREATE INDEX "webhook_endpoint_organisation_id_idx" ON "webhook_endpoint" ("organisation_id", "created_at");

-- Signing secrets: more than one is valid while a rotation overlaps; every valid one signs.
CREATE TABLE "webhook_secret" (
    "id" UUID PRIMARY KEY,
    "endpoint_id" UUID NOT NULL REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE,
    "secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- null: current; otherwise the end of the rotation overlap.
    "expires_at" TIMESTAMPTZ
);
CREATE INDEX "webhook_secret_endpoint_id_idx" ON "webhook_secret" ("endpoint_id");

CREATE TABLE "webhook_delivery" (
    "id" UUID PRIMARY KEY,
    "endpoint_id" UUID NOT NULL REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE,
    "sequence" BIGINT NOT NULL,
    "patient_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A claim by one gateway instance; expired leases (a crashed instance) are claimed again.
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ,
    -- A code such as http_500, timeout, connection_reset; never a response body.
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "finished_at" TIMESTAMPTZ,
    CONSTRAINT "webhook_delivery_status_check" CHECK ("status" IN ('pending', 'delivered', 'skipped', 'dead')),
    -- Every instance sees every event: the pair is enqueued once whoever sees it first.
    CONSTRAINT "webhook_delivery_endpoint_id_sequence_key" UNIQUE ("endpoint_id", "sequence")
);
-- The claim: due pending deliveries, and for each the patient's earlier pending ones.
CREATE INDEX "webhook_delivery_pending_idx" ON "webhook_delivery" ("next_attempt_at") WHERE "status" = 'pending';
CREATE INDEX "webhook_delivery_patient_idx" ON "webhook_delivery" ("endpoint_id", "patient_id", "sequence") WHERE "status" = 'pending';

CREATE TABLE "webhook_dead_letter" (
    "id" UUID PRIMARY KEY,
    "delivery_id" UUID NOT NULL REFERENCES "webhook_delivery" ("id") ON DELETE CASCADE,
    "endpoint_id" UUID NOT NULL REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE,
    "sequence" BIGINT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "last_error" TEXT,
    "dead_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "redelivered_at" TIMESTAMPTZ
);
CREATE INDEX "webhook_dead_letter_endpoint_id_idx" ON "webhook_dead_letter" ("endpoint_id", "dead_at");

-- How far the event feed has been turned into deliveries (one row), so events that happened
-- while no gateway ran are enqueued at the next start.
CREATE TABLE "webhook_feed_position" (
    "id" BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK ("id"),
    "sequence" BIGINT NOT NULL
);
