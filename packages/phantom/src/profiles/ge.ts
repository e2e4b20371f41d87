import { TIMING, seq, series } from './common.js';
import type { VendorProfile } from './types.js';

/**
 * GE SIGNA Artist 1.5 T: MR Image Storage in implicit VR little endian (GE's usual export),
 * ImageType ORIGINAL\PRIMARY\OTHER, BodyPartExamined "SPINE", GE naming ("3-pl loc",
 * "Sag T1 FLAIR" — GE's usual spine T1 is an inversion-recovery FSE —, "Sag T2 FSE",
 * "Ax T2 FRFSE" in three angled blocks, "Sag STIR"), a repeated "Sag T2 FSE" (the technologist
 * repeated it; the repeat has the higher series number) and a post-contrast "Sag T1 FLAIR +C".
 */
export const GE: VendorProfile = {
  name: 'ge',
  manufacturer: 'GE MEDICAL SYSTEMS',
  modelName: 'SIGNA Artist',
  softwareVersions: '29\\LX\\MR Software release:RX29.1_R02',
  fieldStrength: 1.5,
  institutionName: 'MERCY GENERAL',
  stationName: 'GEMR15A',
  studyDescription: 'MRI LUMBAR SPINE W WO CONTRAST',
  bodyPart: 'SPINE',
  imageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  localizerImageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  charset: 'latin1',
  patientName: { alphabetic: "O'BRIEN^SEAN" },
  transferSyntax: 'implicit-le',
  enhanced: false,
  series: [
    series('localizer', 1, seq('3-pl loc', '3-PL LOC', 'fgre', TIMING.loc)),
    series('t1_sag', 2, seq('Sag T1 FLAIR', 'L-SPINE', 'fse-ir', TIMING.t1FlairGe)),
    series('t2_sag_first', 3, seq('Sag T2 FSE', 'L-SPINE', 'fse-xl', TIMING.t2Tse)),
    series('t2_sag', 4, seq('Sag T2 FSE', 'L-SPINE', 'fse-xl', TIMING.t2Tse)),
    series('t2_ax', 5, seq('Ax T2 FRFSE', 'L-SPINE', 'frfse-xl', TIMING.t2Tse)),
    series('stir_sag', 6, seq('Sag STIR', 'L-SPINE', 'fse-ir', TIMING.stir15)),
    series('t1_sag_post', 7, seq('Sag T1 FLAIR +C', 'L-SPINE', 'fse-ir', TIMING.t1FlairGe)),
  ],
};
