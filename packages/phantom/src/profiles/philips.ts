import { TIMING, seq, series } from './common.js';
import type { VendorProfile } from './types.js';

/**
 * Philips Ingenia 3.0 T (R5.7): Enhanced MR Image Storage (one multi-frame instance per series),
 * explicit VR little endian, ISO_IR 100 with a French name, series numbers 101, 201, ... as
 * Philips numbers them, Philips naming (SmartSurvey, sT1W_TSE, T2W_TSE_SAG, T2W_TSE_TRA,
 * T2W_TSE_COR) and a sagittal MPR named like the T2 sagittal.
 */
export const PHILIPS: VendorProfile = {
  name: 'philips',
  manufacturer: 'Philips',
  modelName: 'Ingenia',
  softwareVersions: '5.7.1\\5.7.1.2',
  fieldStrength: 3,
  institutionName: 'Hôpital Saint-Éloi',
  stationName: 'PHILIPS-A1B2C3',
  studyDescription: 'L-Spine',
  bodyPart: 'SPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'M', 'NONE'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER', 'NONE'],
  charset: 'latin1',
  patientName: { alphabetic: 'Dupré^Hélène' },
  transferSyntax: 'explicit-le',
  enhanced: true,
  series: [
    series('localizer', 101, seq('SmartSurvey', 'SmartSurvey', 'FFE', TIMING.loc)),
    series('t1_sag', 201, seq('sT1W_TSE', 'sT1W_TSE', 'TSE', TIMING.t1Tse3)),
    series('t2_sag', 301, seq('T2W_TSE_SAG', 'T2W_TSE_SAG', 'TSE', TIMING.t2Tse)),
    series('t2_ax', 401, seq('T2W_TSE_TRA', 'T2W_TSE_TRA', 'TSE', TIMING.t2Tse)),
    series('t2_cor', 501, seq('T2W_TSE_COR', 'T2W_TSE_COR', 'TSE', TIMING.t2Tse)),
    series('mpr', 601, seq('T2W_TSE_SAG MPR', 'T2W_TSE_SAG', 'TSE', TIMING.t2Tse)),
  ],
};
