import { randomUUID, createHash } from 'node:crypto';

/**
 * A new globally unique DICOM UID under the UUID-derived root 2.25 (PS3.5 B.2):
 * no registered org root is needed and collisions are as unlikely as UUID v4.
 */
export function newUid(): string {
  const hex = randomUUID().replace(/-/g, '');
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}

/**
 * A deterministic UID derived from a name (e.g. "sr:<study>:<hash>"), so a retried job
 * produces the same SOP Instance UID instead of a duplicate object in the PACS.
 */
export function uidFromName(name: string): string {
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${digest}`).toString(10)}`;
}

const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** True when `uid` is a syntactically valid DICOM UID (PS3.5 9.1: digits and dots, ≤ 64 chars). */
export function isValidUid(uid: string | undefined | null): uid is string {
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 64 && UID_PATTERN.test(uid);
}
