/**
 * Tiny HTML templating: tagged template literals that escape every interpolated value unless it
 * is already `Html` (built by `html` itself or `raw`). No template engine to learn or configure.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

/** Trusted markup (never user or DICOM input). */
export function raw(s: string): Html {
  return new Html(s);
}

/** "1.2 s", "340 ms", "3 min 5 s", "2 h 4 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** ISO time as "2026-12-07 10:04:05Z" in a <time> element. */
export function time(iso: string | Date | null | undefined): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  const s = typeof iso === 'string' ? iso : iso.toISOString();
  return html`<time datetime="${s}">${s.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

/** A short, stable display form of a long UID: its tail, with the full value in the title. */
export function uid(v: string): Html {
  return html`<span class="uid" title="${v}">${v.length > 28 ? `…${v.slice(-26)}` : v}</span>`;
}

export function stateBadge(state: string): Html {
  return html`<span class="badge state-${state}">${state.replace('_', ' ')}</span>`;
}

/** A table, or the empty-state message when there are no rows. */
export function table(head: string[], rows: Html[], empty: string, caption?: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap"><table>${caption ? html`<caption>${caption}</caption>` : ''}<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}
