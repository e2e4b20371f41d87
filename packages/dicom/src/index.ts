export { newUid, uidFromName, isValidUid } from './uid.js';
export { readPart10, str, nums, DicomParseError, type NaturalDataset } from './header.js';
export { storeFiles, isStoreSuccess, StoreAssociationError, type StoreTarget, type StoreResult } from './scu.js';
export { routeStudy, planeFromOrientation, weightingOf, type SeriesFacts, type RouteDecision, type SeriesRole, type Plane, type Weighting } from './routing.js';
export { dimse, quietDimseLogs } from './dimse.js';
export {
  createStoreScp,
  DEFAULT_MAX_PDU_LENGTH,
  type StoreScp,
  type StoreScpOptions,
  type IngestSink,
  type ReceivedInstance,
  type AssociationSummary,
  type AllowedPeer,
  type ScpInstanceStore,
  type ScpPendingWrite,
} from './scp/store-scp.js';
export { createScpMetrics, type ScpMetrics } from './scp/metrics.js';
export { identifyStoredInstance, type InstanceIdentity } from './scp/identify-instance.js';
export { buildPart10Header, readPart10Layout, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './scp/part10-meta.js';
export { STORAGE_SOP_CLASSES, ACCEPTED_TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS } from './scp/sop-classes.js';
export { ScpError, DatasetParseError, InvalidInstanceError, SopMismatchError, OutOfResourcesError } from './scp/errors.js';
export { buildTestMrInstance, type TestMrInstanceOptions } from './scp/test-instance.js';
export { decodeFrame, PixelDecodeError, DECODABLE_TRANSFER_SYNTAXES, describeTransferSyntax, type DecodedFrame, type DecodeFrameOptions, type CodecSet } from './pixels/index.js';
export * as pixelTesting from './pixels/testing/index.js';
