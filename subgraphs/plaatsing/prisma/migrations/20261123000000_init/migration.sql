-- plaatsing: initial schema (mirrors prisma/schema.prisma)
CREATE TYPE "CareType" AS ENUM ('KLINISCH', 'VERBLIJF', 'AMBULANT');
CREATE TYPE "ProviderType" AS ENUM ('FPC', 'FPK', 'FPA', 'PPC', 'FBW', 'AMBULANT');
CREATE TYPE "Region" AS ENUM ('NOORDOOST', 'NOORDWEST', 'MIDDEN', 'ZUIDOOST', 'ZUIDWEST');
CREATE TYPE "PlacementStatus" AS ENUM ('REQUESTED', 'INTAKE', 'ACCEPTED', 'DECLINED', 'DECIDED', 'ADMITTED', 'TRANSFERRED', 'ENDED', 'WITHDRAWN');

CREATE TABLE "Provider" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" "ProviderType" NOT NULL,
    "region" "Region" NOT NULL,
    CONSTRAINT "Provider_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Provider_region_type_idx" ON "Provider"("region", "type");
CREATE INDEX "Provider_type_idx" ON "Provider"("type");

CREATE TABLE "ProviderCapacity" (
    "providerId" TEXT NOT NULL,
    "careType" "CareType" NOT NULL,
    "securityLevel" INTEGER NOT NULL,
    "totalPlaces" INTEGER NOT NULL,
    "occupiedPlaces" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "ProviderCapacity_pkey" PRIMARY KEY ("providerId", "careType", "securityLevel"),
    CONSTRAINT "ProviderCapacity_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "Provider"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "ProviderCapacity_security_level_check" CHECK ("securityLevel" BETWEEN 1 AND 5),
    -- A place is claimed only when one is free: the database refuses over-occupation even if code does not.
    CONSTRAINT "ProviderCapacity_occupancy_check" CHECK ("occupiedPlaces" >= 0 AND "occupiedPlaces" <= "totalPlaces")
);
CREATE INDEX "ProviderCapacity_careType_securityLevel_idx" ON "ProviderCapacity"("careType", "securityLevel");

CREATE TABLE "Placement" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "trajectoryId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "careType" "CareType" NOT NULL,
    "securityLevel" INTEGER NOT NULL,
    "status" "PlacementStatus" NOT NULL,
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "admittedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "declineReason" TEXT,
    "transferredFromId" TEXT,
    CONSTRAINT "Placement_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Placement_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "Provider"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Placement_transferredFromId_fkey" FOREIGN KEY ("transferredFromId") REFERENCES "Placement"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Placement_security_level_check" CHECK ("securityLevel" BETWEEN 1 AND 5),
    CONSTRAINT "Placement_admission_check" CHECK ("admittedAt" IS NULL OR "admittedAt" >= date_trunc('day', "requestedAt")),
    CONSTRAINT "Placement_end_check" CHECK ("endedAt" IS NULL OR "admittedAt" IS NULL OR "endedAt" >= "admittedAt")
);
CREATE UNIQUE INDEX "Placement_transferredFromId_key" ON "Placement"("transferredFromId");
CREATE INDEX "Placement_patientId_requestedAt_idx" ON "Placement"("patientId", "requestedAt");
CREATE INDEX "Placement_trajectoryId_requestedAt_idx" ON "Placement"("trajectoryId", "requestedAt");
CREATE INDEX "Placement_providerId_id_idx" ON "Placement"("providerId", "id");
CREATE INDEX "Placement_providerId_status_id_idx" ON "Placement"("providerId", "status", "id");
CREATE INDEX "Placement_admittedAt_idx" ON "Placement"("admittedAt");

-- Outbox and history in one: written in the same transaction as the change it records.
CREATE TABLE "PlacementEvent" (
    "sequence" BIGSERIAL NOT NULL,
    "placementId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "trajectoryId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "fromStatus" "PlacementStatus",
    "toStatus" "PlacementStatus" NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reason" TEXT,
    "actorId" TEXT NOT NULL,
    "actorOrganisationId" TEXT NOT NULL,
    CONSTRAINT "PlacementEvent_pkey" PRIMARY KEY ("sequence"),
    CONSTRAINT "PlacementEvent_placementId_fkey" FOREIGN KEY ("placementId") REFERENCES "Placement"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "PlacementEvent_placementId_sequence_idx" ON "PlacementEvent"("placementId", "sequence");
