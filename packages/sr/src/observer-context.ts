/**
 * Context rows shared by the SR and the KOS roots: TID 1204 language and TID 1002/1004 with the
 * model as a device observer, so a reader can tell which model (and version, via the UID) spoke.
 */
import { CODES } from './codes.js';
import { codeValue, text, uidRef, type ContentItem } from './content-item.js';
import type { AlgorithmIdentity } from './types.js';

/** Language (en-US) and device observer rows, in TID 1500 / TID 2010 order. */
export function languageAndObserver(algorithm: AlgorithmIdentity): ContentItem[] {
  return [
    codeValue('HAS CONCEPT MOD', CODES.languageOfContent, CODES.englishUS),
    codeValue('HAS OBS CONTEXT', CODES.observerType, CODES.device),
    uidRef('HAS OBS CONTEXT', CODES.deviceObserverUid, algorithm.deviceObserverUid),
    text('HAS OBS CONTEXT', CODES.deviceObserverName, algorithm.name),
    text('HAS OBS CONTEXT', CODES.deviceObserverManufacturer, algorithm.manufacturer),
    text('HAS OBS CONTEXT', CODES.deviceObserverModelName, algorithm.modelName),
  ];
}

