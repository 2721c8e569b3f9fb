-- kwaliteit: initial schema (mirrors prisma/schema.prisma)
CREATE TYPE "HandoverItem" AS ENUM ('SETTING', 'POPULATION', 'RESPONSIVITY', 'RESIDENTIAL_INTENSITY', 'PATIENT_WISHES', 'OFFENCE_INFORMATION', 'COURSE_OF_STAY', 'EARLY_WARNING_SIGNS', 'DIAGNOSTIC_DATA', 'RISK_AND_PROTECTIVE_FACTORS', 'GOALS_CONTINUED', 'RECOVERY_GOALS');

CREATE TABLE "QualityReport" (
    "id" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "submittedOn" DATE NOT NULL,
    "forensicPatientCount" INTEGER NOT NULL,
    "djiFundedShare" DOUBLE PRECISION NOT NULL,
    "submittedBy" TEXT,
    "submittedByOrganisation" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "QualityReport_pkey" PRIMARY KEY ("id"),
    -- The Kwaliteitskader FZ is in force since 1 October 2022.
    CONSTRAINT "QualityReport_year_check" CHECK ("year" >= 2022),
    CONSTRAINT "QualityReport_patient_count_check" CHECK ("forensicPatientCount" >= 0),
    CONSTRAINT "QualityReport_dji_share_check" CHECK ("djiFundedShare" BETWEEN 0 AND 1)
);
-- One report per provider per year; also the lookup path for a provider's reports.
CREATE UNIQUE INDEX "QualityReport_providerId_year_key" ON "QualityReport"("providerId", "year");
CREATE INDEX "QualityReport_year_idx" ON "QualityReport"("year");

CREATE TABLE "PillarScore" (
    "id" TEXT NOT NULL,
    "reportId" TEXT NOT NULL,
    "pillar" INTEGER NOT NULL,
    "maturity" INTEGER NOT NULL,
    "explanation" TEXT NOT NULL,
    CONSTRAINT "PillarScore_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PillarScore_reportId_fkey" FOREIGN KEY ("reportId") REFERENCES "QualityReport"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "PillarScore_pillar_check" CHECK ("pillar" BETWEEN 1 AND 5),
    CONSTRAINT "PillarScore_maturity_check" CHECK ("maturity" BETWEEN 0 AND 4)
);
CREATE UNIQUE INDEX "PillarScore_reportId_pillar_key" ON "PillarScore"("reportId", "pillar");

CREATE TABLE "PerformanceIndicator" (
    "id" TEXT NOT NULL,
    "reportId" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "unit" TEXT NOT NULL,
    "explanation" TEXT NOT NULL,
    CONSTRAINT "PerformanceIndicator_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PerformanceIndicator_reportId_fkey" FOREIGN KEY ("reportId") REFERENCES "QualityReport"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "PerformanceIndicator_reportId_code_key" ON "PerformanceIndicator"("reportId", "code");

CREATE TABLE "Handover" (
    "id" TEXT NOT NULL,
    "trajectoryId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "fromProviderId" TEXT,
    "toProviderId" TEXT NOT NULL,
    "handedOverOn" DATE NOT NULL,
    "items" "HandoverItem"[],
    "recordedBy" TEXT,
    "recordedByOrganisation" TEXT,
    "recordedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Handover_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Handover_providers_check" CHECK ("fromProviderId" IS NULL OR "fromProviderId" <> "toProviderId")
);
CREATE INDEX "Handover_trajectoryId_handedOverOn_idx" ON "Handover"("trajectoryId", "handedOverOn");
CREATE INDEX "Handover_patientId_idx" ON "Handover"("patientId");
