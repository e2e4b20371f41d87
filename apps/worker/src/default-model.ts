import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** models/ at the repository root (from apps/worker/src or dist). */
export const modelsDir = fileURLToPath(new URL('../../../models/', import.meta.url));

/**
 * The card the worker uses when LDH_MODEL_CARD is unset: the trained model when one is shipped,
 * the placeholder otherwise — so the demo runs on a fresh clone either way.
 */
export function defaultModelCard(dir = modelsDir): string {
  const cards = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const card = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { placeholder?: boolean; version?: string };
      return { file: path.join(dir, f), placeholder: card.placeholder === true, version: card.version ?? '0' };
    });
  const trained = cards.filter((c) => !c.placeholder).sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
  const chosen = trained[0] ?? cards[0];
  if (!chosen) throw new Error(`no model card (*.json) in ${dir}`);
  return chosen.file;
}
