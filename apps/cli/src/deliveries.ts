/**
 * `ldh deliveries list [--state S] [--destination NAME] [--kind K] [--json]` and
 * `ldh deliveries replay <id...> | --all-dead [--destination NAME] [--operator NAME]`: the
 * delivery outbox from the database (DATABASE_URL), over the @ldh/ops service API.
 */
import os from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type DeliveryKind, type DeliveryState, type ReplayResult } from '@ldh/db';
import { DELIVERY_KINDS, DELIVERY_STATES, listDeliveries, replay, type DeliveryListItem } from '@ldh/ops';
import { withDb } from './with-db.js';

/** The OS user running the command: the default operator of audited actions. */
export function defaultOperator(): string {
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function formatDeliveries(items: DeliveryListItem[]): string {
  if (items.length === 0) return 'no deliveries\n';
  const lines = items.map((d) => {
    const when = d.state === 'delivered' ? `delivered ${d.deliveredAt}` : d.nextAttemptAt ? `next ${d.nextAttemptAt}` : '';
    const dest = `${d.destination}${d.destinationEnabled ? '' : ' (disabled)'}`;
    return [`${d.id}  ${d.state.padEnd(9)} ${d.kind.padEnd(5)} ${dest}  attempts ${d.attempts}  ${when}`.trimEnd(), `    study ${d.studyInstanceUid} (${d.studyState}), report v${d.reportVersion}`, ...(d.lastError ? [`    last error: ${d.lastError}`] : [])].join('\n');
  });
  return `${lines.join('\n')}\n`;
}

export function formatReplay(r: ReplayResult): string {
  const lines = [`replayed ${r.replayed.length}`, ...r.replayed.map((d) => `  ${d.id}  ${d.kind.padEnd(5)} ${d.destination}  study ${d.studyInstanceUid}`)];
  if (r.skipped.length > 0) lines.push(`skipped ${r.skipped.length}`, ...r.skipped.map((s) => `  ${s.id}: ${s.reason}`));
  return `${lines.join('\n')}\n`;
}

function positive(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** `ldh deliveries ...` commands. */
export function deliveriesCommand(env: Record<string, string | undefined>): Command {
  const cmd = new Command('deliveries').description('the delivery outbox: list deliveries, replay dead ones (needs DATABASE_URL)');
  cmd
    .command('list')
    .description('deliveries, newest first')
    .addOption(new Option('--state <state>', 'only this state').choices(DELIVERY_STATES))
    .option('--destination <name>', 'only this destination')
    .addOption(new Option('--kind <kind>', 'only this kind (dicom = SR/KOS, sc, hl7, fhir)').choices(DELIVERY_KINDS))
    .option('--limit <n>', 'at most n rows', positive('--limit'), 100)
    .option('--json', 'print JSON', false)
    .action(async (opts: { state?: DeliveryState; destination?: string; kind?: DeliveryKind; limit: number; json: boolean }) => {
      const items = await withDb(env, (db) => listDeliveries(db, { ...(opts.state ? { state: opts.state } : {}), ...(opts.kind ? { kind: opts.kind } : {}), ...(opts.destination ? { destination: opts.destination } : {}), limit: opts.limit }));
      process.stdout.write(opts.json ? `${JSON.stringify(items, null, 2)}\n` : formatDeliveries(items));
    });
  cmd
    .command('replay')
    .description('send dead deliveries again: back to pending now, attempts reset (history kept in the audit trail)')
    .argument('[ids...]', 'delivery ids (from "ldh deliveries list --state dead")')
    .option('--all-dead', 'every dead delivery', false)
    .option('--destination <name>', 'with --all-dead: only this destination')
    .option('--operator <name>', 'who replays (audited)', defaultOperator())
    .option('--json', 'print JSON', false)
    .action(async (ids: string[], opts: { allDead: boolean; destination?: string; operator: string; json: boolean }) => {
      if (opts.allDead === ids.length > 0) throw new InvalidArgumentError('give delivery ids or --all-dead (not both)');
      if (opts.destination && !opts.allDead) throw new InvalidArgumentError('--destination goes with --all-dead');
      const r = await withDb(env, (db) => replay(db, opts.allDead ? { allDead: true, ...(opts.destination ? { destination: opts.destination } : {}) } : { ids }, opts.operator));
      process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatReplay(r));
      if (r.replayed.length === 0 && r.skipped.length > 0) process.exitCode = 1;
    });
  return cmd;
}
