import { MYELO_SC, TIMING, seq, series } from './common.js';
import type { VendorProfile } from './types.js';

/**
 * Canon (Toshiba) Vantage Orian 1.5 T in Japan: ISO 2022 IR 13\ISO 2022 IR 87 with a three-group
 * PatientName (half-width katakana, kanji, hiragana: the PS3.5 H.3.2 example) and a kanji
 * InstitutionName, JPEG 2000 lossless, Canon naming (locator, T1WI SAG, T2WI SAG, T2WI AX),
 * BodyPartExamined "L-SPINE" and a 3-image Secondary Capture "3D myelogram" with no description.
 */
export const CANON: VendorProfile = {
  name: 'canon',
  manufacturer: 'CANON_MEC',
  modelName: 'Vantage Orian',
  softwareVersions: 'V6.0SP2005',
  fieldStrength: 1.5,
  institutionName: '山田病院',
  stationName: 'MRT-1550',
  studyDescription: 'L-SPINE',
  bodyPart: 'L-SPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  charset: 'japanese',
  patientName: { alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' },
  transferSyntax: 'j2k',
  enhanced: false,
  series: [
    series('localizer', 1, seq('locator', 'locator', 'FE2D', TIMING.loc)),
    series('t1_sag', 2, seq('T1WI SAG', 'T1WI SAG', 'FSE2D', TIMING.t1Tse15)),
    series('t2_sag', 3, seq('T2WI SAG', 'T2WI SAG', 'FSE2D', TIMING.t2Tse)),
    series('t2_ax', 4, seq('T2WI AX', 'T2WI AX', 'FSE2D', TIMING.t2Tse)),
    series('myelo_sc', 5, MYELO_SC),
  ],
};
