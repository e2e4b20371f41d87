import dcmjs from 'dcmjs';

// Implicit VR files make dcmjs's reader log "Invalid vr type ox" for PixelData (it then uses OW,
// which is right for 16-bit pixels); keep test output readable.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
dcmjs.log.getLogger('dcmjs').setLevel('error');

/**
 * A Part-10 file parsed by dcmjs into its meta header and naturalised dataset (tests only).
 * `ignoreErrors` lets dcmjs read a file with a multi-valued Specific Character Set (it then
 * decodes text with the first value only: use it for structure, check names with pydicom).
 */
export function readPart10(bytes: Uint8Array, opts: { ignoreErrors?: boolean } = {}): { meta: Record<string, unknown>; ds: Record<string, unknown> } {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const dict = dcmjs.data.DicomMessage.readFile(ab, opts.ignoreErrors ? { ignoreErrors: true } : {});
  return {
    meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta),
    ds: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
  };
}

/** Numbers of a multi-valued numeric attribute (dcmjs may give strings for DS). */
export function nums(v: unknown): number[] {
  return (Array.isArray(v) ? v : [v]).map((x) => Number(x));
}
