/**
 * Renders the triage summary image for viewers that show no SR: the key image of the most
 * suspicious level, windowed, under a banner that states the result and that it is research
 * software, beside a per-level table. sharp composites an SVG overlay (text through librsvg; the
 * family list ends in generic sans-serif so any installed sans font renders it).
 */
import sharp, { type OverlayOptions } from 'sharp';
import type { DecodedFrame } from '@ldh/dicom';
import type { Decision, DiscLevel } from './types.js';

export const SUMMARY_WIDTH = 1024;
export const SUMMARY_HEIGHT = 768;
const BANNER_HEIGHT = 112;
const IMAGE_SIDE = 640;
const MARGIN = 8;
const TABLE_X = MARGIN * 2 + IMAGE_SIDE;

export interface SummaryLevel {
  level: DiscLevel;
  probability: number;
  decision: Decision;
}

export interface SummaryRenderInput {
  /** Decoded key image; absent: the image area says so (e.g. no axial image was scored). */
  frame?: DecodedFrame;
  levels: readonly SummaryLevel[];
  studyProbability: number;
  decision: Decision;
  /** The level named in the banner (the most suspicious one), if any. */
  keyLevel?: DiscLevel;
  /** "ldh-dual-attention-resnext50 2.0.0"; with `placeholder`, the banner says PLACEHOLDER MODEL. */
  modelLabel: string;
  placeholder: boolean;
  /** Free caption under the image, e.g. which image is shown. */
  caption?: string;
}

export interface RenderedSummary {
  /** Interleaved RGB, 8 bits per sample, row-major (what the SC's Pixel Data holds). */
  rgb: Buffer;
  width: number;
  height: number;
}

const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The banner's headline, e.g. "AI triage: LDH suspected at L4-L5, score 0.81". */
export function summaryHeadline(input: Pick<SummaryRenderInput, 'decision' | 'keyLevel' | 'levels' | 'studyProbability'>): string {
  const key = input.levels.find((l) => l.level === input.keyLevel);
  if (input.decision === 'ldh') {
    const at = key ? ` at ${key.level}` : '';
    const score = key ? key.probability : input.studyProbability;
    return `AI triage: LDH suspected${at}, score ${score.toFixed(2)}`;
  }
  return `AI triage: no LDH suspected, score ${input.studyProbability.toFixed(2)}`;
}

/** 8-bit greyscale of a decoded frame: rescaled, windowed to its 0.5–99.5 percentiles, MONOCHROME1 inverted. */
export function windowFrame(frame: DecodedFrame): Uint8Array {
  const n = frame.rows * frame.columns;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (frame.pixels[i] ?? 0) * frame.rescaleSlope + frame.rescaleIntercept;
  const sorted = Float64Array.from(values).sort();
  const lo = sorted[Math.floor(0.005 * (n - 1))] ?? 0;
  const hi = sorted[Math.ceil(0.995 * (n - 1))] ?? 1;
  const span = hi > lo ? hi - lo : 1;
  const out = new Uint8Array(n);
  const invert = frame.photometricInterpretation === 'MONOCHROME1';
  for (let i = 0; i < n; i++) {
    const v = Math.round((Math.min(Math.max((values[i]! - lo) / span, 0), 1)) * 255);
    out[i] = invert ? 255 - v : v;
  }
  return out;
}

function overlaySvg(input: SummaryRenderInput): string {
  const positive = input.decision === 'ldh';
  const bannerFill = positive ? '#b71c1c' : '#1b5e20';
  const model = `${input.modelLabel}${input.placeholder ? ' — PLACEHOLDER MODEL, output is not a trained result' : ''}`;
  const rows = input.levels
    .map((l, i) => {
      const y = BANNER_HEIGHT + 96 + i * 40;
      const fill = l.decision === 'ldh' ? '#ff8a80' : '#e0e0e0';
      const weight = l.level === input.keyLevel ? 'bold' : 'normal';
      return (
        `<text x="${TABLE_X + 12}" y="${y}" font-size="22" font-weight="${weight}" fill="${fill}">${escapeXml(l.level)}</text>` +
        `<text x="${TABLE_X + 130}" y="${y}" font-size="22" font-weight="${weight}" fill="${fill}">${l.probability.toFixed(2)}</text>` +
        `<text x="${TABLE_X + 220}" y="${y}" font-size="22" font-weight="${weight}" fill="${fill}">${l.decision === 'ldh' ? 'suspected' : '—'}</text>`
      );
    })
    .join('');
  const noLevels =
    input.levels.length === 0 ? `<text x="${TABLE_X + 12}" y="${BANNER_HEIGHT + 96}" font-size="20" fill="#e0e0e0">no level could be scored</text>` : '';
  const noImage = input.frame
    ? ''
    : `<text x="${MARGIN + IMAGE_SIDE / 2}" y="${BANNER_HEIGHT + IMAGE_SIDE / 2}" font-size="24" fill="#bdbdbd" text-anchor="middle">no key image</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SUMMARY_WIDTH}" height="${SUMMARY_HEIGHT}" font-family="${FONT}">
<rect x="0" y="0" width="${SUMMARY_WIDTH}" height="${BANNER_HEIGHT - MARGIN}" fill="${bannerFill}"/>
<text x="16" y="44" font-size="32" font-weight="bold" fill="#ffffff">${escapeXml(summaryHeadline(input))}</text>
<text x="16" y="80" font-size="22" fill="#ffffff">Research software, not for diagnosis. Preliminary, unverified.</text>
<text x="${TABLE_X + 12}" y="${BANNER_HEIGHT + 40}" font-size="24" font-weight="bold" fill="#ffffff">Per disc level</text>
<text x="${TABLE_X + 12}" y="${BANNER_HEIGHT + 66}" font-size="16" fill="#9e9e9e">level</text><text x="${TABLE_X + 130}" y="${BANNER_HEIGHT + 66}" font-size="16" fill="#9e9e9e">score</text><text x="${TABLE_X + 220}" y="${BANNER_HEIGHT + 66}" font-size="16" fill="#9e9e9e">finding</text>
${rows}${noLevels}${noImage}
<text x="${TABLE_X + 12}" y="${SUMMARY_HEIGHT - 92}" font-size="18" fill="#e0e0e0">Study score ${input.studyProbability.toFixed(2)}</text>
<text x="${TABLE_X + 12}" y="${SUMMARY_HEIGHT - 64}" font-size="14" fill="#9e9e9e">${escapeXml(model.slice(0, 60))}</text>
<text x="${TABLE_X + 12}" y="${SUMMARY_HEIGHT - 44}" font-size="14" fill="#9e9e9e">${escapeXml(model.slice(60, 120))}</text>
<text x="${MARGIN}" y="${SUMMARY_HEIGHT - 4}" font-size="14" fill="#9e9e9e">${escapeXml(input.caption ?? '')}</text>
</svg>`;
}

/** Renders the summary as RGB pixels (deterministic for the same input and sharp/librsvg build). */
export async function renderSummary(input: SummaryRenderInput): Promise<RenderedSummary> {
  const layers: OverlayOptions[] = [];
  if (input.frame) {
    const grey = windowFrame(input.frame);
    const scaled = await sharp(Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength), { raw: { width: input.frame.columns, height: input.frame.rows, channels: 1 } })
      .resize(IMAGE_SIDE, IMAGE_SIDE, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .png()
      .toBuffer();
    layers.push({ input: scaled, left: MARGIN, top: BANNER_HEIGHT });
  }
  layers.push({ input: Buffer.from(overlaySvg(input)), left: 0, top: 0 });
  const { data, info } = await sharp({ create: { width: SUMMARY_WIDTH, height: SUMMARY_HEIGHT, channels: 3, background: { r: 16, g: 16, b: 16 } } })
    .composite(layers)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`summary render produced ${info.channels} channels, expected 3`);
  return { rgb: data, width: info.width, height: info.height };
}

/** PNG of a rendered summary (docs screenshot, CLI preview). */
export async function summaryPng(r: RenderedSummary): Promise<Buffer> {
  return sharp(r.rgb, { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer();
}
