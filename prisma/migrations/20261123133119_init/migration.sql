-- CreateEnum
CREATE TYPE "StudyState" AS ENUM ('receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed');

-- CreateEnum
CREATE TYPE "RunState" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateEnum
CREATE TYPE "DeliveryState" AS ENUM ('pending', 'sending', 'delivered', 'failed', 'dead');

-- CreateTable
CREATE TABLE "Study" (
    "id" UUID NOT NULL,
    "studyInstanceUid" TEXT NOT NULL,
    "state" "StudyState" NOT NULL DEFAULT 'receiving',
    "stateReason" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "patientIdHash" TEXT,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "instanceCount" INTEGER NOT NULL DEFAULT 0,
    "firstInstanceAt" TIMESTAMP(3) NOT NULL,
    "lastInstanceAt" TIMESTAMP(3) NOT NULL,
    "settledAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Study_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Series" (
    "id" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "seriesInstanceUid" TEXT NOT NULL,
    "modality" TEXT,
    "seriesDescription" TEXT,
    "seriesNumber" INTEGER,
    "bodyPartExamined" TEXT,
    "role" TEXT,
    "instanceCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Series_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Instance" (
    "id" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "seriesId" UUID NOT NULL,
    "sopInstanceUid" TEXT NOT NULL,
    "sopClassUid" TEXT NOT NULL,
    "transferSyntaxUid" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "instanceNumber" INTEGER,
    "imagePositionPatient" DOUBLE PRECISION[],
    "imageOrientationPatient" DOUBLE PRECISION[],
    "rows" INTEGER,
    "columns" INTEGER,
    "isCurrent" BOOLEAN NOT NULL DEFAULT true,
    "callingAeTitle" TEXT NOT NULL,
    "remoteAddress" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "placeholder" BOOLEAN NOT NULL DEFAULT false,
    "card" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InferenceRun" (
    "id" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "modelVersionId" UUID NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "inputHash" TEXT NOT NULL,
    "state" "RunState" NOT NULL DEFAULT 'queued',
    "studyProbability" DOUBLE PRECISION,
    "decision" TEXT,
    "threshold" DOUBLE PRECISION,
    "perImage" JSONB,
    "timings" JSONB,
    "provider" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "InferenceRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Report" (
    "id" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "inferenceRunId" UUID NOT NULL,
    "srSopInstanceUid" TEXT NOT NULL,
    "srSeriesInstanceUid" TEXT NOT NULL,
    "kosSopInstanceUid" TEXT,
    "srStorageKey" TEXT NOT NULL,
    "kosStorageKey" TEXT,
    "srSha256" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Report_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Destination" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "aeTitle" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "tls" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Destination_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Delivery" (
    "id" UUID NOT NULL,
    "reportId" UUID NOT NULL,
    "destinationId" UUID NOT NULL,
    "state" "DeliveryState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deliveredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "entityType" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "studyInstanceUid" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Study_studyInstanceUid_key" ON "Study"("studyInstanceUid");

-- CreateIndex
CREATE INDEX "Study_state_lastInstanceAt_idx" ON "Study"("state", "lastInstanceAt");

-- CreateIndex
CREATE UNIQUE INDEX "Series_seriesInstanceUid_key" ON "Series"("seriesInstanceUid");

-- CreateIndex
CREATE INDEX "Series_studyId_idx" ON "Series"("studyId");

-- CreateIndex
CREATE INDEX "Instance_studyId_idx" ON "Instance"("studyId");

-- CreateIndex
CREATE INDEX "Instance_seriesId_idx" ON "Instance"("seriesId");

-- CreateIndex
CREATE INDEX "Instance_sopInstanceUid_idx" ON "Instance"("sopInstanceUid");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_sopInstanceUid_sha256_key" ON "Instance"("sopInstanceUid", "sha256");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_name_version_sha256_key" ON "ModelVersion"("name", "version", "sha256");

-- CreateIndex
CREATE UNIQUE INDEX "InferenceRun_idempotencyKey_key" ON "InferenceRun"("idempotencyKey");

-- CreateIndex
CREATE INDEX "InferenceRun_studyId_idx" ON "InferenceRun"("studyId");

-- CreateIndex
CREATE UNIQUE INDEX "Report_inferenceRunId_key" ON "Report"("inferenceRunId");

-- CreateIndex
CREATE UNIQUE INDEX "Report_srSopInstanceUid_key" ON "Report"("srSopInstanceUid");

-- CreateIndex
CREATE UNIQUE INDEX "Report_kosSopInstanceUid_key" ON "Report"("kosSopInstanceUid");

-- CreateIndex
CREATE INDEX "Report_studyId_idx" ON "Report"("studyId");

-- CreateIndex
CREATE UNIQUE INDEX "Destination_name_key" ON "Destination"("name");

-- CreateIndex
CREATE INDEX "Delivery_state_nextAttemptAt_idx" ON "Delivery"("state", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "Delivery_reportId_destinationId_key" ON "Delivery"("reportId", "destinationId");

-- CreateIndex
CREATE INDEX "AuditEvent_entityType_entityId_idx" ON "AuditEvent"("entityType", "entityId");

-- CreateIndex
CREATE INDEX "AuditEvent_studyInstanceUid_id_idx" ON "AuditEvent"("studyInstanceUid", "id");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- AddForeignKey
ALTER TABLE "Series" ADD CONSTRAINT "Series_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_seriesId_fkey" FOREIGN KEY ("seriesId") REFERENCES "Series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InferenceRun" ADD CONSTRAINT "InferenceRun_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InferenceRun" ADD CONSTRAINT "InferenceRun_modelVersionId_fkey" FOREIGN KEY ("modelVersionId") REFERENCES "ModelVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Report" ADD CONSTRAINT "Report_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Report" ADD CONSTRAINT "Report_inferenceRunId_fkey" FOREIGN KEY ("inferenceRunId") REFERENCES "InferenceRun"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_reportId_fkey" FOREIGN KEY ("reportId") REFERENCES "Report"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_destinationId_fkey" FOREIGN KEY ("destinationId") REFERENCES "Destination"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
