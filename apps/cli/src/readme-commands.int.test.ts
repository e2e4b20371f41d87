/**
 * The README's commands, as a newcomer types them (issue 15 item 2): every `npx ldh` / `npm run
 * ldh` / `ldh` line of its shell blocks, run LITERALLY through `sh -c` from a folder inside the
 * repository (so `npx ldh` is the linked bin of the root's dependency on @ldh/cli, never a
 * registry download), against a scratch Postgres database and a private queue prefix. Each
 * subcommand's --help is run too. Lines that would need a peer or change data are listed with
 * their reason (SKIPPED below); a README line no rule covers fails the test, so a new command in
 * the README must be classified here. Needs `npm run build` and `npm ci` (the bin link) first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabaseOf } from '@ldh/db';
import { freePort } from './services.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Lines not run, and why (each must still appear in the README: a stale entry fails). */
const SKIPPED: Record<string, string> = {
  'npx ldh send ./study --host 127.0.0.1 --port 11112 --aet MODALITY --called-aet LDH_TRIAGE':
    'needs an SCP on the fixed port 11112 (shared machine) with MODALITY allowed; `ldh send` is covered by serve.int.test.ts and chaos',
  'npx ldh train --data ./phantoms --run-dir ./runs/a': 'trains for minutes (training/ has its own smoke tests); its --help is run',
  'npx ldh studies retry 1.2.840.113619.2.55.3.1234 --operator jdoe': 'changes a study (destructive); its --help is run; retry is covered by packages/ops retry.int.test.ts',
};
/** Long-running lines: started, awaited until "ldh serving", then SIGTERM must stop them cleanly. */
const SERVING = /^npx ldh serve\b/;
/** Lines whose literal example argument does not exist in a fresh database: exit 1 with this message. */
const EXPECTED_FAILURE: Record<string, RegExp> = {
  'npx ldh studies show 1.2.840.113619.2.55.3.1234': /not found|no study/i,
};

function readmeCommands(): string[] {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => /^(npx ldh|npm run ldh|ldh)(\s|$)/.test(l));
}

let cwd: string;
let env: Record<string, string>;
const databaseUrl = new URL(`/ldh_readme_${randomBytes(4).toString('hex')}`, adminUrl).toString();

beforeAll(async () => {
  if (!existsSync(path.join(repo, 'node_modules', '.bin', 'ldh'))) throw new Error('node_modules/.bin/ldh is missing: run npm ci (the root depends on @ldh/cli)');
  // Inside the repository (so npx resolves the project's bin) but in a git-ignored folder.
  mkdirSync(path.join(repo, '.ldh'), { recursive: true });
  cwd = mkdtempSync(path.join(repo, '.ldh', 'readme-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? cwd,
    // The README's `export` line points at a placeholder host; these are the test's servers.
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    LDH_QUEUE_PREFIX: `ldh-readme-${process.pid}`,
    LDH_STORAGE_DIR: path.join(cwd, 'storage'),
    LDH_SCP_HOST: '127.0.0.1',
    LDH_SCP_PORT: String(await freePort()),
    LDH_ALLOWED_PEERS: 'PACS_AE@10.0.0.5',
    LDH_DESTINATIONS: 'pacs=PACS_AE@10.0.0.5:104',
    LDH_MIN_FREE_BYTES: '0',
    // Plain `ldh serve` includes the dashboard: its secret, and free ports for it and /metrics.
    LDH_DASHBOARD_SECRET: randomBytes(24).toString('hex'),
    LDH_DASHBOARD_PORT: String(await freePort()),
    LDH_HTTP_PORT: '0',
    npm_config_yes: 'false', // never let npx offer to download a package
  };
});

afterAll(async () => {
  await dropDatabaseOf(databaseUrl);
  rmSync(cwd, { recursive: true, force: true });
});

function run(line: string): { status: number | null; out: string } {
  // stdin is a pipe holding one line: the password `ldh users add` reads when stdin is not a terminal.
  const r = spawnSync('sh', ['-c', line], { cwd, env, encoding: 'utf8', timeout: 180_000, input: 'readme-test-password-0123\n' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function runServing(line: string): Promise<{ out: string; code: number | null }> {
  const child = spawn('sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': sh and npx end at once on SIGTERM, ldh (holding the pipes) after its shutdown.
  const exited = new Promise<number | null>((res) => child.once('close', res));
  const until = Date.now() + 150_000;
  while (!out.includes('ldh serving') && child.exitCode === null && Date.now() < until) await new Promise((res) => setTimeout(res, 200));
  const serving = out.includes('ldh serving');
  // The whole group (sh, npx, node) gets SIGTERM, as from a terminal's Ctrl-C or a supervisor.
  try {
    process.kill(-child.pid!, serving ? 'SIGTERM' : 'SIGKILL');
  } catch {
    /* already gone */
  }
  const code = await exited;
  if (!serving) throw new Error(`"${line}" did not reach "ldh serving":\n${out}`);
  return { out, code };
}

describe('the README, literally', () => {
  it('every ldh line is run or skipped with a reason', async () => {
    const lines = readmeCommands();
    expect(lines.length).toBeGreaterThan(5);
    for (const skipped of Object.keys(SKIPPED)) expect(lines, `stale SKIPPED entry: ${skipped}`).toContain(skipped);
    const ran: string[] = [];
    // serve --migrate first: it creates and migrates the database the later lines read.
    const ordered = [...lines.filter((l) => /--migrate/.test(l)), ...lines.filter((l) => !/--migrate/.test(l))];
    for (const line of ordered) {
      if (SKIPPED[line]) continue;
      if (SERVING.test(line)) {
        const { out } = await runServing(line);
        expect(out, line).toContain('stopped cleanly');
      } else if (EXPECTED_FAILURE[line]) {
        const r = run(line);
        expect(r.status, `${line}\n${r.out}`).toBe(1);
        expect(r.out, line).toMatch(EXPECTED_FAILURE[line]!);
      } else {
        const r = run(line);
        expect(r.status, `${line}\n${r.out}`).toBe(0);
      }
      ran.push(line);
    }
    expect(ran.length).toBeGreaterThanOrEqual(4);
    process.stdout.write(`README lines run: ${ran.length}; skipped: ${Object.entries(SKIPPED).map(([l, why]) => `\n  ${l} — ${why}`).join('')}\n`);
  }, 900_000);

  it('--help works for every subcommand the README uses', () => {
    const subs = new Set(readmeCommands().map((l) => l.replace(/^(npx ldh|npm run ldh --|npm run ldh|ldh)\s*/, '').split(/\s+/).filter((w) => /^[a-z]+$/.test(w)).slice(0, 2).join(' ')));
    for (const sub of subs) {
      // "studies show" is a command and its subcommand; "phantom out" would not be: keep known words only.
      const words = sub.split(' ');
      const cmd = ['studies', 'deliveries'].includes(words[0]!) ? words.join(' ') : words[0]!;
      const r = run(`npx ldh ${cmd} --help`);
      expect(r.status, `${cmd}\n${r.out}`).toBe(0);
      // train passes its arguments through to training.train, whose help is argparse's.
      expect(r.out).toMatch(cmd === 'train' ? /usage: .*train/i : new RegExp(`Usage: ldh ${cmd}`));
    }
  });
});
