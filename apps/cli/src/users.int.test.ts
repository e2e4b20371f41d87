/**
 * `ldh users add|list|disable` as a user runs them (the built CLI, DATABASE_URL in the
 * environment): the password comes from stdin, never an argument; it is stored as argon2id.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;

function ldh(args: string[], input = '') {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  return spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: scratch.url }, input, encoding: 'utf8', timeout: 30_000 });
}

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
});

afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

describe('ldh users', () => {
  it('adds a user with the password from stdin, hashed with argon2id, audited', async () => {
    const r = ldh(['users', 'add', 'alice', '--role', 'admin', '--operator', 'ops'], 'a long enough password\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added alice (admin)\n');
    const u = await db.user.findUniqueOrThrow({ where: { name: 'alice' } });
    expect(u.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verify(u.passwordHash, 'a long enough password')).toBe(true);
    expect(await db.auditEvent.count({ where: { action: 'user.added', actor: 'ops' } })).toBe(1);
  });

  it('refuses a short password, a duplicate, a bad role and a bad name with a clear message', () => {
    expect(ldh(['users', 'add', 'bob', '--role', 'viewer'], 'short\n').stderr).toContain('at least 12 characters');
    expect(ldh(['users', 'add', 'alice', '--role', 'viewer'], 'another long password\n').stderr).toContain('user "alice" already exists');
    const badRole = ldh(['users', 'add', 'carol', '--role', 'root'], 'another long password\n');
    expect(badRole.status).not.toBe(0);
    expect(badRole.stderr).toContain("Allowed choices are admin, viewer");
    expect(ldh(['users', 'add', 'Bad Name', '--role', 'viewer'], 'another long password\n').stderr).toContain('bad user name');
  });

  it('lists and disables users', async () => {
    expect(ldh(['users', 'add', 'victor', '--role', 'viewer'], 'viewer password 123\n').status).toBe(0);
    const list = ldh(['users', 'list']);
    expect(list.stdout).toMatch(/alice\s+admin\s+enabled/);
    expect(list.stdout).toMatch(/victor\s+viewer\s+enabled/);
    const d = ldh(['users', 'disable', 'victor']);
    expect(d.status, d.stderr).toBe(0);
    const v = await db.user.findUniqueOrThrow({ where: { name: 'victor' } });
    expect(v.disabled).toBe(true);
    expect(v.sessionVersion).toBe(1);
    expect(ldh(['users', 'disable', 'nobody']).stderr).toContain('no user "nobody"');
  });
});
