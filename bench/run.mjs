#!/usr/bin/env node
// `npm run bench -- <name> [args]`: runs one benchmark (after the build the npm script does).
// Each benchmark compares against a reference measured in the same run and prints the ratio;
// its last line is JSON. See bench/<name>/README.md.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = {
  ingest: 'ingest/ingest.mjs',
  model: 'model/bench.mjs',
  decode: 'decode/decode.mjs',
};
const [name, ...args] = process.argv.slice(2);
if (!name || !(name in benches)) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args]`);
  process.exit(2);
}
const child = spawn(process.execPath, [fileURLToPath(new URL(benches[name], import.meta.url)), ...args], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 1));
