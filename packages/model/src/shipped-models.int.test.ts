// The models shipped in the repository's models/ folder: every card must verify (sha256, schema,
// graph I/O) and classify on CPU. Guards against committing an ONNX file without updating its card.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyImages, classifyStudy, loadModel, type SessionLogger } from '@ldh/model';

const modelsDir = fileURLToPath(new URL('../../../models/', import.meta.url));
const cards = readdirSync(modelsDir).filter((f) => f.endsWith('.json'));
const quiet: SessionLogger = { info: () => undefined, warn: () => undefined };

function randomImages(n: number, length: number, seed: number): Float32Array[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    const t = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      t[i] = (x / 0xffffffff - 0.5) * 4; // roughly the normalised range (x-0.5)/0.25
    }
    return t;
  });
}

describe('shipped models', () => {
  it('include the placeholder model', () => {
    expect(cards).toContain('placeholder-v0.json');
  });

  describe.each(cards)('%s', (cardFile) => {
    it('verifies and classifies on CPU; batched equals single (max |Δ| < 1e-6)', async () => {
      const model = await loadModel(join(modelsDir, cardFile), { provider: 'cpu', intraOpThreads: 1, logger: quiet });
      try {
        if (cardFile.startsWith('placeholder')) expect(model.placeholder).toBe(true);
        const images = randomImages(5, model.imageLength, 42);
        const single = await classifyImages(model, images, { batchSize: 1 });
        const batched = await classifyImages(model, images, { batchSize: 8 });
        for (const p of single.probabilities) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        const maxDelta = Math.max(...batched.probabilities.map((p, i) => Math.abs(p - (single.probabilities[i] ?? NaN))));
        expect(maxDelta).toBeLessThan(1e-6);
        const study = await classifyStudy(
          images.map((tensor, i) => ({
            sopInstanceUid: `2.25.${i + 1}`,
            seriesInstanceUid: '2.25.100',
            sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
            role: 't2_ax' as const,
            tensor,
          })),
          model,
        );
        expect(study.modelName).toBe(model.card.name);
        expect(study.placeholder).toBe(model.card.placeholder);
        expect(['ldh', 'healthy']).toContain(study.study.decision);
      } finally {
        await model.dispose();
      }
    });
  });

  it('placeholder: CUDA requested falls back to CPU on this host', async () => {
    const warnings: string[] = [];
    const model = await loadModel(join(modelsDir, 'placeholder-v0.json'), {
      provider: 'cuda',
      intraOpThreads: 1,
      logger: { info: () => undefined, warn: (_f, m) => warnings.push(m) },
    });
    try {
      expect(model.provider).toBe('cpu');
      expect(warnings.join('\n')).toMatch(/falling back to CPU/);
    } finally {
      await model.dispose();
    }
  });
});
