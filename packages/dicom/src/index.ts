export { newUid, uidFromName, isValidUid } from './uid.js';
export { readPart10, str, nums, DicomParseError, type NaturalDataset } from './header.js';
export { storeFiles, isStoreSuccess, describeRejection, StoreAssociationError, type StoreTarget, type StoreResult, type AssociationRejection } from './scu.js';
export { classifyStoreError, classifyStoreResults, describeStoreStatus, type StoreFailure } from './store-failure.js';
export {
  routeStudy,
  planeFromOrientation,
  weightingOf,
  weightingFromParameters,
  timingLimits,
  assessSeries,
  stackGeometry,
  tokenize,
  readTerms,
  regionsOf,
  seriesFactsFromHeader,
  seriesFactsFromRecords,
  instanceContextOf,
  DEFAULT_ROUTING_OPTIONS,
  SERIES_ROLES,
  MR_IMAGE_SOP_CLASSES,
  type SeriesFacts,
  type SeriesInstanceContext,
  type SeriesRecord,
  type RouteDecision,
  type AnatomyVerdict,
  type SeriesVerdict,
  type SeriesAssessment,
  type RoutingOptions,
  type SeriesRole,
  type Plane,
  type StackGeometry,
  type Weighting,
  type SequenceParameters,
  type TimingLimits,
  type Region,
} from './routing/index.js';
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
export { createScpMetrics, type ScpMetrics } from '@ldh/observability';
export { identifyStoredInstance, identifyPart10, type InstanceIdentity } from './scp/identify-instance.js';
export { buildPart10Header, readPart10Layout, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './scp/part10-meta.js';
export { STORAGE_SOP_CLASSES, ACCEPTED_TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS } from './scp/sop-classes.js';
export { ScpError, DatasetParseError, InvalidInstanceError, SopMismatchError, OutOfResourcesError } from './scp/errors.js';
export { buildTestMrInstance, type TestMrInstanceOptions } from './scp/test-instance.js';
export { personName, strings, UndecodableText, type Part10Header } from './header.js';
export { CharsetError, decodeText, characterSetTerms, parsePersonName, formatPersonName, splitTextValues, CHARSET_TEXT_VRS, type PersonName } from './charset.js';
export {
  readFrameFacts,
  readEnhancedMrFrames,
  hasFunctionalGroups,
  FunctionalGroupsError,
  ENHANCED_MR_IMAGE_STORAGE,
  MAX_FRAMES,
  type FrameFacts,
  type MultiFrameFacts,
} from './enhanced.js';
export { type FrameIdentity } from './scp/frame-geometry.js';
export { buildTestEnhancedMrInstance, type TestEnhancedMrOptions } from './scp/test-enhanced-instance.js';
export { decodeFrame, PixelDecodeError, DECODABLE_TRANSFER_SYNTAXES, describeTransferSyntax, type DecodedFrame, type DecodeFrameOptions, type CodecSet } from './pixels/index.js';
export * as pixelTesting from './pixels/testing/index.js';
export {
  assignAxialDiscLevels,
  LUMBAR_DISC_LEVELS,
  DISC_LEVEL_DEFAULTS,
  type AxialSliceGeometry,
  type AxialBlock,
  type DiscLevelAssignment,
  type DiscLevelOptions,
  type LumbarDiscLevel,
} from './disc-levels.js';
