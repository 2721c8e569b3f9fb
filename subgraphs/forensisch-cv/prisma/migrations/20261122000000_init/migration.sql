-- forensisch-cv: initial schema (mirrors prisma/schema.prisma)
CREATE TYPE "CvEntryKind" AS ENUM ('OFFENCE', 'DIAGNOSIS', 'RISK_ASSESSMENT', 'INCIDENT', 'LEAVE', 'TREATMENT');

CREATE TABLE "CvEntry" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" "CvEntryKind" NOT NULL,
    "occurredOn" DATE NOT NULL,
    "recordedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "authorId" TEXT NOT NULL,
    "authorOrganisationId" TEXT NOT NULL,
    "details" JSONB NOT NULL,
    "supersedesId" TEXT,
    CONSTRAINT "CvEntry_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "CvEntry_supersedesId_fkey" FOREIGN KEY ("supersedesId") REFERENCES "CvEntry"("id") ON DELETE RESTRICT ON UPDATE RESTRICT,
    -- Version 1 is the original; every later version is a correction of exactly one earlier row.
    CONSTRAINT "CvEntry_version_check" CHECK ("version" >= 1 AND (("version" = 1) = ("supersedesId" IS NULL))),
    CONSTRAINT "CvEntry_details_check" CHECK (jsonb_typeof("details") = 'object'),
    CONSTRAINT "CvEntry_patientId_check" CHECK (length("patientId") BETWEEN 1 AND 64)
);
CREATE UNIQUE INDEX "CvEntry_supersedesId_key" ON "CvEntry"("supersedesId");
CREATE UNIQUE INDEX "CvEntry_entryId_version_key" ON "CvEntry"("entryId", "version");
CREATE INDEX "CvEntry_patientId_kind_occurredOn_idx" ON "CvEntry"("patientId", "kind", "occurredOn");

-- Append-only, enforced by the store: history is never rewritten, whatever the client code does.
CREATE FUNCTION "CvEntry_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'CvEntry is append-only: % is not allowed; record a correction as a new version', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER "CvEntry_no_update_or_delete" BEFORE UPDATE OR DELETE ON "CvEntry"
    FOR EACH ROW EXECUTE FUNCTION "CvEntry_refuse_change"();
CREATE TRIGGER "CvEntry_no_truncate" BEFORE TRUNCATE ON "CvEntry"
    FOR EACH STATEMENT EXECUTE FUNCTION "CvEntry_refuse_change"();

-- A correction continues the corrected row's history: same entry, patient and kind, next version.
CREATE FUNCTION "CvEntry_check_correction"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    corrected "CvEntry"%ROWTYPE;
BEGIN
    IF NEW."supersedesId" IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO corrected FROM "CvEntry" WHERE "id" = NEW."supersedesId";
    IF FOUND AND (corrected."entryId" <> NEW."entryId" OR corrected."patientId" <> NEW."patientId"
        OR corrected."kind" <> NEW."kind" OR corrected."version" <> NEW."version" - 1) THEN
        RAISE EXCEPTION 'CvEntry correction must continue the corrected entry with the next version'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER "CvEntry_correction_check" BEFORE INSERT ON "CvEntry"
    FOR EACH ROW EXECUTE FUNCTION "CvEntry_check_correction"();
