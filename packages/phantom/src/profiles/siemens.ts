import { TIMING, seq, series } from './common.js';
import type { VendorProfile } from './types.js';

/**
 * Siemens MAGNETOM Aera 1.5 T (syngo MR E11): MR Image Storage, explicit VR little endian,
 * ISO_IR 100 with accented Latin-1 names, ImageType ORIGINAL\PRIMARY\M\ND, series named after the
 * sequence (t2_tse_sag, t1_tse_sag, t2_tirm_sag for STIR, t2_tse_tra_mblock for the multi-block
 * axial), StudyDescription "Region^Protocol", T2 sagittal before T1, post-contrast T1 last.
 */
export const SIEMENS: VendorProfile = {
  name: 'siemens',
  manufacturer: 'SIEMENS',
  modelName: 'Aera',
  softwareVersions: 'syngo MR E11',
  fieldStrength: 1.5,
  institutionName: 'Klinikum Süd',
  stationName: 'AWP45678',
  studyDescription: 'Wirbelsäule^LWS',
  bodyPart: 'LSPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'],
  charset: 'latin1',
  patientName: { alphabetic: 'Müller^Jürgen' },
  transferSyntax: 'explicit-le',
  enhanced: false,
  series: [
    series('localizer', 1, seq('localizer', 'localizer', '*fl2d1', TIMING.loc)),
    series('t2_sag', 2, seq('t2_tse_sag', 't2_tse_sag', '*tse2d1_17', TIMING.t2Tse)),
    series('t1_sag', 3, seq('t1_tse_sag', 't1_tse_sag', '*tse2d1_3', TIMING.t1Tse15)),
    series('stir_sag', 4, seq('t2_tirm_sag', 't2_tirm_sag', '*tir2d1_13', TIMING.stir15)),
    series('t2_ax', 5, seq('t2_tse_tra_mblock', 't2_tse_tra_mblock', '*tse2d1_17', TIMING.t2Tse)),
    series('t1_sag_post', 6, seq('t1_tse_sag_POST', 't1_tse_sag_POST', '*tse2d1_3', TIMING.t1Tse15)),
  ],
};

/**
 * Siemens MAGNETOM Vida 3 T (syngo MR XA50): Enhanced MR Image Storage (one multi-frame instance
 * per series, as XA software writes by default), UTF-8 (ISO_IR 192), and an MPR named like a T2
 * sagittal (ImageType DERIVED\SECONDARY\REFORMATTED) after the acquired series.
 */
export const SIEMENS_XA: VendorProfile = {
  name: 'siemens-xa',
  manufacturer: 'Siemens Healthineers',
  modelName: 'MAGNETOM Vida',
  softwareVersions: 'syngo MR XA50',
  fieldStrength: 3,
  institutionName: 'Universitätsklinikum Nord',
  stationName: 'MRC40123',
  studyDescription: 'Spine^L-Spine',
  bodyPart: 'LSPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'M', 'NONE'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER', 'NONE'],
  charset: 'utf8',
  patientName: { alphabetic: 'Schröder^Zoë' },
  transferSyntax: 'explicit-le',
  enhanced: true,
  series: [
    series('localizer', 1, seq('localizer', 'localizer', '*fl2d1', TIMING.loc)),
    series('t1_sag', 2, seq('t1_tse_sag', 't1_tse_sag', '*tse2d1_3', TIMING.t1Tse3)),
    series('t2_sag', 3, seq('t2_tse_sag', 't2_tse_sag', '*tse2d1_17', TIMING.t2Tse)),
    series('t2_ax', 4, seq('t2_tse_tra_mblock', 't2_tse_tra_mblock', '*tse2d1_17', TIMING.t2Tse)),
    series('mpr', 5, seq('t2_tse_sag_MPR', 't2_tse_sag', '*tse2d1_17', TIMING.t2Tse)),
  ],
};
