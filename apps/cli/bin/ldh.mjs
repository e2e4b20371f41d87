#!/usr/bin/env node
// The `ldh` command as npm links it (node_modules/.bin/ldh after `npm ci`). The CLI itself is
// compiled TypeScript in ../dist, which a fresh clone does not have yet: build it once (to stderr,
// so stdout stays the command's), or say how when that fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  process.stderr.write('ldh: not built yet; running `npm run build` once (a minute or two)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0 || !existsSync(fileURLToPath(main))) {
    process.stderr.write('ldh: the build failed: run `npm run build` in the repository and read its errors\n');
    process.exit(1);
  }
}
await import(main.href);
