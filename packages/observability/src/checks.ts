import { statfs } from 'node:fs/promises';

/** Readiness check: the filesystem holding `dir` has at least `minFreeBytes` available. */
export function diskSpaceCheck(dir: string, minFreeBytes: number): () => Promise<{ freeBytes: number }> {
  return async () => {
    const s = await statfs(dir);
    const freeBytes = s.bavail * s.bsize;
    if (freeBytes < minFreeBytes) throw new Error(`${freeBytes} bytes free, below the minimum ${minFreeBytes}`);
    return { freeBytes };
  };
}
