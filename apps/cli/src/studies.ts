/**
 * `ldh studies show <StudyInstanceUID>`: a study's state, reason and routing decision — every
 * series with its plane, weighting, role, score and why — from the database (DATABASE_URL).
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { envFields, parseEnv } from '@ldh/config';
import { createDb, getStudyWithRouting, type StudyState, type StudyWithRouting } from '@ldh/db';
import { listStudySummaries, type StudyListItem } from '@ldh/ops';

const STUDY_STATES = ['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed'] as const satisfies readonly StudyState[];

/** Thrown when the study is not in the database (exit code 1, a one-line message). */
export class StudyNotFoundError extends Error {
  constructor(studyInstanceUid: string) {
    super(`no study ${studyInstanceUid} in the database`);
    this.name = 'StudyNotFoundError';
  }
}

const dbEnvSchema = z.object({ DATABASE_URL: envFields.databaseUrl });

function pad(s: string, n: number): string {
  return s.length >= n ? `${s.slice(0, n - 1)}… ` : s.padEnd(n + 1);
}

/** The human-readable view: study header, then one block per series with its reasons. */
export function formatStudyShow(view: StudyWithRouting): string {
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

/** Look a study up and render it (text or JSON); the database connection is closed afterwards. */
export async function showStudy(databaseUrl: string, studyInstanceUid: string, opts: { json: boolean }): Promise<string> {
  const db = createDb(databaseUrl);
  try {
    const view = await getStudyWithRouting(db, studyInstanceUid);
    if (!view) throw new StudyNotFoundError(studyInstanceUid);
    return opts.json ? `${JSON.stringify(view, null, 2)}\n` : formatStudyShow(view);
  } finally {
    await db.$disconnect();
  }
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
    .description("a study's state, reason and routing decision: each series with its role, score and why")
    .argument('<studyInstanceUid>', 'the StudyInstanceUID')
    .option('--json', 'print the study and its decision as JSON', false)
    .action(async (uid: string, opts: { json: boolean }) => {
      const { DATABASE_URL } = parseEnv(dbEnvSchema, env);
      process.stdout.write(await showStudy(DATABASE_URL, uid, opts));
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
