-- A transfer (overplaatsing) in plaatsing records its handover here, relayed by the gateway from
-- plaatsing's event feed. The receiving placement's event sequence identifies the transfer: one
-- handover per transfer, however often the relay retries or however many gateways relay.
ALTER TABLE "Handover" ADD COLUMN "sourceSequence" BIGINT;
CREATE UNIQUE INDEX "Handover_sourceSequence_key" ON "Handover"("sourceSequence");

-- How far the relay has followed plaatsing's event feed: one row, only ever moved forward.
CREATE TABLE "HandoverRelayPosition" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "sequence" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "HandoverRelayPosition_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "HandoverRelayPosition_one_row_check" CHECK ("id" = 1),
    CONSTRAINT "HandoverRelayPosition_sequence_check" CHECK ("sequence" >= 0)
);
