/**
 * The chaos suite's invariants, checked against Postgres, the instance store and the PACS:
 * no ACKed instance lost, exactly one SR per idempotency key at the PACS, no study stuck.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@ldh/db';
import type { ChaosOrthanc } from './cluster.js';

export const TERMINAL_STATES = ['done', 'skipped', 'failed', 'delivery_failed'] as const;

/** One instance storescu saw ACKed. */
export interface AckedInstance {
  sopInstanceUid: string;
  /** sha256 of the file as sent (storescu may re-encode; the row's hash is of the bytes received). */
  fileSha256: string;
  studyInstanceUid: string;
}

export interface InstanceCheck {
  acked: number;
  lost: number;
  /** ACKed instances whose stored bytes equal the sent file's bytes. */
  identical: number;
  problems: string[];
}

/**
 * Every ACKed instance has its row (not marked missing) and its file in the store, whose sha256
 * is the row's.
 */
export async function checkInstances(db: Db, storageDir: string, acked: AckedInstance[]): Promise<InstanceCheck> {
  const problems: string[] = [];
  let identical = 0;
  const bySop = new Map(acked.map((a) => [a.sopInstanceUid, a]));
  const rows = await db.instance.findMany({ where: { sopInstanceUid: { in: [...bySop.keys()] } }, select: { sopInstanceUid: true, sha256: true, storageKey: true, fileMissingAt: true } });
  const rowsBySop = new Map<string, typeof rows>();
  for (const r of rows) rowsBySop.set(r.sopInstanceUid, [...(rowsBySop.get(r.sopInstanceUid) ?? []), r]);
  let lost = 0;
  for (const a of bySop.values()) {
    const candidates = (rowsBySop.get(a.sopInstanceUid) ?? []).filter((r) => r.fileMissingAt === null);
    let ok = false;
    for (const r of candidates) {
      const bytes = await readFile(path.join(storageDir, ...r.storageKey.split('/'))).catch(() => null);
      if (bytes && createHash('sha256').update(bytes).digest('hex') === r.sha256) {
        ok = true;
        if (r.sha256 === a.fileSha256) identical++;
        break;
      }
    }
    if (!ok) {
      lost++;
      problems.push(`instance ${a.sopInstanceUid} of study ${a.studyInstanceUid}: ${candidates.length === 0 ? 'no row' : 'file missing or its hash differs from the row'}`);
    }
  }
  return { acked: bySop.size, lost, identical, problems };
}

export interface SrCheck {
  /** Idempotency keys with a report. */
  keys: number;
  /** The most SR instances at the PACS for one idempotency key (1 when all is well). */
  maxSrPerKey: number;
  /** Studies in `done` whose current report is not at the PACS. */
  doneWithoutSr: number;
  problems: string[];
}

/**
 * For every report: its SR is at the PACS once (Orthanc keeps one copy per SOP Instance UID, so
 * a second copy of one SR is not a duplicate); an SR at the PACS that no report row names is a
 * duplicate of the study's key (a report built twice); a `done` study's latest report is there.
 */
export async function checkSrs(db: Db, orthanc: ChaosOrthanc, studyUids: string[]): Promise<SrCheck> {
  const problems: string[] = [];
  let keys = 0;
  let maxSrPerKey = 0;
  let doneWithoutSr = 0;
  for (const uid of studyUids) {
    const study = await db.study.findUnique({
      where: { studyInstanceUid: uid },
      select: { state: true, reports: { select: { srSopInstanceUid: true, version: true, inferenceRun: { select: { idempotencyKey: true } } }, orderBy: { version: 'asc' } } },
    });
    if (!study) continue;
    const atPacs = new Set(await orthanc.srInstances(uid));
    const reportsByKey = new Map<string, string[]>();
    for (const r of study.reports) reportsByKey.set(r.inferenceRun.idempotencyKey, [...(reportsByKey.get(r.inferenceRun.idempotencyKey) ?? []), r.srSopInstanceUid]);
    const known = new Set(study.reports.map((r) => r.srSopInstanceUid));
    const unknown = [...atPacs].filter((s) => !known.has(s));
    const latestKey = study.reports.at(-1)?.inferenceRun.idempotencyKey;
    for (const [key, srs] of reportsByKey) {
      keys++;
      // Report rows per key (one by the schema) and the unknown SRs charged to the study's latest key.
      const count = srs.filter((s) => atPacs.has(s)).length + (key === latestKey ? unknown.length : 0);
      maxSrPerKey = Math.max(maxSrPerKey, count, srs.length);
      if (srs.length > 1) problems.push(`study ${uid}: ${srs.length} report rows for one idempotency key`);
    }
    if (unknown.length > 0) problems.push(`study ${uid}: ${unknown.length} SR(s) at the PACS that no report names (${unknown.join(', ')})`);
    if (unknown.length > 0 && reportsByKey.size === 0) maxSrPerKey = Math.max(maxSrPerKey, unknown.length);
    const latest = study.reports.at(-1);
    if (study.state === 'done' && (!latest || !atPacs.has(latest.srSopInstanceUid))) {
      doneWithoutSr++;
      problems.push(`study ${uid} is done but ${latest ? `its SR ${latest.srSopInstanceUid} is not at the PACS` : 'it has no report'}`);
    }
  }
  return { keys, maxSrPerKey, doneWithoutSr, problems };
}

export interface StateCheck {
  /** Studies not in a terminal state, or terminal (not done) without a reason. */
  stuck: number;
  /** Counts per final state. */
  states: Record<string, number>;
  problems: string[];
}

export async function checkStates(db: Db, studyUids: string[]): Promise<StateCheck> {
  const rows = await db.study.findMany({ where: { studyInstanceUid: { in: studyUids } }, select: { studyInstanceUid: true, state: true, stateReason: true, failedStage: true, lastError: true } });
  const problems: string[] = [];
  const states: Record<string, number> = {};
  let stuck = 0;
  for (const uid of studyUids) if (!rows.some((r) => r.studyInstanceUid === uid)) problems.push(`study ${uid}: no row (nothing of it was ACKed)`);
  for (const r of rows) {
    states[r.state] = (states[r.state] ?? 0) + 1;
    if (!(TERMINAL_STATES as readonly string[]).includes(r.state)) {
      stuck++;
      problems.push(`study ${r.studyInstanceUid} is still ${r.state}`);
    } else if (r.state !== 'done' && !r.stateReason) {
      stuck++;
      problems.push(`study ${r.studyInstanceUid} is ${r.state} without a reason`);
    } else if (r.state !== 'done') {
      problems.push(`study ${r.studyInstanceUid} ended ${r.state} (stage ${r.failedStage ?? '?'}): ${r.stateReason}`);
    }
  }
  return { stuck, states, problems };
}

/** Poll until every listed study is terminal, or `timeoutMs` passed; returns when that happened (ms epoch) or null. */
export async function waitForTerminal(db: Db, studyUids: string[], timeoutMs: number, pollMs = 250): Promise<number | null> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const n = await db.study
      .count({ where: { studyInstanceUid: { in: studyUids }, state: { in: [...TERMINAL_STATES] } } })
      .catch(() => -1);
    if (n === studyUids.length) return Date.now();
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return null;
}
