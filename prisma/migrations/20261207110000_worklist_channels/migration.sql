-- Worklist channels (issue 14 items 1, 2, 5): a destination is reached over DICOM, HL7 v2 (MLLP)
-- or FHIR R4 and chooses what it receives; one outbox row per (report, destination, kind).
-- Backfill: every existing destination is DICOM and keeps receiving what it received before
-- (SR + KOS, one association); every existing delivery is of kind `dicom`.
CREATE TYPE "DestinationProtocol" AS ENUM ('dicom', 'hl7', 'fhir');
CREATE TYPE "DeliveryKind" AS ENUM ('dicom', 'sc', 'hl7', 'fhir');
ALTER TYPE "DeliveryState" ADD VALUE 'not_applicable';

ALTER TABLE "Destination" ADD COLUMN "protocol" "DestinationProtocol" NOT NULL DEFAULT 'dicom';
ALTER TABLE "Destination" ADD COLUMN "sends" TEXT[] NOT NULL DEFAULT ARRAY['sr', 'kos']::TEXT[];
ALTER TABLE "Destination" ADD COLUMN "settings" JSONB;
ALTER TABLE "Destination" ALTER COLUMN "aeTitle" DROP NOT NULL;

ALTER TABLE "Delivery" ADD COLUMN "kind" "DeliveryKind" NOT NULL DEFAULT 'dicom';
DROP INDEX "Delivery_reportId_destinationId_key";
CREATE UNIQUE INDEX "Delivery_reportId_destinationId_kind_key" ON "Delivery"("reportId", "destinationId", "kind");
