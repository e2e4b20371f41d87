-- Job intents: the next job of a study, committed in the same transaction as the state change
-- that calls for it. A dispatcher moves pending intents to BullMQ; a reconciler re-creates them.
CREATE TABLE "JobIntent" (
    "id" TEXT NOT NULL,
    "studyId" UUID NOT NULL,
    "stage" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "jobId" TEXT,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatchedAt" TIMESTAMP(3),
    CONSTRAINT "JobIntent_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "JobIntent_state_check" CHECK ("state" IN ('pending', 'dispatched')),
    CONSTRAINT "JobIntent_stage_check" CHECK ("stage" IN ('route', 'inference', 'report'))
);
CREATE INDEX "JobIntent_state_createdAt_idx" ON "JobIntent"("state", "createdAt");
CREATE INDEX "JobIntent_studyId_idx" ON "JobIntent"("studyId");
ALTER TABLE "JobIntent" ADD CONSTRAINT "JobIntent_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Crash-safe inference: a running run is leased; an expired lease may be taken over.
ALTER TABLE "InferenceRun" ADD COLUMN "owner" TEXT;
ALTER TABLE "InferenceRun" ADD COLUMN "heartbeatAt" TIMESTAMP(3);
ALTER TABLE "InferenceRun" ADD COLUMN "leaseExpiresAt" TIMESTAMP(3);
ALTER TABLE "InferenceRun" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0;

-- Terminal states with reasons: which stage failed and its last error.
ALTER TABLE "Study" ADD COLUMN "failedStage" TEXT;
ALTER TABLE "Study" ADD COLUMN "lastError" TEXT;
