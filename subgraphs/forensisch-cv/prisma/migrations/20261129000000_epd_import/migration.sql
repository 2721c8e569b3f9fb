-- forensisch-cv: entries imported from providers' EPDs (FHIR R4), with provenance (mirrors prisma/schema.prisma)
ALTER TYPE "CvEntryKind" ADD VALUE 'EARLY_WARNING_SIGN';

ALTER TABLE "CvEntry"
    ADD COLUMN "sourceProviderId" TEXT,
    ADD COLUMN "sourceResourceType" TEXT,
    ADD COLUMN "sourceResourceId" TEXT,
    ADD COLUMN "sourceVersionId" TEXT,
    ADD COLUMN "sourceLastUpdated" TIMESTAMP(3),
    -- An imported entry names its provider, resource type and id, and at least one of versionId and lastUpdated.
    ADD CONSTRAINT "CvEntry_source_check" CHECK (
        ("sourceProviderId" IS NULL AND "sourceResourceType" IS NULL AND "sourceResourceId" IS NULL AND "sourceVersionId" IS NULL AND "sourceLastUpdated" IS NULL)
        OR ("sourceProviderId" IS NOT NULL AND "sourceResourceType" IS NOT NULL AND "sourceResourceId" IS NOT NULL
            AND ("sourceVersionId" IS NOT NULL OR "sourceLastUpdated" IS NOT NULL)));
CREATE INDEX "CvEntry_sourceProviderId_sourceResourceType_sourceResourceId_idx" ON "CvEntry"("sourceProviderId", "sourceResourceType", "sourceResourceId");
-- Each version of an EPD resource becomes at most one CV version, however many reads import it at once.
CREATE UNIQUE INDEX "CvEntry_source_version_key" ON "CvEntry"("sourceProviderId", "sourceResourceType", "sourceResourceId",
    COALESCE("sourceVersionId", ''), COALESCE("sourceLastUpdated", TIMESTAMP '1970-01-01')) WHERE "sourceProviderId" IS NOT NULL;

CREATE TABLE "EpdSource" (
    "providerId" TEXT NOT NULL,
    "fhirBaseUrl" TEXT NOT NULL,
    "tokenUrl" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "signingKey" JSONB NOT NULL,
    "registeredAt" TIMESTAMP(3) NOT NULL,
    "registeredBy" TEXT NOT NULL,
    CONSTRAINT "EpdSource_pkey" PRIMARY KEY ("providerId")
);

CREATE TABLE "EpdSyncState" (
    "patientId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "resourceType" TEXT NOT NULL,
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "highWater" TIMESTAMP(3),
    CONSTRAINT "EpdSyncState_pkey" PRIMARY KEY ("patientId", "providerId", "resourceType")
);

CREATE TABLE "EpdUnmapped" (
    "providerId" TEXT NOT NULL,
    "resourceType" TEXT NOT NULL,
    "resourceId" TEXT NOT NULL,
    "versionKey" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "seenAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "EpdUnmapped_pkey" PRIMARY KEY ("providerId", "resourceType", "resourceId", "versionKey")
);
CREATE INDEX "EpdUnmapped_patientId_idx" ON "EpdUnmapped"("patientId");
