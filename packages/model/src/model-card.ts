/**
 * The model card (`models/<name>.json`) is the contract between training and this runtime: it
 * says which ONNX file to load, proves it is the right one (sha256), and carries everything a
 * result must be traceable to (version, placeholder flag, threshold, aggregation rule).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ModelCardError } from './errors.js';

const positiveInt = z.number().int().positive();
const percentile = z.number().min(0).max(100);
/** One series role's region of interest (contract v2); z.number() already refuses NaN and ±Infinity. */
const regionOfInterest = z.object({ centre: z.tuple([z.number(), z.number()]), sideMm: z.number().positive() });

/** Study-level aggregation rule; `k` is required (and only meaningful) for `topk-mean`. */
export const aggregationSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('mean'), k: positiveInt.optional(), chosenOn: z.string().min(1) }),
  z.object({ method: z.literal('max'), k: positiveInt.optional(), chosenOn: z.string().min(1) }),
  z.object({ method: z.literal('topk-mean'), k: positiveInt, chosenOn: z.string().min(1) }),
]);
export type Aggregation = z.infer<typeof aggregationSchema>;

/** zod schema of card schemaVersion 1; unknown extra fields are ignored (forward compatible). */
export const modelCardSchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    version: z.string().min(1),
    placeholder: z.boolean(),
    file: z
      .string()
      .min(1)
      .refine((f) => basename(f) === f && f !== '.' && f !== '..', 'must be a bare file name beside the card')
      .refine((f) => f.endsWith('.onnx'), 'must end with .onnx'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
    architecture: z.string().min(1),
    input: z.object({
      name: z.string().min(1),
      layout: z.literal('NCHW'),
      channels: z.literal(3),
      size: positiveInt.max(1024),
      dtype: z.literal('float32'),
      contract: z.string().min(1),
      /** Required by contract ldh-input-v2 (every role the worker classifies); not part of v1. */
      roi: z.object({ t1_sag: regionOfInterest, t2_sag: regionOfInterest, t2_ax: regionOfInterest }).optional(),
      windowing: z.object({
        method: z.literal('percentile'),
        lowPercentile: percentile,
        highPercentile: percentile,
      }),
      normalisation: z.object({ mean: z.number(), std: z.number().positive() }),
      resize: z.string().min(1),
      sliceSelection: z.object({
        sagittalCentralSlices: positiveInt,
        axialMaxSlices: positiveInt,
      }),
    }),
    output: z.object({
      name: z.string().min(1),
      classOrder: z
        .tuple([z.string(), z.string()])
        .refine((c) => c.includes('healthy') && c.includes('ldh'), 'must contain "healthy" and "ldh"'),
      activation: z.literal('softmax'),
    }),
    threshold: z.number().gt(0).lt(1),
    aggregation: aggregationSchema,
    /**
     * Per-disc-level scoring (axial images grouped by level): its own aggregation rule and
     * threshold, chosen on validation data. Absent: levels use `aggregation` and `threshold`.
     */
    perLevel: z.object({ aggregation: aggregationSchema, threshold: z.number().gt(0).lt(1) }).optional(),
    training: z.object({
      data: z.string().min(1),
      command: z.string().min(1),
      seed: z.number().int(),
      epochs: z.number().int().nonnegative(),
      imageSize: positiveInt,
      images: z.number().int().nonnegative(),
      durationMin: z.number().nonnegative(),
    }),
    metrics: z.record(z.string(), z.unknown()),
    intendedUse: z.string().min(1),
    disclaimer: z.string().min(1),
  })
  .superRefine((card, ctx) => {
    if (card.input.windowing.lowPercentile >= card.input.windowing.highPercentile) {
      ctx.addIssue({ code: 'custom', path: ['input', 'windowing'], message: 'lowPercentile must be < highPercentile' });
    }
    if (card.input.contract === 'ldh-input-v2' && card.input.roi === undefined) {
      ctx.addIssue({ code: 'custom', path: ['input', 'roi'], message: 'is required by contract ldh-input-v2' });
    }
    if (card.input.contract === 'ldh-input-v1' && card.input.roi !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['input', 'roi'], message: `is not part of contract ${card.input.contract}` });
    }
    if (card.training.imageSize !== card.input.size) {
      ctx.addIssue({ code: 'custom', path: ['training', 'imageSize'], message: `must equal input.size (${card.input.size})` });
    }
  });
export type ModelCard = z.infer<typeof modelCardSchema>;

/** A validated card plus the absolute locations it was loaded from. */
export interface LoadedModelCard {
  card: ModelCard;
  cardPath: string;
  /** The ONNX file beside the card, already verified against `card.sha256`. */
  onnxPath: string;
}

/**
 * Validates a parsed card object. Pure, so the schema is unit-testable; `source` names the
 * file in the error. Throws ModelCardError naming the first invalid field.
 */
export function parseModelCard(value: unknown, source: string): ModelCard {
  const parsed = modelCardSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  const more = parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : '';
  throw new ModelCardError(source, `invalid field ${field}: ${issue?.message ?? 'invalid'}${more}`, field, {
    cause: parsed.error,
  });
}

/** sha256 of a file, streamed so a 100 MB model is never held in memory twice. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Reads and validates a card, resolves its ONNX file beside it and verifies the file's sha256,
 * so a swapped or truncated model can never serve results under the card's name and version.
 */
export async function loadModelCard(cardPath: string): Promise<LoadedModelCard> {
  let text: string;
  try {
    text = await readFile(cardPath, 'utf8');
  } catch (err) {
    throw new ModelCardError(cardPath, `cannot read card: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, undefined, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelCardError(cardPath, `not valid JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  const card = parseModelCard(json, cardPath);
  const onnxPath = join(dirname(cardPath), card.file);
  let actual: string;
  try {
    actual = await sha256File(onnxPath);
  } catch (err) {
    throw new ModelCardError(
      onnxPath,
      `cannot read model file named by ${basename(cardPath)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'file',
      { cause: err },
    );
  }
  if (actual !== card.sha256) {
    throw new ModelCardError(onnxPath, `sha256 mismatch: card ${basename(cardPath)} says ${card.sha256}, file is ${actual}`, 'sha256');
  }
  return { card, cardPath, onnxPath };
}
