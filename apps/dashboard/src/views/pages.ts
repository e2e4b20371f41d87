import type { AuditListItem, DeliveryListItem, DestinationHealth, ModelInfo, StudyListItem } from '@ldh/ops';
import { html, stateBadge, table, time, uid, type Html } from '../html.js';

/** Dead deliveries (replay / discard) and failed studies (retry), each with bulk selection for admins. */
export function deadLettersFragment(dead: DeliveryListItem[], failed: StudyListItem[], opts: { admin: boolean; csrfToken: string }): Html {
  const check = (name: string, value: string, label: string) => (opts.admin ? html`<td><input type="checkbox" name="${name}" value="${value}" aria-label="${label}"></td>` : '');
  const deadRows = dead.map(
    (d) => html`<tr data-delivery="${d.id}">${check('id', d.id, `select delivery to ${d.destination} of ${d.studyInstanceUid}`)}<td>${d.destination}${d.destinationEnabled ? '' : ' (disabled)'}</td><td><a href="/studies/${encodeURIComponent(d.studyInstanceUid)}">${uid(d.studyInstanceUid)}</a></td><td class="num">v${d.reportVersion}</td><td class="num">${d.attempts}</td><td>${d.lastError ?? ''}</td><td>${time(d.firstAttemptAt)}</td></tr>`,
  );
  const failedRows = failed.map(
    (s) => html`<tr data-uid="${s.studyInstanceUid}">${check('uid', s.studyInstanceUid, `select study ${s.studyInstanceUid}`)}<td><a href="/studies/${encodeURIComponent(s.studyInstanceUid)}">${uid(s.studyInstanceUid)}</a></td><td>${stateBadge(s.state)}</td><td>${s.stateReason ?? ''}</td><td>${time(s.updatedAt)}</td></tr>`,
  );
  const head = (cols: string[]) => (opts.admin ? ['Select', ...cols] : cols);
  return html`
<section class="card" aria-labelledby="h-dead"><h2 id="h-dead">Dead deliveries</h2>
${opts.admin && dead.length > 0
  ? html`<form method="post" action="/actions/deliveries" class="bulk">
<input type="hidden" name="_csrf" value="${opts.csrfToken}">
${table(head(['Destination', 'Study', 'Report', 'Attempts', 'Last error', 'First attempt']), deadRows, '')}
<div class="actions">
<button type="submit" name="action" value="replay">Replay selected</button>
<label for="discard-reason">Reason to discard</label><input id="discard-reason" name="reason" maxlength="500" placeholder="e.g. destination decommissioned">
<button type="submit" name="action" value="discard" class="danger">Discard selected</button>
</div>
</form>`
  : table(head(['Destination', 'Study', 'Report', 'Attempts', 'Last error', 'First attempt']), deadRows, 'No dead deliveries. A delivery lands here when a destination refuses it for good or keeps failing past the give-up time.')}
</section>
<section class="card" id="failed" aria-labelledby="h-failed"><h2 id="h-failed">Failed studies</h2>
${opts.admin && failed.length > 0
  ? html`<form method="post" action="/actions/retry" class="bulk"><input type="hidden" name="_csrf" value="${opts.csrfToken}"><input type="hidden" name="back" value="/dead-letters">
${table(head(['Study', 'State', 'Reason', 'Since']), failedRows, '')}
<div class="actions"><button type="submit">Retry selected from their failed stage</button></div></form>`
  : table(head(['Study', 'State', 'Reason', 'Since']), failedRows, 'No failed studies.')}
</section>`;
}

export function destinationsFragment(ds: DestinationHealth[]): Html {
  return table(
    ['Destination', 'Address', 'Health', 'Last success', 'Last failure', 'Pending', 'Retrying', 'Dead'],
    ds.map(
      (d) => html`<tr><th scope="row">${d.name}${d.enabled ? '' : html` <span class="muted">(disabled)</span>`}</th><td>${d.protocol === 'dicom' ? `${d.aeTitle ?? ''}@${d.host}:${d.port}` : `${d.protocol.toUpperCase()} ${d.host}:${d.port}`}${d.tls ? ' (TLS)' : ''} <span class="muted">(${d.sends.join(', ')})</span></td><td>${d.down ? html`<span class="badge bad">down</span> ${d.lastError ?? ''}` : d.lastSuccessAt ? html`<span class="badge ok">up</span>` : html`<span class="badge">no sends yet</span>`}</td><td>${time(d.lastSuccessAt)}</td><td>${time(d.lastFailureAt)}</td><td class="num">${d.pending}</td><td class="num">${d.retrying}</td><td class="num${d.dead > 0 ? ' bad' : ''}">${d.dead}</td></tr>`,
    ),
    'No destinations configured (LDH_DESTINATIONS of the writer role).',
  );
}

function cardValue(card: unknown, key: string): string | null {
  const v = (card as Record<string, unknown> | null)?.[key];
  return v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
}

export function modelFragment(models: ModelInfo[]): Html {
  const m = models[0];
  return html`<div class="notice-box" role="note"><strong>Trained on synthetic phantoms only.</strong> Research software, not a medical device: its outputs are not diagnoses and must not be used for patient care.</div>
${m
  ? html`<section class="card" aria-labelledby="h-model"><h2 id="h-model">${m.name} ${m.version}${m.placeholder ? html` <span class="badge warn">untrained placeholder</span>` : ''}</h2>
<dl class="kv"><dt>sha256</dt><dd class="uid-full">${m.sha256}</dd><dt>Registered</dt><dd>${time(m.registeredAt)}</dd><dt>Runs</dt><dd>${m.runs}</dd><dt>Last run</dt><dd>${time(m.lastRunAt)}</dd>
${['intendedUse', 'trainingData', 'provenance', 'architecture', 'threshold', 'limitations'].map((k) => (cardValue(m.card, k) ? html`<dt>${k}</dt><dd>${cardValue(m.card, k)}</dd>` : ''))}</dl>
<details><summary>Full model card</summary><pre>${JSON.stringify(m.card, null, 2)}</pre></details></section>`
  : html`<p class="empty">No model registered yet: a worker registers its model when it starts.</p>`}
${models.length > 1 ? html`<section class="card" aria-labelledby="h-older"><h2 id="h-older">Earlier versions</h2>${table(['Name', 'Version', 'sha256', 'Registered', 'Runs'], models.slice(1).map((o) => html`<tr><td>${o.name}</td><td>${o.version}</td><td>${o.sha256.slice(0, 16)}</td><td>${time(o.registeredAt)}</td><td class="num">${o.runs}</td></tr>`), '')}</section>` : ''}`;
}

export function auditFragment(items: AuditListItem[], q: { actor?: string; action?: string }, nextBefore: string | null): Html {
  const params = (before: string) => new URLSearchParams({ ...(q.actor ? { actor: q.actor } : {}), ...(q.action ? { action: q.action } : {}), before }).toString();
  return html`<form class="filters" method="get" action="/audit" role="search">
<div><label for="a-actor">Actor</label><input id="a-actor" name="actor" value="${q.actor ?? ''}"></div>
<div><label for="a-action">Action</label><input id="a-action" name="action" value="${q.action ?? ''}" placeholder="e.g. delivery."></div>
<div><button type="submit">Filter</button></div></form>
${table(['#', 'When', 'Actor', 'Action', 'Entity', 'Study', 'Details'], items.map((e) => html`<tr><td class="num">${e.id}</td><td>${time(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.entityType}</td><td>${e.studyInstanceUid ? html`<a href="/studies/${encodeURIComponent(e.studyInstanceUid)}">${uid(e.studyInstanceUid)}</a>` : ''}</td><td><code class="details">${JSON.stringify(e.details)}</code></td></tr>`), 'No audit events match.')}
${nextBefore ? html`<p><a href="/audit?${params(nextBefore)}" rel="next">Older events</a></p>` : ''}`;
}
