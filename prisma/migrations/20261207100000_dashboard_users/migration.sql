-- The dashboard: local users (argon2id password hashes, admin | viewer), a session version per
-- user (bumped on disable, so every cookie issued before is refused), the accession number of
-- a study (search key; shown to viewers, never logged), and the discard marking of a dead
-- delivery (who, when, why; the row stays dead and keeps its history).
CREATE TYPE "UserRole" AS ENUM ('admin', 'viewer');

CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "UserRole" NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "sessionVersion" INTEGER NOT NULL DEFAULT 0,
    "lastLoginAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");

ALTER TABLE "Study" ADD COLUMN "accessionNumber" TEXT;
CREATE INDEX "Study_accessionNumber_idx" ON "Study"("accessionNumber");

ALTER TABLE "Delivery" ADD COLUMN "discardedAt" TIMESTAMP(3);
ALTER TABLE "Delivery" ADD COLUMN "discardedBy" TEXT;
ALTER TABLE "Delivery" ADD COLUMN "discardReason" TEXT;
