/**
 * Constants of the DICOM data element encoding (PS3.5 7.1, 7.5) shared by the byte-level walkers:
 * the SCP's structure check (scp/dataset-structure.ts) and the text locator (charset-elements.ts).
 */

/** VRs with a reserved 2 bytes and a 32-bit length in explicit VR (PS3.5 Table 7.1-1). */
export const LONG_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
export const UNDEFINED_LENGTH = 0xffffffff;
export const ITEM = 0xfffee000;
export const ITEM_DELIM = 0xfffee00d;
export const SEQ_DELIM = 0xfffee0dd;
export const PIXEL_DATA = 0x7fe00010;
/** Deepest sequence nesting a walker follows before refusing the dataset. */
export const MAX_DEPTH = 64;
