/**
 * Reads back the result from an SR written by {@link buildMeasurementReport}: for tests, the
 * CLI and the writer's self-check before sending. It finds items by coded concept, not by
 * position, and accepts the deprecated SRT designator for SNOMED codes older writers emit.
 */
import { CODES, DISC_CODES, SOP_CLASSES, type Code } from './codes.js';
import { SrParseError } from './errors.js';
import { PLACEHOLDER_MARKER } from './measurement-report.js';
import { readPart10 } from './part10.js';
import { DISC_LEVELS, type Decision, type ReportDescription } from './types.js';

interface Item {
  ValueType?: string;
  RelationshipType?: string;
  ConceptNameCodeSequence?: RawCode[] | RawCode;
  ConceptCodeSequence?: RawCode[] | RawCode;
  ContentSequence?: Item[] | Item;
  TextValue?: string;
  MeasuredValueSequence?: { NumericValue?: number | string | (number | string)[] }[] | { NumericValue?: number | string };
  ReferencedSOPSequence?: SopRef[] | SopRef;
}
/** A Referenced SOP Sequence item; Referenced Frame Number is IS (a number, or a list when 1-n). */
interface SopRef {
  ReferencedSOPInstanceUID?: string;
  ReferencedFrameNumber?: number | string | (number | string)[];
}
interface RawCode {
  CodeValue?: string;
  CodingSchemeDesignator?: string;
}

// dcmjs naturalizes single-item sequences inconsistently across versions; accept both shapes.
const list = <T>(v: T[] | T | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function is(raw: RawCode[] | RawCode | undefined, c: Code): boolean {
  const first = list(raw)[0];
  if (first === undefined || first.CodeValue !== c.value) return false;
  const scheme = first.CodingSchemeDesignator;
  return scheme === c.scheme || (c.scheme === 'SCT' && scheme === 'SRT');
}

const children = (item: Item, name: Code): Item[] => list(item.ContentSequence).filter((c) => is(c.ConceptNameCodeSequence, name));
const child = (item: Item, name: Code): Item | undefined => children(item, name)[0];

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new SrParseError(`measurement report has no ${what}`);
  return value;
}

function probabilityOf(group: Item, where: string): number {
  const numItem = need(child(group, CODES.certaintyOfFinding), `Certainty of Finding NUM in ${where}`);
  const raw = list(numItem.MeasuredValueSequence)[0]?.NumericValue;
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!Number.isFinite(value)) throw new SrParseError(`${where}: Certainty of Finding is not a number`);
  return Math.round(value * 10) / 1000;
}

function decisionOf(group: Item, where: string): Decision {
  const item = need(child(group, CODES.prolapsedLumbarDisc), `Present/Absent evaluation in ${where}`);
  if (is(item.ConceptCodeSequence, CODES.present)) return 'ldh';
  if (is(item.ConceptCodeSequence, CODES.absent)) return 'healthy';
  throw new SrParseError(`${where}: evaluation is neither Present nor Absent`);
}

const textOf = (group: Item, name: Code): string | undefined => child(group, name)?.TextValue;

/** Parses an LDH measurement report and returns its identifiers and result. */
export function describeReport(bytes: Uint8Array): ReportDescription {
  const ds = readPart10(bytes) as Item & Record<string, unknown>;
  const sopClassUid = String(ds.SOPClassUID ?? '');
  if (sopClassUid !== SOP_CLASSES.comprehensiveSr) {
    throw new SrParseError(`SOP class ${sopClassUid || '(none)'} is not Comprehensive SR`);
  }
  if (!is(ds.ConceptNameCodeSequence, CODES.imagingMeasurementReport)) {
    throw new SrParseError('root concept is not (126000, DCM, "Imaging Measurement Report")');
  }
  const library = need(child(ds, CODES.imageLibrary), 'Image Library');
  const imageUids = new Set<string>();
  for (const group of children(library, CODES.imageLibraryGroup)) {
    for (const img of list(group.ContentSequence).filter((c) => c.ValueType === 'IMAGE')) {
      const ref = list(img.ReferencedSOPSequence)[0];
      const uid = ref?.ReferencedSOPInstanceUID;
      // A frame of a multi-frame is its own image: count (instance, frame) pairs.
      if (uid !== undefined) imageUids.add(ref?.ReferencedFrameNumber === undefined ? uid : `${uid}#${String(ref.ReferencedFrameNumber)}`);
    }
  }
  const measurements = need(child(ds, CODES.imagingMeasurements), 'Imaging Measurements container');
  const groups = children(measurements, CODES.measurementGroup);
  const studyGroup = need(
    groups.find((g) => children(g, CODES.findingSite).some((s) => is(s.ConceptCodeSequence, CODES.lumbarSpine))),
    'study-level Measurement Group (Finding Site lumbar spine)',
  );
  const levels: ReportDescription['levels'] = [];
  for (const level of DISC_LEVELS) {
    const g = groups.find((gr) => children(gr, CODES.findingSite).some((s) => is(s.ConceptCodeSequence, DISC_CODES[level])));
    if (g !== undefined) levels.push({ level, probability: probabilityOf(g, level), decision: decisionOf(g, level) });
  }
  return {
    sopClassUid,
    sopInstanceUid: String(ds.SOPInstanceUID ?? ''),
    seriesInstanceUid: String(ds.SeriesInstanceUID ?? ''),
    studyInstanceUid: String(ds.StudyInstanceUID ?? ''),
    studyProbability: probabilityOf(studyGroup, 'study group'),
    decision: decisionOf(studyGroup, 'study group'),
    imageCount: imageUids.size,
    levels,
    algorithmName: textOf(studyGroup, CODES.algorithmName) ?? '',
    algorithmVersion: textOf(studyGroup, CODES.algorithmVersion) ?? '',
    placeholder: (textOf(studyGroup, CODES.algorithmParameters) ?? '').includes(PLACEHOLDER_MARKER),
  };
}
