-- Routing decisions (issue 11): one row per study revision with every series' verdict, score and reasons.
-- CreateTable
CREATE TABLE "RoutingDecision" (
    "id" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "verdict" TEXT NOT NULL,
    "reason" TEXT,
    "decision" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoutingDecision_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "RoutingDecision_studyId_revision_key" ON "RoutingDecision"("studyId", "revision");

-- AddForeignKey
ALTER TABLE "RoutingDecision" ADD CONSTRAINT "RoutingDecision_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

