-- indicatiestelling: initial schema (mirrors prisma/schema.prisma)
CREATE TYPE "CareType" AS ENUM ('KLINISCH', 'VERBLIJF', 'AMBULANT');
CREATE TYPE "LegalTitleKind" AS ENUM ('TBS_DWANGVERPLEGING', 'TBS_VOORWAARDEN', 'PIJ', 'VOORWAARDELIJKE_VEROORDELING', 'ISD', 'OVERPLAATSING_GEVANGENIS', 'WFZ_ZORGMACHTIGING');
CREATE TYPE "TrajectoryStatus" AS ENUM ('ACTIVE', 'CLOSED');
CREATE TYPE "IndicationStatus" AS ENUM ('DRAFT', 'ISSUED', 'SUPERSEDED', 'WITHDRAWN', 'EXPIRED');
CREATE TYPE "CareIntensity" AS ENUM ('LAAG', 'MIDDEL', 'HOOG');

CREATE TABLE "Patient" (
    "id" TEXT NOT NULL,
    "bsn" TEXT NOT NULL,
    "givenName" TEXT NOT NULL,
    "familyNamePrefix" TEXT,
    "familyName" TEXT NOT NULL,
    "birthDate" DATE NOT NULL,
    "registeredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Patient_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Patient_bsn_key" ON "Patient"("bsn");

CREATE TABLE "Trajectory" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "legalTitle" "LegalTitleKind" NOT NULL,
    "titleStartsOn" DATE NOT NULL,
    "titleEndsOn" DATE,
    "probationOrganisation" TEXT,
    "status" "TrajectoryStatus" NOT NULL DEFAULT 'ACTIVE',
    "currentPhase" INTEGER NOT NULL DEFAULT 1,
    "currentCareType" "CareType" NOT NULL,
    "currentSecurityLevel" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Trajectory_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Trajectory_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Trajectory_security_level_check" CHECK ("currentSecurityLevel" BETWEEN 1 AND 5)
);
CREATE INDEX "Trajectory_patientId_titleStartsOn_idx" ON "Trajectory"("patientId", "titleStartsOn");
CREATE INDEX "Trajectory_probationOrganisation_idx" ON "Trajectory"("probationOrganisation");

CREATE TABLE "Indication" (
    "id" TEXT NOT NULL,
    "trajectoryId" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "careType" "CareType" NOT NULL,
    "securityLevel" INTEGER NOT NULL,
    "intensity" "CareIntensity" NOT NULL,
    "validFrom" DATE NOT NULL,
    "validUntil" DATE NOT NULL,
    "status" "IndicationStatus" NOT NULL,
    "issuedOn" DATE NOT NULL,
    "statusReason" TEXT,
    CONSTRAINT "Indication_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Indication_trajectoryId_fkey" FOREIGN KEY ("trajectoryId") REFERENCES "Trajectory"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Indication_security_level_check" CHECK ("securityLevel" BETWEEN 1 AND 5),
    CONSTRAINT "Indication_validity_check" CHECK ("validUntil" >= "validFrom")
);
CREATE INDEX "Indication_trajectoryId_issuedOn_idx" ON "Indication"("trajectoryId", "issuedOn");

CREATE TABLE "TrajectoryIndication" (
    "id" TEXT NOT NULL,
    "trajectoryId" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "issuedOn" DATE NOT NULL,
    CONSTRAINT "TrajectoryIndication_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "TrajectoryIndication_trajectoryId_fkey" FOREIGN KEY ("trajectoryId") REFERENCES "Trajectory"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "TrajectoryIndication_trajectoryId_key" ON "TrajectoryIndication"("trajectoryId");

CREATE TABLE "TrajectoryPhase" (
    "id" TEXT NOT NULL,
    "trajectoryIndicationId" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "minSecurityLevel" INTEGER NOT NULL,
    "maxSecurityLevel" INTEGER NOT NULL,
    "careTypes" "CareType"[],
    CONSTRAINT "TrajectoryPhase_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "TrajectoryPhase_trajectoryIndicationId_fkey" FOREIGN KEY ("trajectoryIndicationId") REFERENCES "TrajectoryIndication"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "TrajectoryPhase_bounds_check" CHECK ("minSecurityLevel" BETWEEN 1 AND 5 AND "maxSecurityLevel" BETWEEN "minSecurityLevel" AND 5)
);
CREATE UNIQUE INDEX "TrajectoryPhase_trajectoryIndicationId_ordinal_key" ON "TrajectoryPhase"("trajectoryIndicationId", "ordinal");

CREATE TABLE "ScalingDecision" (
    "id" TEXT NOT NULL,
    "trajectoryId" TEXT NOT NULL,
    "phase" INTEGER NOT NULL,
    "fromCareType" "CareType" NOT NULL,
    "fromSecurityLevel" INTEGER NOT NULL,
    "toCareType" "CareType" NOT NULL,
    "toSecurityLevel" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "decidedBy" TEXT NOT NULL,
    "decidedByOrganisation" TEXT NOT NULL,
    "decidedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ScalingDecision_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ScalingDecision_trajectoryId_fkey" FOREIGN KEY ("trajectoryId") REFERENCES "Trajectory"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "ScalingDecision_trajectoryId_decidedAt_idx" ON "ScalingDecision"("trajectoryId", "decidedAt");
