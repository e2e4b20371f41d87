import { uidFromName } from '@ldh/dicom';
import { buildAnatomy } from './anatomy.js';
import { personNameText } from './charset.js';
import { codecsLoaded } from './codecs.js';
import { PhantomOptionError } from './errors.js';
import { DISC_LEVELS, studyLabel } from './levels.js';
import { encodeMrImage } from './mr-writer.js';
import type { SeriesHeader, StudyHeader } from './mr-writer.js';
import { add, degradation, dot, pad2, planAxial, planCentre, planSagittal } from './planning.js';
import type { PlannedSlice } from './planning.js';
import { Prng, hashSeed } from './prng.js';
import { emitProfileSeries } from './profile-study.js';
import { expectedRouting, GENERIC, vendorProfile } from './profiles/index.js';
import { acquire, autoWindow, projectSlice, sampleSlab } from './render.js';
import type { SliceSignal } from './render.js';
import { TissueEvaluator } from './tissue.js';
import { MR_IMAGE_STORAGE, needsCodecs, SUPPORTED_TRANSFER_SYNTAXES, transferSyntaxUidOf } from './transfer-syntax.js';
import { drawLevels } from './truth.js';
import type { DiscLevel, PhantomInstance, PhantomSeries, PhantomStudy, PhantomStudyOptions, SeriesRole } from './types.js';

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
  if (opts.profile !== undefined) vendorProfile(opts.profile);
  const c = opts.caseIndex;
  if (c !== undefined && (!Number.isInteger(c) || c < 0 || c > 99_999_999)) throw new PhantomOptionError(`caseIndex must be an integer in 0..99999999, got ${c}`);
}

/**
 * Generates one synthetic lumbar MRI study (T1 and T2 sagittal, T2 oblique axial through the lower
 * three discs) with its ground truth. Everything, UIDs included, derives from seed and caseIndex,
 * so the same options always give byte-identical files.
 */
export function generateStudy(opts: PhantomStudyOptions): PhantomStudy {
  validate(opts);
  const profile = opts.profile === undefined ? GENERIC : vendorProfile(opts.profile);
  const generic = profile.name === 'generic';
  const caseIndex = opts.caseIndex ?? 1;
  const difficulty = opts.difficulty ?? 'easy';
  const tsUid = opts.transferSyntaxUid ?? transferSyntaxUidOf(profile.transferSyntax);
  if (needsCodecs(tsUid) && !codecsLoaded()) throw new PhantomOptionError(`transfer syntax ${tsUid} needs the WebAssembly encoders: await loadPhantomCodecs() before generateStudy`);
  const matrix = opts.matrix ?? profile.defaultMatrix ?? 320;
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
  // The generic profile keeps the original UIDs; another profile's study is another study of the same body.
  const uidBase = generic ? `ldh-phantom:${opts.seed}:${caseIndex}` : `ldh-phantom:${opts.seed}:${caseIndex}:${profile.name}`;
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
  if (!generic) {
    study.fieldStrength = profile.fieldStrength;
    study.stationName = profile.stationName;
  }
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
  const sagSignals: SliceSignal[] = [];
  for (const sl of sag) {
    const sig = sampleSlab(anatomy, evaluator, sl.plan, sl.normal, sl.thickness, stMap);
    if (!generic) sagSignals.push(sig);
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
      instances.push({ role, kind: role, seriesDir: role, frames: 1, seriesInstanceUid: header.seriesInstanceUid, sopInstanceUid, instanceNumber, ...(sl.level ? { level: sl.level } : {}), bytes });
    });
  };
  let series: PhantomSeries[];
  if (generic) {
    emit('t1_sag', 2, 3, sag, t1Pixels);
    emit('t2_sag', 3, 7, sag, t2Pixels);
    emit('t2_ax', 4, 11, ax, axPixels);
    series = GENERIC.series.map((def) => {
      const inSeries = instances.filter((i) => i.kind === def.kind);
      const r = expectedRouting(GENERIC, def);
      return {
        seriesInstanceUid: inSeries[0]?.seriesInstanceUid ?? '',
        seriesNumber: def.seriesNumber,
        seriesDescription: def.seq.description ?? '',
        kind: def.kind,
        sopClassUid: MR_IMAGE_STORAGE,
        instanceCount: inSeries.length,
        frameCount: inSeries.length,
        expectedRole: r.role,
        why: r.why,
      };
    });
  } else {
    const out = emitProfileSeries({
      profile,
      prng: root.fork(6),
      anatomy,
      evaluator,
      difficulty,
      matrix,
      tsUid,
      study,
      uidBase,
      seriesTime,
      sag,
      ax,
      sagSignals,
      t1Pixels,
      t2Pixels,
      axPixels,
    });
    instances.push(...out.instances);
    series = out.series;
  }

  const discCentres = {} as Record<DiscLevel, [number, number, number]>;
  DISC_LEVELS.forEach((level, k) => {
    const [y, z] = anatomy.curve.pointAt(anatomy.discCentres[k] ?? 0);
    discCentres[level] = [anatomy.xMid, Math.round(y * 1e3) / 1e3, Math.round(z * 1e3) / 1e3];
  });
  return {
    studyInstanceUid: study.studyInstanceUid,
    patientId: study.patientId,
    patientName: generic ? study.patientName : personNameText(profile.patientName),
    label: studyLabel(levels),
    levels,
    instances,
    profile: profile.name,
    series,
    discCentres,
  };
}
