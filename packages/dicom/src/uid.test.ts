import { describe, expect, it } from 'vitest';
import { isValidUid, newUid, uidFromName } from '@ldh/dicom';

describe('uid helpers', () => {
  it('makes valid, distinct 2.25 UIDs', () => {
    const a = newUid();
    const b = newUid();
    expect(a).not.toBe(b);
    expect(a.startsWith('2.25.')).toBe(true);
    expect(isValidUid(a)).toBe(true);
  });
  it('derives the same UID from the same name', () => {
    expect(uidFromName('x')).toBe(uidFromName('x'));
    expect(uidFromName('x')).not.toBe(uidFromName('y'));
    expect(isValidUid(uidFromName('x'))).toBe(true);
  });
  it('rejects malformed UIDs', () => {
    for (const bad of ['', '1..2', '01.2', 'a.b', '1.2.', '1'.repeat(65)]) expect(isValidUid(bad)).toBe(false);
  });
});
