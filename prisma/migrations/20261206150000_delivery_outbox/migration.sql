-- The delivery outbox is driven from Postgres: a scheduler claims due rows (FOR UPDATE SKIP
-- LOCKED), marks them `sending` with a claim (claimedAt/claimedBy, reclaimed after a lease), and
-- records the outcome with nextAttemptAt kept current. A dead delivery ends its study in
-- `delivery_failed`. Destinations carry their TLS material paths.
ALTER TYPE "StudyState" ADD VALUE 'delivery_failed';

ALTER TABLE "Delivery" ADD COLUMN "claimedAt" TIMESTAMP(3);
ALTER TABLE "Delivery" ADD COLUMN "claimedBy" TEXT;
ALTER TABLE "Delivery" ADD COLUMN "firstAttemptAt" TIMESTAMP(3);
ALTER TABLE "Delivery" ADD COLUMN "lastStatus" INTEGER;

ALTER TABLE "Destination" ADD COLUMN "tlsCaPath" TEXT;
ALTER TABLE "Destination" ADD COLUMN "tlsCertPath" TEXT;
ALTER TABLE "Destination" ADD COLUMN "tlsKeyPath" TEXT;
