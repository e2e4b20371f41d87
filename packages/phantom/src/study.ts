import { uidFromName } from '@ldh/dicom';
import { buildAnatomy } from './anatomy.js';
import type { Anatomy } from './anatomy.js';
import { PhantomOptionError } from './errors.js';
import { DISC_LEVELS, studyLabel } from './levels.js';
import { encodeMrImage } from './mr-writer.js';
import type { SeriesHeader, StudyHeader } from './mr-writer.js';
import { Prng, hashSeed } from './prng.js';
import { acquire, autoWindow, projectSlice, sampleSlab } from './render.js';
import type { Degradation, SlicePlan, Vec3 } from './render.js';
import { TissueEvaluator } from './tissue.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, SUPPORTED_TRANSFER_SYNTAXES } from './transfer-syntax.js';
import { drawLevels } from './truth.js';
import type { DiscLevel, PhantomInstance, PhantomStudy, PhantomStudyOptions, SeriesRole } from './types.js';

/** Disc indices (0 = L1-L2) that get an axial stack: L3-L4, L4-L5, L5-S1. */
const AXIAL_DISCS = [2, 3, 4] as const;

/** A planned slice with its DICOM geometry. */
interface PlannedSlice {
  plan: SlicePlan;
  thickness: number;
  spacing: number;
  normal: Vec3;
  /** Axial slices: the disc level of their stack. */
  level?: DiscLevel;
}

function validate(opts: PhantomStudyOptions): void {
  if (!Number.isFinite(opts.seed)) throw new PhantomOptionError(`seed must be a finite number, got ${String(opts.seed)}`);
  const m = opts.matrix;
  if (m !== undefined && (!Number.isInteger(m) || m < 64 || m > 512)) throw new PhantomOptionError(`matrix must be an integer in 64..512, got ${m}`);
  const n = opts.sagittalSlices;
  if (n !== undefined && (!Number.isInteger(n) || n < 3 || n > 31)) throw new PhantomOptionError(`sagittalSlices must be an integer in 3..31, got ${n}`);
  const a = opts.axialSlicesPerLevel;
  if (a !== undefined && (!Number.isInteger(a) || a < 1 || a > 9)) throw new PhantomOptionError(`axialSlicesPerLevel must be an integer in 1..9, got ${a}`);
  const ts = opts.transferSyntaxUid;
  if (ts !== undefined && !SUPPORTED_TRANSFER_SYNTAXES.includes(ts)) {
    throw new PhantomOptionError(`transfer syntax ${ts} is not supported (use one of ${SUPPORTED_TRANSFER_SYNTAXES.join(', ')})`);
  }
  const c = opts.caseIndex;
  if (c !== undefined && (!Number.isInteger(c) || c < 0 || c > 99_999_999)) throw new PhantomOptionError(`caseIndex must be an integer in 0..99999999, got ${c}`);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function add(a: Vec3, b: Vec3, k: number): Vec3 {
  return [a[0] + b[0] * k, a[1] + b[1] * k, a[2] + b[2] * k];
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** A slice centred on `centre` with the given in-plane directions. */
function planAround(centre: Vec3, rowDir: Vec3, colDir: Vec3, matrix: number, fovMm: number): SlicePlan {
  const ps = Math.round((fovMm / matrix) * 1e4) / 1e4;
  const half = (matrix / 2 - 0.5) * ps;
  const position = add(add(centre, rowDir, -half), colDir, -half);
  return { rows: matrix, cols: matrix, pixelSpacing: ps, position: position.map((v) => Math.round(v * 1e4) / 1e4) as Vec3, rowDir, colDir };
}

/** Sagittal stack: IOP [0,1,0,0,0,-1] (anterior→posterior across, head→feet down), ordered right→left. */
function planSagittal(anatomy: Anatomy, prng: Prng, count: number, matrix: number): PlannedSlice[] {
  const sRef = anatomy.discCentres[2] ?? 80;
  const [cy, cz] = anatomy.curve.pointAt(sRef);
  const [ty, tz] = anatomy.curve.tangentAt(sRef);
  const fov = prng.uniform(270, 300);
  // Centred so that the back lies 5-15% of the field from its posterior edge, as a technologist plans it.
  const tOff = (anatomy.tableY - fov * prng.uniform(0.35, 0.45) - cy) / tz;
  const centre: Vec3 = [anatomy.xMid + prng.uniform(-2, 2), cy + tOff * tz, cz - tOff * ty];
  const thickness = prng.pick([3.5, 4, 4]);
  const spacing = Math.round(thickness * 1.1 * 100) / 100;
  const rowDir: Vec3 = [0, 1, 0];
  const colDir: Vec3 = [0, 0, -1];
  const normal = cross(rowDir, colDir);
  const out: PlannedSlice[] = [];
  for (let k = 0; k < count; k++) {
    const c: Vec3 = [centre[0] + (k - (count - 1) / 2) * spacing, centre[1], centre[2]];
    out.push({ plan: planAround(c, rowDir, colDir, matrix, fov), thickness, spacing, normal });
  }
  return out;
}

/** Oblique axial stacks through L3-L4, L4-L5 and L5-S1, each parallel to its disc, cranial→caudal. */
function planAxial(anatomy: Anatomy, prng: Prng, perLevel: number, matrix: number): PlannedSlice[] {
  const fov = prng.uniform(180, 220);
  const thickness = 4;
  const spacing = 4.4;
  const out: PlannedSlice[] = [];
  for (const k of AXIAL_DISCS) {
    const sc = anatomy.discCentres[k] ?? 0;
    const [cy, cz] = anatomy.curve.pointAt(sc);
    const [ty0, tz0] = anatomy.curve.tangentAt(sc);
    // The technologist's angulation is a few degrees off the true disc plane.
    const jitter = (prng.uniform(-3, 3) * Math.PI) / 180;
    const ty = ty0 * Math.cos(jitter) + tz0 * Math.sin(jitter);
    const tz = tz0 * Math.cos(jitter) - ty0 * Math.sin(jitter);
    const normal: Vec3 = [0, ty, tz];
    const rowDir: Vec3 = [1, 0, 0];
    const colDir: Vec3 = [0, tz, -ty];
    const tOff = (anatomy.tableY - fov * prng.uniform(0.34, 0.42) - cy) / tz;
    const base: Vec3 = [anatomy.xMid + prng.uniform(-3, 3), cy + tOff * tz, cz - tOff * ty];
    const shift = prng.uniform(-0.8, 0.8);
    for (let j = 0; j < perLevel; j++) {
      const along = ((perLevel - 1) / 2 - j) * spacing + shift;
      out.push({ plan: planAround(add(base, normal, along), rowDir, colDir, matrix, fov), thickness, spacing, normal, level: DISC_LEVELS[k] });
    }
  }
  return out;
}

function degradation(prng: Prng, difficulty: 'easy' | 'hard', centre: Vec3, phaseAxis: 'ROW' | 'COL'): Degradation {
  return {
    scale: prng.uniform(1500, 2500),
    noise: difficulty === 'hard' ? prng.uniform(0.03, 0.05) : prng.uniform(0.012, 0.025),
    biasY: prng.uniform(0.1, 0.35),
    biasZ: prng.uniform(-0.1, 0.1),
    biasX2: prng.uniform(0, 0.3),
    centre,
    // Most series are clean; some carry a faint motion ghost along phase encoding.
    ghost: prng.chance(0.3) ? prng.uniform(0.01, difficulty === 'hard' ? 0.05 : 0.03) : 0,
    phaseAxis,
  };
}

function planCentre(slices: readonly PlannedSlice[]): Vec3 {
  const mid = slices[Math.floor(slices.length / 2)];
  if (!mid) return [0, 0, 0];
  const p = mid.plan;
  const half = ((p.rows - 1) / 2) * p.pixelSpacing;
  return add(add(p.position, p.rowDir, half), p.colDir, half);
}

/**
 * Generates one synthetic lumbar MRI study (T1 and T2 sagittal, T2 oblique axial through the lower
 * three discs) with its ground truth. Everything, UIDs included, derives from seed and caseIndex,
 * so the same options always give byte-identical files.
 */
export function generateStudy(opts: PhantomStudyOptions): PhantomStudy {
  validate(opts);
  const caseIndex = opts.caseIndex ?? 1;
  const difficulty = opts.difficulty ?? 'easy';
  const tsUid = opts.transferSyntaxUid ?? EXPLICIT_VR_LITTLE_ENDIAN;
  const matrix = opts.matrix ?? 320;
  const root = new Prng(hashSeed(opts.seed) ^ Math.imul(caseIndex + 1, 0x2545f491));
  const idPrng = root.fork(1);
  const truthPrng = root.fork(2);
  const anatomyPrng = root.fork(3);
  const planPrng = root.fork(4);
  const acqPrng = root.fork(5);

  const positive = opts.positive ?? truthPrng.chance(0.5);
  const levels = drawLevels(truthPrng, difficulty, opts.levels, positive);
  const anatomy = buildAnatomy(anatomyPrng, levels);
  const evaluator = new TissueEvaluator(anatomy);

  const sagCount = opts.sagittalSlices ?? planPrng.int(11, 15);
  const axPerLevel = opts.axialSlicesPerLevel ?? planPrng.int(3, 5);
  const sag = planSagittal(anatomy, planPrng, sagCount, matrix);
  const ax = planAxial(anatomy, planPrng, axPerLevel, matrix);

  const id = String(caseIndex).padStart(4, '0');
  const uidBase = `ldh-phantom:${opts.seed}:${caseIndex}`;
  const studyDay = new Date(Date.UTC(2025, 0, 1) + idPrng.int(0, 364) * 86_400_000);
  const studyDate = `${studyDay.getUTCFullYear()}${pad2(studyDay.getUTCMonth() + 1)}${pad2(studyDay.getUTCDate())}`;
  const hour = idPrng.int(7, 18);
  const minute = idPrng.int(0, 59);
  const age = idPrng.int(22, 78);
  const sex = idPrng.chance(0.5) ? 'M' : 'F';
  const birthDate = `${studyDay.getUTCFullYear() - age}${pad2(idPrng.int(1, 12))}${pad2(idPrng.int(1, 28))}`;
  const study: StudyHeader = {
    studyInstanceUid: uidFromName(`${uidBase}:study`),
    frameOfReferenceUid: uidFromName(`${uidBase}:frame-of-reference`),
    patientName: `PHANTOM^CASE${id}`,
    patientId: `PH${id}`,
    patientBirthDate: birthDate,
    patientSex: sex,
    patientAge: `${String(age).padStart(3, '0')}Y`,
    patientWeightKg: Math.round((sex === 'M' ? 82 : 68) * idPrng.uniform(0.8, 1.3)),
    studyDate,
    studyTime: `${pad2(hour)}${pad2(minute)}00`,
    accessionNumber: `PHA${id}${String(hashSeed(opts.seed) % 1000).padStart(3, '0')}`,
    studyId: `PH${id}`,
    fieldStrength: idPrng.chance(0.6) ? 1.5 : 3,
    stationName: 'PHANTOM_MR',
    deviceSerialNumber: 'PH-0001',
  };
  const seriesTime = (offsetMin: number): string => {
    const t = hour * 60 + minute + offsetMin;
    return `${pad2(Math.floor(t / 60) % 24)}${pad2(t % 60)}00`;
  };
  const seriesSpec = (role: SeriesRole, n: number, offsetMin: number): Omit<SeriesHeader, 'windowCenter' | 'windowWidth'> => {
    const t1 = role === 't1_sag';
    return {
      seriesInstanceUid: uidFromName(`${uidBase}:series:${role}`),
      seriesNumber: n,
      seriesDescription: role === 't1_sag' ? 'T1_TSE_SAG' : role === 't2_sag' ? 'T2_TSE_SAG' : 'T2_TSE_TRA',
      seriesTime: seriesTime(offsetMin),
      repetitionTime: Math.round(t1 ? acqPrng.uniform(450, 650) : acqPrng.uniform(3000, 4000)),
      echoTime: Math.round(t1 ? acqPrng.uniform(8, 12) : acqPrng.uniform(90, 110)),
      echoTrainLength: t1 ? acqPrng.int(3, 5) : acqPrng.int(15, 21),
      flipAngle: t1 ? 150 : 160,
      pixelBandwidth: Math.round(acqPrng.uniform(180, 260)),
      sequenceName: t1 ? '*tse2d1_3' : '*tse2d1_17',
      phaseEncodingDirection: role === 't2_ax' ? 'ROW' : 'COL',
      numberOfAverages: t1 ? 2 : 1,
    };
  };

  const sagCentre = planCentre(sag);
  const axCentre = planCentre(ax);
  const degT1 = degradation(acqPrng, difficulty, sagCentre, 'COL');
  const degT2 = degradation(acqPrng, difficulty, sagCentre, 'COL');
  const degAx = degradation(acqPrng, difficulty, axCentre, 'ROW');
  const noisePrng = acqPrng.fork(9);

  // Sagittal: one (s, t) projection and one tissue evaluation per slice serve T1 and T2.
  const firstSag = sag[0];
  const stMap = firstSag ? projectSlice(anatomy, firstSag.plan) : undefined;
  const t1Pixels: Uint16Array[] = [];
  const t2Pixels: Uint16Array[] = [];
  for (const sl of sag) {
    const sig = sampleSlab(anatomy, evaluator, sl.plan, sl.normal, sl.thickness, stMap);
    t1Pixels.push(acquire(sig.t1, sl.plan, degT1, noisePrng));
    t2Pixels.push(acquire(sig.t2, sl.plan, degT2, noisePrng));
  }
  const axPixels = ax.map((sl) => acquire(sampleSlab(anatomy, evaluator, sl.plan, sl.normal, sl.thickness).t2, sl.plan, degAx, noisePrng));

  const instances: PhantomInstance[] = [];
  const emit = (role: SeriesRole, seriesNumber: number, offsetMin: number, slices: PlannedSlice[], pixels: Uint16Array[]): void => {
    const spec = seriesSpec(role, seriesNumber, offsetMin);
    const mid = pixels[Math.floor(pixels.length / 2)];
    const win = mid ? autoWindow(mid) : { center: 1024, width: 2048 };
    const header: SeriesHeader = { ...spec, windowCenter: win.center, windowWidth: win.width };
    slices.forEach((sl, k) => {
      const p = sl.plan;
      const instanceNumber = k + 1;
      const sopInstanceUid = uidFromName(`${uidBase}:instance:${role}:${instanceNumber}`);
      const centre = add(add(p.position, p.rowDir, ((p.cols - 1) / 2) * p.pixelSpacing), p.colDir, ((p.rows - 1) / 2) * p.pixelSpacing);
      const bytes = encodeMrImage(
        study,
        header,
        {
          sopInstanceUid,
          instanceNumber,
          rows: p.rows,
          cols: p.cols,
          pixelSpacing: [p.pixelSpacing, p.pixelSpacing],
          imagePositionPatient: p.position,
          imageOrientationPatient: [...p.rowDir, ...p.colDir].map((v) => Math.round(v * 1e6) / 1e6) as [number, number, number, number, number, number],
          sliceThickness: sl.thickness,
          spacingBetweenSlices: sl.spacing,
          sliceLocation: Math.round(dot(centre, sl.normal) * 100) / 100,
          acquisitionTime: seriesTime(offsetMin + 1),
          pixels: pixels[k] ?? new Uint16Array(p.rows * p.cols),
        },
        tsUid,
      );
      instances.push({ role, seriesInstanceUid: header.seriesInstanceUid, sopInstanceUid, instanceNumber, ...(sl.level ? { level: sl.level } : {}), bytes });
    });
  };
  emit('t1_sag', 2, 3, sag, t1Pixels);
  emit('t2_sag', 3, 7, sag, t2Pixels);
  emit('t2_ax', 4, 11, ax, axPixels);

  const discCentres = {} as Record<DiscLevel, [number, number, number]>;
  DISC_LEVELS.forEach((level, k) => {
    const [y, z] = anatomy.curve.pointAt(anatomy.discCentres[k] ?? 0);
    discCentres[level] = [anatomy.xMid, Math.round(y * 1e3) / 1e3, Math.round(z * 1e3) / 1e3];
  });
  return {
    studyInstanceUid: study.studyInstanceUid,
    patientId: study.patientId,
    patientName: study.patientName,
    label: studyLabel(levels),
    levels,
    instances,
    discCentres,
  };
}
