export { routeStudy, type RouteDecision, type AnatomyVerdict } from './decide.js';
export { assessSeries, weightingOf, DEFAULT_ROUTING_OPTIONS, SERIES_ROLES, type RoutingOptions, type SeriesRole, type SeriesVerdict, type SeriesAssessment } from './score.js';
export { planeFromOrientation, stackGeometry, type Plane, type StackGeometry } from './geometry.js';
export { weightingFromParameters, timingLimits, type Weighting, type SequenceParameters, type TimingLimits } from './sequence.js';
export { tokenize, readTerms, regionsOf, type Region } from './vocabulary.js';
export {
  seriesFactsFromHeader,
  seriesFactsFromRecords,
  instanceContextOf,
  MR_IMAGE_SOP_CLASSES,
  type SeriesFacts,
  type SeriesInstanceContext,
  type SeriesRecord,
} from './facts.js';
