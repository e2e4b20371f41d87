/** The CLI's bad-input paths: a clear message naming the problem and a non-zero exit, never a stack trace. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function ldh(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  return spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
}

describe('ldh bad input', () => {
  it('names every bad environment variable and exits 2 before starting anything', () => {
    const r = ldh(['serve'], { DATABASE_URL: 'mysql://x', LDH_SCP_PORT: '70000', LDH_ALLOWED_PEERS: 'THIS_AE_TITLE_IS_TOO_LONG' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(r.stderr).toContain('LDH_SCP_PORT');
    expect(r.stderr).toContain('LDH_ALLOWED_PEERS');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
  it('rejects an unknown role, a bad port and a bad phantom spec with a message', () => {
    expect(ldh(['serve', '--role', 'scp,bogus']).stderr).toContain('unknown role(s): bogus');
    const port = ldh(['send', '.', '--port', '99999']);
    expect(port.status).not.toBe(0);
    expect(port.stderr).toContain('--port must be an integer');
    const spec = ldh(['phantom', '--out', '/tmp/ldh-never-written', '--levels', 'L9-L10:huge']);
    expect(spec.status).toBe(2);
    expect(spec.stderr).toMatch(/L9-L10/);
  });
  it('prints help for every command', () => {
    for (const cmd of ['serve', 'send', 'phantom', 'demo']) {
      const r = ldh([cmd, '--help']);
      expect(r.status, cmd).toBe(0);
      expect(r.stdout).toContain(`Usage: ldh ${cmd}`);
    }
  });
});
