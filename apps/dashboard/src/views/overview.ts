import type { DestinationHealth, ModelInfo, Overview } from '@ldh/ops';
import { formatDuration, html, stateBadge, table, time, uid, type Html } from '../html.js';

export interface QueueDepth {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface OverviewData {
  ov: Overview;
  queues: QueueDepth[] | { error: string };
  destinations: DestinationHealth[];
  disk: { freeBytes: number; totalBytes: number; low: boolean } | { error: string };
  models: ModelInfo[];
}

const STATES = ['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed'];

interface Alert {
  level: 'error' | 'warn';
  text: string;
  href?: string;
}

export function alertsOf(d: OverviewData): Alert[] {
  const out: Alert[] = [];
  if (d.ov.stuck.length > 0) out.push({ level: 'error', text: `${d.ov.stuck.length} stuck ${d.ov.stuck.length === 1 ? 'study' : 'studies'} (no progress in an active state)`, href: '#stuck' });
  if (d.ov.deadDeliveries > 0) out.push({ level: 'error', text: `${d.ov.deadDeliveries} dead ${d.ov.deadDeliveries === 1 ? 'delivery' : 'deliveries'}`, href: '/dead-letters' });
  if (d.ov.failedStudies > 0) out.push({ level: 'warn', text: `${d.ov.failedStudies} failed ${d.ov.failedStudies === 1 ? 'study' : 'studies'}`, href: '/dead-letters#failed' });
  for (const dest of d.destinations.filter((x) => x.down)) out.push({ level: 'error', text: `destination ${dest.name} is down: ${dest.lastError ?? 'failing'}`, href: '/destinations' });
  if ('error' in d.disk) out.push({ level: 'warn', text: `cannot read free disk space: ${d.disk.error}` });
  else if (d.disk.low) out.push({ level: 'error', text: `disk low: ${(d.disk.freeBytes / 1024 ** 3).toFixed(1)} GiB free on the storage volume` });
  if ('error' in d.queues) out.push({ level: 'error', text: `queues unavailable: ${d.queues.error}` });
  const model = d.models[0];
  if (!model) out.push({ level: 'error', text: 'model not loaded: no worker has registered a model', href: '/model' });
  else if (model.placeholder) out.push({ level: 'warn', text: `model ${model.name} ${model.version} is the untrained placeholder: its outputs are not results`, href: '/model' });
  return out;
}

export function overviewFragment(d: OverviewData): Html {
  const alerts = alertsOf(d);
  const stateRow = (s: string) => html`<tr><th scope="row">${stateBadge(s)}</th><td class="num">${d.ov.byState[s] ?? 0}</td><td class="num">${d.ov.entered24h[s] ?? 0}</td></tr>`;
  return html`
<div class="grid">
<section class="card" aria-labelledby="h-alerts"><h2 id="h-alerts">Alerts</h2>
${alerts.length === 0
  ? html`<p class="empty ok">No alerts: nothing stuck, no dead deliveries, destinations up.</p>`
  : html`<ul class="alerts">${alerts.map((a) => html`<li class="alert-${a.level}">${a.href ? html`<a href="${a.href}">${a.text}</a>` : a.text}</li>`)}</ul>`}
</section>
<section class="card" aria-labelledby="h-through"><h2 id="h-through">Throughput</h2>
<dl class="kv"><dt>Done, last hour</dt><dd>${d.ov.throughput.doneLastHour}</dd><dt>Done, last 24 h</dt><dd>${d.ov.throughput.doneLast24h}</dd><dt>Studies received, last 24 h</dt><dd>${d.ov.throughput.receivedLast24h}</dd></dl>
</section>
</div>
<div class="grid">
<section class="card" aria-labelledby="h-states"><h2 id="h-states">Studies by state</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">State</th><th scope="col" class="num">Now</th><th scope="col" class="num">Entered, 24 h</th></tr></thead><tbody>${STATES.map(stateRow)}</tbody></table></div>
</section>
<section class="card" aria-labelledby="h-queues"><h2 id="h-queues">Queues</h2>
${'error' in d.queues
  ? html`<p class="error">${d.queues.error}</p>`
  : table(['Queue', 'Waiting', 'Active', 'Delayed', 'Failed'], d.queues.map((q) => html`<tr><th scope="row">${q.queue}</th><td class="num">${q.waiting}</td><td class="num">${q.active}</td><td class="num">${q.delayed}</td><td class="num${q.failed > 0 ? ' bad' : ''}">${q.failed}</td></tr>`), 'No queues.')}
</section>
</div>
<section class="card" aria-labelledby="h-stages"><h2 id="h-stages">Stage durations, last 24 h</h2>
${table(['Stage', 'Studies', 'Median', 'p95'], d.ov.stageDurations.map((s) => html`<tr><th scope="row">${stateBadge(s.state)}</th><td class="num">${s.count}</td><td class="num">${formatDuration(s.medianMs)}</td><td class="num">${formatDuration(s.p95Ms)}</td></tr>`), 'No state changes in the last 24 hours yet.')}
</section>
<section class="card" id="stuck" aria-labelledby="h-stuck"><h2 id="h-stuck">Stuck studies</h2>
${table(['Study', 'State', 'Since'], d.ov.stuck.map((s) => html`<tr><td><a href="/studies/${encodeURIComponent(s.studyInstanceUid)}">${uid(s.studyInstanceUid)}</a></td><td>${stateBadge(s.state)}</td><td>${time(s.since)}</td></tr>`), 'No stuck studies.')}
</section>`;
}
