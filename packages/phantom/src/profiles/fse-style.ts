import { TIMING, seq, series } from './common.js';
import type { VendorProfile } from './types.js';

/**
 * A Korean site with the lower-case "t1_fse_sag" naming (the Samsung / United Imaging style):
 * `\ISO 2022 IR 149` with the PS3.5 I.2 three-group name (Hong^Gildong=洪^吉洞=홍^길동),
 * RLE Lossless, a coronal T2 after the axial.
 */
export const SAMSUNG: VendorProfile = {
  name: 'samsung',
  manufacturer: 'SAMSUNG',
  modelName: 'MR 1.5T',
  softwareVersions: '1.0',
  fieldStrength: 1.5,
  institutionName: 'SEOUL TEST HOSPITAL',
  stationName: 'SMR01',
  studyDescription: 'L-SPINE',
  bodyPart: 'LSPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  charset: 'korean',
  patientName: { alphabetic: 'Hong^Gildong', ideographic: '洪^吉洞', phonetic: '홍^길동' },
  transferSyntax: 'rle',
  enhanced: false,
  series: [
    series('localizer', 1, seq('localizer', 'localizer', 'gre2d', TIMING.loc)),
    series('t1_sag', 2, seq('t1_fse_sag', 't1_fse_sag', 'fse2d', TIMING.t1Tse15)),
    series('t2_sag', 3, seq('t2_fse_sag', 't2_fse_sag', 'fse2d', TIMING.t2Tse)),
    series('t2_ax', 4, seq('t2_fse_tra', 't2_fse_tra', 'fse2d', TIMING.t2Tse)),
    series('t2_cor', 5, seq('t2_fse_cor', 't2_fse_cor', 'fse2d', TIMING.t2Tse)),
  ],
};

/**
 * United Imaging uMR 780 3.0 T in China: GB18030 (PatientName as in the PS3.5 J example
 * Wang^XiaoDong=王^小东, a Chinese StudyDescription and InstitutionName), JPEG-LS lossless,
 * "t1_fse_sag" naming, a sagittal STIR ("t2_fse_sag_stir") and an MPR.
 */
export const UNITED_IMAGING: VendorProfile = {
  name: 'united-imaging',
  manufacturer: 'UIH',
  modelName: 'uMR 780',
  softwareVersions: 'R004',
  fieldStrength: 3,
  institutionName: '示例医院',
  stationName: 'UMR780',
  studyDescription: '腰椎平扫',
  bodyPart: 'LSPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'M', 'NORM'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'M', 'NORM'],
  charset: 'gb18030',
  patientName: { alphabetic: 'Wang^XiaoDong', ideographic: '王^小东' },
  transferSyntax: 'jpeg-ls',
  enhanced: false,
  series: [
    series('localizer', 1, seq('localizer', 'localizer', 'gre_fsp', TIMING.loc)),
    series('t1_sag', 2, seq('t1_fse_sag', 't1_fse_sag', 'fse', TIMING.t1Tse3)),
    series('t2_sag', 3, seq('t2_fse_sag', 't2_fse_sag', 'fse', TIMING.t2Tse)),
    series('stir_sag', 4, seq('t2_fse_sag_stir', 't2_fse_sag_stir', 'fse_ir', TIMING.stir3)),
    series('t2_ax', 5, seq('t2_fse_tra', 't2_fse_tra', 'fse', TIMING.t2Tse)),
    series('mpr', 6, seq('t2_fse_sag_MPR', 't2_fse_sag', 'fse', TIMING.t2Tse)),
  ],
};
