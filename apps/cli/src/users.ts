/**
 * `ldh users add <name> --role admin|viewer`, `ldh users list`, `ldh users disable <name>`: the
 * dashboard's local users (needs DATABASE_URL). The password never comes from an argument (it
 * would land in shell history and `ps`): it is read from a prompt that does not echo, or from
 * stdin when stdin is not a terminal (`printf '%s\n' "$PW" | ldh users add ...`).
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addUser, disableUser, listUsers, USER_ROLES, UserError, type UserRole, type UserRow } from '@ldh/ops';
import { defaultOperator } from './deliveries.js';
import { withDb } from './with-db.js';

/** One line from a prompt that shows nothing typed. */
function promptHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.once('line', (line) => {
      rl.close();
      process.stderr.write('\n');
      resolve(line);
    });
  });
}

/** The first line of stdin (a pipe or a file). */
async function readStdinLine(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdinLine();
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new InvalidArgumentError('the passwords do not match');
  return first;
}

export function formatUsers(users: UserRow[]): string {
  if (users.length === 0) return 'no users (add one: ldh users add <name> --role admin)\n';
  return `${users.map((u) => `${u.name.padEnd(20)} ${u.role.padEnd(7)} ${u.disabled ? 'disabled' : 'enabled '}  last login ${u.lastLoginAt ?? 'never'}`).join('\n')}\n`;
}

/** `ldh users ...` commands. */
export function usersCommand(env: Record<string, string | undefined>): Command {
  const cmd = new Command('users').description('dashboard users: add, list, disable (needs DATABASE_URL)');
  cmd
    .command('add')
    .description('add a user; the password is read from a prompt (no echo) or from stdin, never from an argument')
    .argument('<name>', 'user name (lower-case letters, digits, . _ -)')
    .addOption(new Option('--role <role>', 'admin (reads and acts) or viewer (reads; sees no patient names)').choices(USER_ROLES).makeOptionMandatory())
    .option('--operator <name>', 'who adds the user (audited)', defaultOperator())
    .action(async (name: string, opts: { role: UserRole; operator: string }) => {
      const password = await readPassword();
      try {
        const u = await withDb(env, (db) => addUser(db, { name, role: opts.role, password }, opts.operator));
        process.stdout.write(`added ${u.name} (${u.role})\n`);
      } catch (err) {
        if (err instanceof UserError) throw new InvalidArgumentError(err.message);
        throw err;
      }
    });
  cmd
    .command('list')
    .description('users with their role, state and last login')
    .option('--json', 'print JSON', false)
    .action(async (opts: { json: boolean }) => {
      const users = await withDb(env, (db) => listUsers(db));
      process.stdout.write(opts.json ? `${JSON.stringify(users, null, 2)}\n` : formatUsers(users));
    });
  cmd
    .command('disable')
    .description('disable a user and end its sessions at once (the user and its audit trail stay)')
    .argument('<name>')
    .option('--operator <name>', 'who disables the user (audited)', defaultOperator())
    .action(async (name: string, opts: { operator: string }) => {
      try {
        const u = await withDb(env, (db) => disableUser(db, name, opts.operator));
        process.stdout.write(`disabled ${u.name}\n`);
      } catch (err) {
        if (err instanceof UserError) throw new InvalidArgumentError(err.message);
        throw err;
      }
    });
  return cmd;
}
