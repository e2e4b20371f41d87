import { createRequire } from 'node:module';

/**
 * A typed view of the small part of dcmjs this package uses. dcmjs ships no type declarations;
 * loading it through `createRequire` with a local interface keeps the package strict without an
 * ambient `declare module` that could clash with another package's declaration.
 */
export type NaturalizedDataset = Record<string, unknown>;

interface DenaturalizedElement {
  vr: string;
  Value?: unknown[];
  _rawValue?: unknown[];
}
export type DenaturalizedDataset = Record<string, DenaturalizedElement>;

interface DicomDictInstance {
  dict: DenaturalizedDataset;
  meta: DenaturalizedDataset;
  write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
}

interface DcmjsData {
  DicomDict: new (meta: DenaturalizedDataset) => DicomDictInstance;
  DicomMetaDictionary: {
    denaturalizeDataset(dataset: NaturalizedDataset): DenaturalizedDataset;
    naturalizeDataset(dataset: DenaturalizedDataset): NaturalizedDataset;
  };
}

const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as { data: DcmjsData };

export const { DicomDict, DicomMetaDictionary } = dcmjs.data;
