/**
 * Input checks shared by both builders. Everything a PACS would reject later (bad UIDs,
 * an image not in the evidence, a NUM that is not a Decimal String) is refused here with the
 * offending field named, so the report job fails once and clearly instead of at C-STORE time.
 */
import { isValidUid } from '@ldh/dicom';
import { assertProbability } from './dicom-format.js';
import { SrInputError } from './errors.js';
import type { AlgorithmIdentity, SourceImageRef, SourceStudyHeader } from './types.js';

const ROLES = new Set(['t1_sag', 't2_sag', 't2_ax']);

export function assertUid(value: string | undefined, field: string): void {
  if (!isValidUid(value)) throw new SrInputError(field, `not a valid DICOM UID: ${JSON.stringify(value ?? null)}`);
}

export function assertDate(value: Date, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new SrInputError(field, 'must be a valid Date');
}

function assertNonNegativeInt(value: number | undefined, field: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= 2147483647)) {
    throw new SrInputError(field, `must be a non-negative integer, got ${String(value)}`);
  }
}

export function assertText(value: string, field: string, max: number): void {
  if (typeof value !== 'string' || value.trim() === '') throw new SrInputError(field, 'must be a non-empty string');
  if (value.length > max) throw new SrInputError(field, `longer than ${max} characters`);
  if (value.includes('\\')) throw new SrInputError(field, 'must not contain a backslash (DICOM value separator)');
}

const DA = /^\d{8}$/;
const TM = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;

/** A copied header value must fit its VR, or the SR fails dciodvfy (dcmjs writes it unchecked). */
function assertVr(value: string | undefined, field: string, check: (v: string) => string | undefined): void {
  if (value === undefined || value === '') return;
  if (typeof value !== 'string') throw new SrInputError(field, 'must be a string');
  if (value.includes('\\')) throw new SrInputError(field, 'must be single-valued (no backslash)');
  if (UNDECODED.test(value)) throw new SrInputError(field, 'contains a replacement or control character: text not decoded');
  const problem = check(value);
  if (problem !== undefined) throw new SrInputError(field, problem);
}
const maxLength = (n: number) => (v: string) => (v.length > n ? `longer than ${n} characters` : undefined);
const personName = (v: string): string | undefined => {
  const groups = v.split('=');
  if (groups.length > 3) return 'more than three PN component groups';
  return groups.some((group) => group.length > 64) ? 'a PN component group is longer than 64 characters' : undefined;
};
// Decoded text only: a replacement character or a control character (ESC of an undecoded ISO
// 2022 escape) means the value was not decoded; it must never reach a PACS in our SR.
// eslint-disable-next-line no-control-regex
const UNDECODED = /[\uFFFD\u0000-\u001F\u007F]/;
// Messages never quote the value: these are patient attributes (no PHI in errors or logs).
const pattern = (re: RegExp, what: string) => (v: string) => (re.test(v) ? undefined : `not a DICOM ${what}`);

/** Study UID plus the copied Patient/Study attributes, checked against their VRs. */
export function validateStudy(study: SourceStudyHeader): void {
  assertUid(study.studyInstanceUid, 'study.studyInstanceUid');
  assertVr(study.patientName, 'study.patientName', personName);
  assertVr(study.referringPhysicianName, 'study.referringPhysicianName', personName);
  assertVr(study.patientId, 'study.patientId', maxLength(64));
  assertVr(study.accessionNumber, 'study.accessionNumber', maxLength(16));
  assertVr(study.studyId, 'study.studyId', maxLength(16));
  assertVr(study.patientBirthDate, 'study.patientBirthDate', pattern(DA, 'date (YYYYMMDD)'));
  assertVr(study.studyDate, 'study.studyDate', pattern(DA, 'date (YYYYMMDD)'));
  assertVr(study.studyTime, 'study.studyTime', pattern(TM, 'time (HHMMSS.FFFFFF)'));
  assertVr(study.patientSex, 'study.patientSex', pattern(/^[MFO]$/, 'sex (M, F or O)'));
}

/** What makes a source image distinct: its instance, and its frame for a frame of a multi-frame. */
export function imageKey(img: { sopInstanceUid: string; frameNumber?: number }): string {
  return img.frameNumber === undefined ? img.sopInstanceUid : `${img.sopInstanceUid}#${img.frameNumber}`;
}

/** Images: at least one, valid UIDs, known role, probability in [0, 1], frame numbers >= 1, no duplicate image (instance or frame). */
export function validateImages(images: readonly SourceImageRef[]): void {
  if (!Array.isArray(images) || images.length === 0) throw new SrInputError('images', 'at least one source image is required');
  const seen = new Set<string>();
  images.forEach((img, i) => {
    const at = `images[${i}]`;
    assertUid(img.sopClassUid, `${at}.sopClassUid`);
    assertUid(img.sopInstanceUid, `${at}.sopInstanceUid`);
    assertUid(img.seriesInstanceUid, `${at}.seriesInstanceUid`);
    if (img.frameOfReferenceUid !== undefined) assertUid(img.frameOfReferenceUid, `${at}.frameOfReferenceUid`);
    if (!ROLES.has(img.role)) throw new SrInputError(`${at}.role`, `unknown role ${JSON.stringify(img.role)}`);
    assertProbability(img.probability, `${at}.probability`);
    if (img.frameNumber !== undefined && !(Number.isInteger(img.frameNumber) && img.frameNumber >= 1 && img.frameNumber <= 2147483647)) {
      throw new SrInputError(`${at}.frameNumber`, `must be a 1-based frame number, got ${String(img.frameNumber)}`);
    }
    const key = imageKey(img);
    if (seen.has(key)) throw new SrInputError(`${at}.sopInstanceUid`, `duplicate image ${img.sopInstanceUid}${img.frameNumber === undefined ? '' : ` frame ${img.frameNumber}`}`);
    seen.add(key);
  });
}

/** Algorithm identity; text limits follow the header VRs it lands in (LO 64). */
export function validateAlgorithm(algorithm: AlgorithmIdentity): void {
  assertUid(algorithm.deviceObserverUid, 'algorithm.deviceObserverUid');
  assertText(algorithm.name, 'algorithm.name', 64);
  assertText(algorithm.version, 'algorithm.version', 64);
  assertText(algorithm.manufacturer, 'algorithm.manufacturer', 64);
  assertText(algorithm.modelName, 'algorithm.modelName', 64);
  assertText(algorithm.softwareVersion, 'algorithm.softwareVersion', 64);
  if (typeof algorithm.placeholder !== 'boolean') throw new SrInputError('algorithm.placeholder', 'must be a boolean');
}

/** Common fields of a new instance in a new series. */
export function validateInstance(input: {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  seriesNumber?: number;
  instanceNumber?: number;
  contentDateTime: Date;
}): void {
  assertUid(input.sopInstanceUid, 'sopInstanceUid');
  assertUid(input.seriesInstanceUid, 'seriesInstanceUid');
  assertNonNegativeInt(input.seriesNumber, 'seriesNumber');
  assertNonNegativeInt(input.instanceNumber, 'instanceNumber');
  assertDate(input.contentDateTime, 'contentDateTime');
}

/** The new object must not reuse a source image's SOP Instance or Series UID. */
export function assertNewObject(sopInstanceUid: string, seriesInstanceUid: string, images: readonly SourceImageRef[]): void {
  for (const img of images) {
    if (img.sopInstanceUid === sopInstanceUid) throw new SrInputError('sopInstanceUid', 'equals a source image UID');
    if (img.seriesInstanceUid === seriesInstanceUid) throw new SrInputError('seriesInstanceUid', 'equals a source series UID');
  }
}
