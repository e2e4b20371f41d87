/**
 * `ldh studies show <StudyInstanceUID>`: the full view of a study from the database
 * (DATABASE_URL), built by `studyDetail` of @ldh/ops: state and reason, the failed stage, the
 * timeline from the audit trail (each state, when, how long, who), the routing decision (every
 * series with its plane, weighting, role, score and why), inference runs, reports, deliveries.
 * `ldh studies retry <uid>`: retry a failed study from its failed stage (`retryStudy`, audited).
 * `ldh studies list`: studies with their state. No PHI is printed: UIDs, states, reasons.
 */
import { Command, Option } from 'commander';
import { parseEnv } from '@ldh/config';
import { createDb, type StudyState, type StudyWithRouting } from '@ldh/db';
import { listStudySummaries, retryStudy, studyDetail, StudyNotFoundError, type RetryResult, type StudyDetail, type StudyListItem } from '@ldh/ops';
import { defaultOperator } from './deliveries.js';
import { dbEnvSchema } from './with-db.js';

export { StudyNotFoundError };

const STUDY_STATES = ['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed'] as const satisfies readonly StudyState[];


function pad(s: string, n: number): string {
  return s.length >= n ? `${s.slice(0, n - 1)}… ` : s.padEnd(n + 1);
}

/** A duration for people: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

/** The human-readable routing view: study header, then one block per series with its reasons. */
export function formatStudyShow(view: Omit<StudyWithRouting, 'id'>): string {
  const lines = [
    `Study ${view.studyInstanceUid}`,
    `  state     ${view.state} (revision ${view.revision})`,
    `  reason    ${view.stateReason ?? '-'}`,
    `  instances ${view.instanceCount}, first ${view.firstInstanceAt.toISOString()}, last ${view.lastInstanceAt.toISOString()}${view.settledAt ? `, settled ${view.settledAt.toISOString()}` : ''}`,
  ];
  const r = view.routing;
  if (!r) {
    lines.push('', 'Routing: not routed yet');
    return `${lines.join('\n')}\n`;
  }
  const d = r.decision;
  lines.push('', `Routing (revision ${r.revision}, ${r.verdict}, ${r.createdAt.toISOString()})`);
  if (d.anatomy) lines.push(`  anatomy   ${d.anatomy.lumbar === true ? 'lumbar' : d.anatomy.lumbar === false ? 'not lumbar' : 'unknown'} by ${d.anatomy.source}: ${d.anatomy.detail}`);
  lines.push(`  roles     ${(['t1_sag', 't2_sag', 't2_ax'] as const).map((role) => `${role}=${d.roles[role] ? `series ${d.series.find((s) => s.seriesInstanceUid === d.roles[role])?.seriesNumber ?? '?'}` : '-'}`).join('  ')}`);
  lines.push('', `  ${pad('#', 4)}${pad('description', 24)}${pad('plane', 9)}${pad('weighting', 10)}${pad('role', 7)}${pad('score', 6)}verdict`);
  for (const s of d.series) {
    const chosen = s.accepted ? 'accepted' : 'rejected';
    lines.push(`  ${pad(String(s.seriesNumber ?? '?'), 4)}${pad(s.description ?? '(none)', 24)}${pad(s.plane, 9)}${pad(s.weighting, 10)}${pad(s.role ?? '-', 7)}${pad(String(s.score), 6)}${chosen}`);
    lines.push(`       ${s.seriesInstanceUid}`);
    for (const why of s.reasons) lines.push(`       - ${why}`);
  }
  for (const f of d.headerFailures ?? []) lines.push(`  ${pad(String(f.seriesNumber ?? '?'), 4)}header unreadable: ${f.seriesInstanceUid}: ${f.error}`);
  return `${lines.join('\n')}\n`;
}

/** The full text view: the routing view, then failure, timeline, runs, reports and deliveries. */
export function formatStudyDetail(view: StudyDetail): string {
  const lines = formatStudyShow(view).trimEnd().split('\n');
  // The failed stage and last error go in the header, after the reason.
  if (view.failedStage || view.lastError) lines.splice(3, 0, `  failed    at ${view.failedStage ?? '?'}: ${view.lastError ?? '-'}`);
  const out = [lines.join('\n')];
  out.push(
    ['Timeline', ...view.timeline.map((t) => `  ${pad(t.state, 15)}${t.enteredAt}  ${pad(formatDuration(t.durationMs) + (t.current ? ' so far' : ''), 18)}by ${t.actor}${t.reason ? ` — ${t.reason}` : ''}`)].join('\n'),
  );
  out.push(
    [
      'Inference runs',
      ...(view.inferenceRuns.length === 0 ? ['  none'] : []),
      ...view.inferenceRuns.flatMap((r) => [
        `  ${r.id}  ${r.state}  ${r.model.name} ${r.model.version}${r.model.placeholder ? ' (placeholder)' : ''}  provider ${r.provider ?? '-'}  attempts ${r.attempts}`,
        `    score ${r.score ?? '-'}  decision ${r.decision ?? '-'}${r.threshold !== null ? ` (threshold ${r.threshold})` : ''}  started ${r.startedAt ?? '-'}  finished ${r.finishedAt ?? '-'}${r.state === 'running' ? `  lease ${r.owner ?? '-'} until ${r.leaseExpiresAt ?? '-'}` : ''}`,
        ...(r.error ? [`    error: ${r.error}`] : []),
      ]),
    ].join('\n'),
  );
  out.push(
    ['Reports', ...(view.reports.length === 0 ? ['  none'] : []), ...view.reports.map((r) => `  v${r.version}  SR ${r.srSopInstanceUid}  KOS ${r.kosSopInstanceUid ?? '-'}  ${r.createdAt}`)].join('\n'),
  );
  out.push(
    [
      'Deliveries',
      ...(view.deliveries.length === 0 ? ['  none'] : []),
      ...view.deliveries.flatMap((d) => [
        `  ${d.id}  ${pad(d.state, 9)}${d.destination}${d.destinationEnabled ? '' : ' (disabled)'}  report v${d.reportVersion}  attempts ${d.attempts}${d.deliveredAt ? `  delivered ${d.deliveredAt}` : ''}${d.nextAttemptAt ? `  next ${d.nextAttemptAt}` : ''}`,
        ...(d.lastError ? [`    last error: ${d.lastError}${d.lastStatus !== null ? ` (status 0x${d.lastStatus.toString(16).toUpperCase().padStart(4, '0')})` : ''}`] : []),
      ]),
    ].join('\n'),
  );
  return `${out.join('\n\n')}\n`;
}

/** Look a study up and render it (text or JSON); the database connection is closed afterwards. */
export async function showStudy(databaseUrl: string, studyInstanceUid: string, opts: { json: boolean }): Promise<string> {
  const db = createDb(databaseUrl);
  try {
    const view = await studyDetail(db, studyInstanceUid);
    if (!view) throw new StudyNotFoundError(studyInstanceUid);
    return opts.json ? `${JSON.stringify(view, null, 2)}\n` : formatStudyDetail(view);
  } finally {
    await db.$disconnect();
  }
}

/** One or two lines saying what a retry did. */
export function formatRetry(r: RetryResult): string {
  if (r.stage === 'delivery') return `study ${r.studyInstanceUid}: ${r.from} → ${r.to}; replayed ${r.replayed?.length ?? 0} dead deliver${r.replayed?.length === 1 ? 'y' : 'ies'} (${(r.replayed ?? []).map((d) => d.destination).join(', ')})\n`;
  return `study ${r.studyInstanceUid}: ${r.from} → ${r.to}; ${r.stage} job ${r.intent?.jobId ?? '?'} pending (a running \`ldh serve\` dispatches it)\n`;
}

/** One line per study (state, instances, deliveries of its latest report), then its reason. */
export function formatStudyList(items: StudyListItem[]): string {
  if (items.length === 0) return 'no studies\n';
  const lines = items.map((s) => {
    const deliveries = Object.entries(s.deliveries).map(([k, n]) => `${k} ${n}`).join(', ');
    return [`${s.studyInstanceUid}  ${s.state}  ${s.instanceCount} instances${deliveries ? `  deliveries: ${deliveries}` : ''}  updated ${s.updatedAt}`, ...(s.stateReason ? [`    ${s.stateReason}`] : [])].join('\n');
  });
  return `${lines.join('\n')}\n`;
}

/** `ldh studies ...` commands. */
export function studiesCommand(env: Record<string, string | undefined>): Command {
  const studies = new Command('studies').description('look at studies in the database (needs DATABASE_URL)');
  studies
    .command('show')
    .description("a study's state and reason, timeline (from the audit trail, with durations), routing decision, inference runs, reports and deliveries")
    .argument('<studyInstanceUid>', 'the StudyInstanceUID')
    .option('--json', 'print the full view as JSON', false)
    .action(async (uid: string, opts: { json: boolean }) => {
      const { DATABASE_URL } = parseEnv(dbEnvSchema, env);
      process.stdout.write(await showStudy(DATABASE_URL, uid, opts));
    });
  studies
    .command('retry')
    .description('retry a failed study from the stage that failed (route, inference, report), or replay the dead deliveries of a delivery_failed one; audited with the operator')
    .argument('<studyInstanceUid>', 'the StudyInstanceUID')
    .option('--operator <name>', 'who retries (audited)', defaultOperator())
    .option('--json', 'print the result as JSON', false)
    .action(async (uid: string, opts: { operator: string; json: boolean }) => {
      const { DATABASE_URL } = parseEnv(dbEnvSchema, env);
      const db = createDb(DATABASE_URL);
      try {
        const r = await retryStudy(db, uid, opts.operator);
        process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatRetry(r));
      } finally {
        await db.$disconnect();
      }
    });
  studies
    .command('list')
    .description('studies, most recently changed first, with their state, reason and deliveries')
    .addOption(new Option('--state <state>', 'only this state').choices(STUDY_STATES))
    .option('--limit <n>', 'at most n studies', (v) => Math.max(1, Math.floor(Number(v)) || 100), 100)
    .option('--json', 'print JSON', false)
    .action(async (opts: { state?: StudyState; limit: number; json: boolean }) => {
      const { DATABASE_URL } = parseEnv(dbEnvSchema, env);
      const db = createDb(DATABASE_URL);
      try {
        const items = await listStudySummaries(db, { ...(opts.state ? { state: opts.state } : {}), limit: opts.limit });
        process.stdout.write(opts.json ? `${JSON.stringify(items, null, 2)}\n` : formatStudyList(items));
      } finally {
        await db.$disconnect();
      }
    });
  return studies;
}
