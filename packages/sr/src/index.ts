/**
 * `@ldh/sr`: DICOM SR (TID 1500 Imaging Measurement Report, Comprehensive SR) and KOS (TID 2010,
 * "Of Interest") builders for the LDH triage result, plus a reader for tests and the CLI.
 * Content spec: docs/sr-content.md; the tree and codes are listed in this package's README.
 */
export { buildMeasurementReport, measurementReportDataset, algorithmParameters, STUDY_TRACKING_IDENTIFIER, PLACEHOLDER_MARKER } from './measurement-report.js';
export { buildKeyObjectSelection, keyObjectSelectionDataset } from './key-object-selection.js';
export { describeReport } from './describe-report.js';
export { sourceStudyHeader } from './source-header.js';
export { formatPercent } from './dicom-format.js';
export { CODES, DISC_CODES, SOP_CLASSES, type Code } from './codes.js';
export { SrError, SrInputError, SrParseError } from './errors.js';
export {
  DISC_LEVELS,
  DEFAULT_SR_SERIES_NUMBER,
  DEFAULT_KOS_SERIES_NUMBER,
  type SourceStudyHeader,
  type SourceImageRef,
  type ImageRole,
  type LevelResult,
  type DiscLevel,
  type AlgorithmIdentity,
  type Decision,
  type MeasurementReportInput,
  type KeyObjectInput,
  type ReportDescription,
} from './types.js';
export {
  buildSecondaryCapture,
  renderSecondaryCapture,
  secondaryCaptureDataset,
  SECONDARY_CAPTURE_SOP_CLASS,
  DEFAULT_SC_SERIES_NUMBER,
  type SecondaryCaptureInput,
  type SummaryKeyImage,
} from './secondary-capture.js';
export { summaryHeadline, summaryPng, windowFrame, SUMMARY_WIDTH, SUMMARY_HEIGHT, type SummaryLevel, type RenderedSummary } from './summary-render.js';
