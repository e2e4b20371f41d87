import { TIMING, seq, series } from './common.js';
import type { VendorProfile } from './types.js';

/**
 * Hitachi (FUJIFILM) ECHELON Smart 1.5 T in Japan: every image labelled DERIVED\SECONDARY (it is
 * still acquired data), `\ISO 2022 IR 87` with the PS3.5 H.3.1 three-group name, empty
 * BodyPartExamined, Hitachi naming (Scanogram, T1W SE SAG, T2W FSE SAG, T2W FSE AX) and a
 * post-contrast "T1W SE SAG +C".
 */
export const HITACHI: VendorProfile = {
  name: 'hitachi',
  manufacturer: 'Hitachi Medical Corporation',
  modelName: 'ECHELON_Smart',
  softwareVersions: 'V5.2',
  fieldStrength: 1.5,
  institutionName: 'ICHIRO CLINIC',
  stationName: 'ECHELON01',
  studyDescription: 'LUMBAR',
  bodyPart: '',
  // Value 3 is required in MR images (PS3.3 C.8.3.1.1.1); OTHER is what such consoles put there.
  imageType: ['DERIVED', 'SECONDARY', 'OTHER'],
  localizerImageType: ['DERIVED', 'SECONDARY', 'OTHER'],
  charset: 'japanese-ir6',
  patientName: { alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' },
  transferSyntax: 'explicit-le',
  enhanced: false,
  series: [
    series('localizer', 1, seq('Scanogram', 'Scanogram', 'GE', TIMING.loc)),
    series('t1_sag', 2, seq('T1W SE SAG', 'T1W SE SAG', 'SE', TIMING.t1Tse15)),
    series('t2_sag', 3, seq('T2W FSE SAG', 'T2W FSE SAG', 'FSE', TIMING.t2Tse)),
    series('t2_ax', 4, seq('T2W FSE AX', 'T2W FSE AX', 'FSE', TIMING.t2Tse)),
    series('t1_sag_post', 5, seq('T1W SE SAG +C', 'T1W SE SAG +C', 'SE', TIMING.t1Tse15)),
  ],
};

/**
 * Hitachi AIRIS Vento 0.3 T (open, permanent magnet): low-field timings (conventional spin-echo
 * T1 with TR 400-500 / TE 15-25, T2 FSE TE 100-130), a 256 matrix, DERIVED\SECONDARY everywhere,
 * no Specific Character Set (default repertoire) and lossy JPEG 2000 (about 5:1).
 */
export const HITACHI_LOWFIELD: VendorProfile = {
  ...HITACHI,
  name: 'hitachi-0.3t',
  modelName: 'AIRIS Vento',
  softwareVersions: 'V2.0E',
  fieldStrength: 0.3,
  institutionName: 'TANAKA ORTHOPEDIC CLINIC',
  stationName: 'AIRISVENTO',
  studyDescription: 'L-SPINE',
  charset: 'default',
  patientName: { alphabetic: 'TANAKA^HANAKO' },
  transferSyntax: 'j2k-lossy',
  defaultMatrix: 256,
  series: [
    series('localizer', 1, seq('Scanogram', 'Scanogram', 'GE', { ...TIMING.loc, tr: [20, 30], te: [6, 8] })),
    series('t1_sag', 2, seq('T1W SE SAG', 'T1W SE SAG', 'SE', TIMING.t1Se03)),
    series('t2_sag', 3, seq('T2W FSE SAG', 'T2W FSE SAG', 'FSE', TIMING.t2Fse03)),
    series('t2_ax', 4, seq('T2W FSE AX', 'T2W FSE AX', 'FSE', TIMING.t2Fse03)),
  ],
};
