-- Each record's seal: HMAC-SHA256 of its hash under a key the database does not hold (see
-- gateway/src/audit/anchor.ts). A row appended or rewritten without that key cannot carry a valid
-- one, however correctly its hash is computed. Rows written before this migration have none.
ALTER TABLE "audit_record" ADD COLUMN "seal" CHAR(64);
ALTER TABLE "audit_record" ADD CONSTRAINT "audit_record_seal_check" CHECK ("seal" IS NULL OR "seal" ~ '^[0-9a-f]{64}$');
