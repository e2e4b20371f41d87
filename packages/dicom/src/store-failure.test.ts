import { describe, expect, it } from 'vitest';
import { StoreAssociationError } from './scu.js';
import { classifyStoreError, classifyStoreResults, describeStoreStatus } from './store-failure.js';

describe('C-STORE failure classification', () => {
  it('out of resources is transient; SOP class mismatch, cannot understand and SOP class not supported are permanent', () => {
    expect(describeStoreStatus(0xa700)).toEqual({ meaning: 'refused: out of resources', permanent: false });
    expect(describeStoreStatus(0xa7ff).permanent).toBe(false);
    expect(describeStoreStatus(0xa900).permanent).toBe(true);
    expect(describeStoreStatus(0xc123)).toEqual({ meaning: 'error: cannot understand', permanent: true });
    expect(describeStoreStatus(0x0122)).toEqual({ meaning: 'refused: SOP class not supported', permanent: true });
  });

  it('names every failing status of an association, and is permanent when one is', () => {
    const r = classifyStoreResults(
      [
        { file: 'a', status: 0x0000, ok: true },
        { file: 'b', status: 0xa700, ok: false },
        { file: 'c', status: 0xa900, ok: false },
      ],
      'PACS',
    );
    expect(r).toEqual({ permanent: true, kind: 'status-a9xx', status: 0xa900, reason: 'PACS answered 0xA700 refused: out of resources, 0xA900 error: dataset does not match SOP class (permanent)' });
    expect(classifyStoreResults([{ file: 'a', status: 0xb000, ok: true }], 'PACS')).toBeNull();
  });

  it('A-ASSOCIATE-RJ result 1 is permanent, result 2 transient; network errors transient', () => {
    expect(classifyStoreError(new StoreAssociationError('x', 'rejected', { result: 1, source: 1, reason: 7 })).permanent).toBe(true);
    expect(classifyStoreError(new StoreAssociationError('x', 'rejected', { result: 2, source: 3, reason: 1 })).permanent).toBe(false);
    expect(classifyStoreError(new StoreAssociationError('x', 'network', undefined, 'ECONNRESET')).permanent).toBe(false);
    expect(classifyStoreError(new StoreAssociationError('x', 'closed-without-response')).permanent).toBe(false);
    expect(classifyStoreError(new StoreAssociationError('x', 'no-presentation-context')).permanent).toBe(true);
    expect(classifyStoreError(new Error('ENOENT: ca.pem')).permanent).toBe(false);
  });

  it('names each failure with a short fixed kind (a metrics label: no peer names, bounded)', () => {
    expect(classifyStoreError(new StoreAssociationError('peer PACS@10.0.0.1 refused', 'network', undefined, 'ECONNREFUSED')).kind).toBe('network');
    expect(classifyStoreError(new StoreAssociationError('x', 'rejected', { result: 1, source: 1, reason: 7 })).kind).toBe('rejected');
    expect(classifyStoreError(new Error('ENOENT: ca.pem')).kind).toBe('error');
    expect(classifyStoreResults([{ file: 'a', status: 0xa702, ok: false }], 'PACS')?.kind).toBe('status-a7xx');
    expect(classifyStoreResults([{ file: 'a', status: 0x0122, ok: false }], 'PACS')?.kind).toBe('status-0122');
  });
});
