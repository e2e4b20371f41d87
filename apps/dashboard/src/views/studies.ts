import type { StudyDetail, StudyListItem } from '@ldh/ops';
import { formatDuration, html, stateBadge, table, time, uid, type Html } from '../html.js';

export const STUDY_STATES = ['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed'] as const;

export interface StudyQuery {
  state?: string;
  from?: string;
  to?: string;
  priority?: string;
  q?: string;
}

export function studyFilterForm(q: StudyQuery): Html {
  return html`<form class="filters" method="get" action="/studies" role="search">
<div><label for="f-q">Accession or UID</label><input id="f-q" name="q" value="${q.q ?? ''}" inputmode="search"></div>
<div><label for="f-state">State</label><select id="f-state" name="state"><option value="">any</option>${STUDY_STATES.map((s) => html`<option value="${s}"${q.state === s ? html` selected` : ''}>${s}</option>`)}</select></div>
<div><label for="f-from">Received from</label><input id="f-from" name="from" type="date" value="${q.from ?? ''}"></div>
<div><label for="f-to">to</label><input id="f-to" name="to" type="date" value="${q.to ?? ''}"></div>
<div><label for="f-prio">Priority</label><select id="f-prio" name="priority"><option value="">any</option>${[['0', 'routine (0)'], ['1', 'routine (1)'], ['10', 'STAT']].map(([v, l]) => html`<option value="${v}"${q.priority === v ? html` selected` : ''}>${l}</option>`)}</select></div>
<div><button type="submit">Filter</button></div>
</form>`;
}

export function studiesFragment(items: StudyListItem[]): Html {
  return table(
    ['Study', 'Accession', 'State', 'Priority', 'Instances', 'Deliveries', 'Last instance', 'Updated'],
    items.map(
      (s) => html`<tr data-uid="${s.studyInstanceUid}"><td><a href="/studies/${encodeURIComponent(s.studyInstanceUid)}">${uid(s.studyInstanceUid)}</a></td><td>${s.accessionNumber ?? html`<span class="muted">–</span>`}</td><td>${stateBadge(s.state)}${s.stateReason ? html`<div class="reason">${s.stateReason}</div>` : ''}</td><td class="num">${s.priority}</td><td class="num">${s.instanceCount}</td><td>${Object.entries(s.deliveries).map(([k, n]) => html`<span class="badge dstate-${k}">${n} ${k}</span> `)}</td><td>${time(s.lastInstanceAt)}</td><td>${time(s.updatedAt)}</td></tr>`,
    ),
    'No studies match. Studies appear here as soon as their first instance is received.',
  );
}

export interface PatientHeader {
  patientName?: string;
  patientId?: string;
}

interface SeriesVerdict {
  seriesInstanceUid: string;
  seriesNumber?: number | null;
  role?: string | null;
  score?: number | null;
  accepted?: boolean;
  reasons?: string[];
}

/** A study's page body: identity, timeline, routing, inference, reports, deliveries. */
export function studyFragment(d: StudyDetail, opts: { admin: boolean; patient: PatientHeader | null; csrfToken: string }): Html {
  const routing = d.routing;
  const verdicts = ((routing?.decision as { series?: SeriesVerdict[] } | undefined)?.series ?? []) as SeriesVerdict[];
  const roles = (routing?.decision as { roles?: Record<string, string> } | undefined)?.roles ?? {};
  const chosen = new Map(Object.entries(roles).map(([role, s]) => [s, role]));
  return html`
<section class="card" aria-labelledby="h-id"><h2 id="h-id">Study</h2>
<dl class="kv">
<dt>State</dt><dd>${stateBadge(d.state)} ${d.stateReason ? html`<span class="reason">${d.stateReason}</span>` : ''}</dd>
<dt>StudyInstanceUID</dt><dd class="uid-full">${d.studyInstanceUid}</dd>
<dt>Accession</dt><dd>${d.accessionNumber ?? '–'}</dd>
<dt>Patient (hash)</dt><dd class="uid-full">${d.patientIdHash ? d.patientIdHash.slice(0, 16) : '–'}</dd>
${opts.admin && opts.patient ? html`<dt>Patient name</dt><dd class="phi">${opts.patient.patientName ?? '–'}</dd><dt>Patient ID</dt><dd class="phi">${opts.patient.patientId ?? '–'}</dd>` : ''}
<dt>Priority</dt><dd>${d.priority}</dd><dt>Instances</dt><dd>${d.instanceCount}</dd><dt>Revision</dt><dd>${d.revision}</dd>
${d.failedStage ? html`<dt>Failed stage</dt><dd>${d.failedStage}: ${d.lastError ?? ''}</dd>` : ''}
</dl>
${opts.admin && (d.state === 'failed' || d.state === 'delivery_failed')
  ? html`<form method="post" action="/actions/retry"><input type="hidden" name="_csrf" value="${opts.csrfToken}"><input type="hidden" name="uid" value="${d.studyInstanceUid}"><input type="hidden" name="back" value="/studies/${encodeURIComponent(d.studyInstanceUid)}"><button type="submit">Retry from ${d.failedStage ?? 'the failed stage'}</button></form>`
  : ''}
</section>
<section class="card" aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2>
${table(['State', 'Entered', 'Duration', 'By', 'Reason'], d.timeline.map((t) => html`<tr${t.current ? html` class="current"` : ''}><td>${stateBadge(t.state)}${t.current ? html` <span class="muted">(now)</span>` : ''}</td><td>${time(t.enteredAt)}</td><td class="num">${formatDuration(t.durationMs)}</td><td>${t.actor}</td><td>${t.reason ?? ''}</td></tr>`), 'No state changes recorded yet.')}
</section>
<section class="card" aria-labelledby="h-routing"><h2 id="h-routing">Routing decision</h2>
${routing ? html`<p>Verdict <strong>${routing.verdict}</strong> (revision ${routing.revision})${routing.reason ? html`: ${routing.reason}` : ''}</p>` : ''}
${table(['Series', 'No.', 'Description', 'Role', 'Score', 'Chosen', 'Why'], d.series.map((s) => {
  const v = verdicts.find((x) => x.seriesInstanceUid === s.seriesInstanceUid);
  return html`<tr><td>${uid(s.seriesInstanceUid)}</td><td class="num">${s.seriesNumber ?? ''}</td><td>${s.seriesDescription ?? ''}</td><td>${s.role ?? v?.role ?? ''}</td><td class="num">${v?.score ?? ''}</td><td>${chosen.has(s.seriesInstanceUid) ? html`<strong>${chosen.get(s.seriesInstanceUid)}</strong>` : 'no'}</td><td>${(v?.reasons ?? []).join('; ')}</td></tr>`;
}), routing ? 'No series.' : 'Not routed yet.')}
</section>
<section class="card" aria-labelledby="h-runs"><h2 id="h-runs">Inference runs</h2>
${d.inferenceRuns.length === 0 ? html`<p class="empty">No inference run yet.</p>` : d.inferenceRuns.map((r) => {
  const perImage = Array.isArray(r.perImage) ? (r.perImage as Array<{ sopInstanceUid?: string; role?: string; probability?: number }>) : [];
  return html`<article class="run"><h3>${r.model.name} ${r.model.version}${r.model.placeholder ? html` <span class="badge warn">placeholder</span>` : ''}</h3>
<dl class="kv"><dt>State</dt><dd>${r.state}</dd><dt>Provider</dt><dd>${r.provider ?? '–'}</dd><dt>Score</dt><dd>${r.score === null ? '–' : r.score.toFixed(3)}</dd><dt>Decision</dt><dd>${r.decision ?? '–'} ${r.threshold !== null ? html`<span class="muted">(threshold ${r.threshold})</span>` : ''}</dd><dt>Attempts</dt><dd>${r.attempts}</dd><dt>Finished</dt><dd>${time(r.finishedAt)}</dd>${r.error ? html`<dt>Error</dt><dd class="bad">${r.error}</dd>` : ''}</dl>
<details><summary>Per-image scores (${perImage.length})</summary>${table(['SOP Instance UID', 'Role', 'Probability'], perImage.map((p) => html`<tr><td>${uid(p.sopInstanceUid ?? '')}</td><td>${p.role ?? ''}</td><td class="num">${typeof p.probability === 'number' ? p.probability.toFixed(3) : ''}</td></tr>`), 'No per-image scores.')}</details>
</article>`;
})}
</section>
<section class="card" aria-labelledby="h-reports"><h2 id="h-reports">SR and KOS</h2>
${table(['Version', 'SR SOP Instance UID', 'KOS SOP Instance UID', 'Written', 'Download'], d.reports.map((r) => html`<tr><td class="num">${r.version}</td><td>${uid(r.srSopInstanceUid)}</td><td>${r.kosSopInstanceUid ? uid(r.kosSopInstanceUid) : '–'}</td><td>${time(r.createdAt)}</td><td>${opts.admin ? html`<a href="/studies/${encodeURIComponent(d.studyInstanceUid)}/reports/${r.version}/sr.dcm" download>SR</a>${r.kosSopInstanceUid ? html` · <a href="/studies/${encodeURIComponent(d.studyInstanceUid)}/reports/${r.version}/kos.dcm" download>KOS</a>` : ''}` : html`<span class="muted">admins only (holds patient data)</span>`}</td></tr>`), 'No report written yet.')}
</section>
<section class="card" aria-labelledby="h-deliveries"><h2 id="h-deliveries">Deliveries</h2>
${table(['Destination', 'Report', 'State', 'Attempts', 'Next attempt', 'Delivered', 'Last error'], d.deliveries.map((x) => html`<tr><td>${x.destination}${x.destinationEnabled ? '' : ' (disabled)'}</td><td class="num">v${x.reportVersion}</td><td><span class="badge dstate-${x.state}">${x.state}</span>${x.discardedAt ? html` <span class="muted">discarded by ${x.discardedBy}: ${x.discardReason}</span>` : ''}</td><td class="num">${x.attempts}</td><td>${time(x.nextAttemptAt)}</td><td>${time(x.deliveredAt)}</td><td>${x.lastError ?? ''}${x.lastStatus !== null ? ` (status 0x${x.lastStatus.toString(16).padStart(4, '0')})` : ''}</td></tr>`), 'No deliveries yet.')}
</section>`;
}
