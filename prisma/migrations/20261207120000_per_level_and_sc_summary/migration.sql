-- Per-disc-level results of an inference run, and the Secondary Capture summary of a report (issue 14).
ALTER TABLE "InferenceRun" ADD COLUMN "perLevel" JSONB;

ALTER TABLE "Report" ADD COLUMN "scSopInstanceUid" TEXT,
ADD COLUMN "scStorageKey" TEXT;

CREATE UNIQUE INDEX "Report_scSopInstanceUid_key" ON "Report"("scSopInstanceUid");
