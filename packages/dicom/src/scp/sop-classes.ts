import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dimse = require('dcmjs-dimse') as { constants: { StorageClass: Record<string, string> } };

/** Verification SOP Class (C-ECHO). */
export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

const S = '1.2.840.10008.5.1.4.1.1.';
/**
 * Storage SOP classes of PS3.4 Annex B (current and commonly still-sent retired ones), written
 * as suffixes of 1.2.840.10008.5.1.4.1.1. An explicit list, not a prefix match, so an unknown
 * abstract syntax is refused at association time with a clear reason.
 */
const STANDARD_SUFFIXES = [
  '1', '1.1', '1.1.1', '1.2', '1.2.1', '1.3', '1.3.1', '2', '2.1', '2.2', '3', '3.1', '4', '4.1', '4.2', '4.3', '4.4', '5',
  '6', '6.1', '6.2', '6.3', '7', '7.1', '7.2', '7.3', '7.4', '9.1.1', '9.1.2', '9.1.3', '9.2.1', '9.3.1', '9.4.1', '9.4.2',
  '9.5.1', '9.6.1', '9.6.2', '9.7.1', '9.7.2', '9.7.3', '9.7.4', '9.8.1', '11.1', '11.2', '11.3', '11.4', '11.5', '11.6',
  '11.7', '11.8', '11.9', '11.10', '11.11', '11.12', '12.1', '12.1.1', '12.2', '12.2.1', '12.3', '13.1.1', '13.1.2',
  '13.1.3', '13.1.4', '13.1.5', '14.1', '14.2', '20', '30', '66', '66.1', '66.2', '66.3', '66.4', '66.5', '66.6', '66.7',
  '67', '68.1', '68.2', '77.1.1', '77.1.1.1', '77.1.2', '77.1.2.1', '77.1.3', '77.1.4', '77.1.4.1', '77.1.5.1',
  '77.1.5.2', '77.1.5.3', '77.1.5.4', '77.1.5.5', '77.1.5.6', '77.1.5.7', '77.1.5.8', '77.1.6', '77.1.7', '77.1.8',
  '77.1.9', '78.1', '78.2', '78.3', '78.4', '78.5', '78.6', '78.7', '78.8', '79.1', '80.1', '81.1', '82.1', '88.11',
  '88.22', '88.33', '88.34', '88.35', '88.40', '88.50', '88.59', '88.65', '88.67', '88.68', '88.69', '88.70', '88.71',
  '88.72', '88.73', '88.74', '88.75', '88.76', '90.1', '91.1', '104.1', '104.2', '104.3', '104.4', '104.5', '128',
  '128.1', '129', '130', '131', '200.1', '200.2', '200.3', '200.4', '200.5', '200.6', '200.7', '200.8', '200.9',
  '481.1', '481.2', '481.3', '481.4', '481.5', '481.6', '481.7', '481.8', '481.9', '481.10', '481.11', '481.12',
  '481.13', '481.14', '481.15', '481.16', '481.17', '481.18', '481.19', '481.20', '481.21', '481.22', '481.23',
  '481.24', '481.25', '481.26',
];

/** Every storage SOP class we accept: the standard list above plus dcmjs-dimse's StorageClass constants. */
export const STORAGE_SOP_CLASSES: ReadonlySet<string> = new Set([
  ...STANDARD_SUFFIXES.map((s) => S + s),
  ...Object.values(dimse.constants.StorageClass),
]);

/**
 * Transfer syntaxes accepted for storage. Instances are stored as received, so any syntax we can
 * later decode (or hand on) is fine; video syntaxes are refused since nothing downstream reads them.
 */
export const ACCEPTED_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2', // implicit VR little endian
  '1.2.840.10008.1.2.1', // explicit VR little endian
  '1.2.840.10008.1.2.1.99', // deflated explicit VR little endian
  '1.2.840.10008.1.2.2', // explicit VR big endian (retired, still sent)
  '1.2.840.10008.1.2.5', // RLE lossless
  '1.2.840.10008.1.2.4.50', // JPEG baseline
  '1.2.840.10008.1.2.4.51', // JPEG extended
  '1.2.840.10008.1.2.4.57', // JPEG lossless
  '1.2.840.10008.1.2.4.70', // JPEG lossless SV1
  '1.2.840.10008.1.2.4.80', // JPEG-LS lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS near-lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 lossless
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.92', // JPEG 2000 multi-component lossless
  '1.2.840.10008.1.2.4.93', // JPEG 2000 multi-component
  '1.2.840.10008.1.2.4.110', // JPEG XL lossless
  '1.2.840.10008.1.2.4.111', // JPEG XL JPEG recompression
  '1.2.840.10008.1.2.4.112', // JPEG XL
  '1.2.840.10008.1.2.4.201', // HTJ2K lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
]);

/** Transfer syntaxes for Verification (C-ECHO has no dataset). */
export const VERIFICATION_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
]);
