#!/usr/bin/env node
// Pre-test check: the integration suites talk to real peers (dcmtk, dicom3tools, Orthanc, Chromium,
// Postgres, Redis, Debian's python3-torch). Install what is missing when we can (root + apt),
// otherwise name exactly what is missing and how to get it.
import { spawnSync } from 'node:child_process';
import net from 'node:net';

const tools = [
  { bin: 'storescu', pkg: 'dcmtk' },
  { bin: 'dcmdump', pkg: 'dcmtk' },
  { bin: 'dsrdump', pkg: 'dcmtk' },
  { bin: 'dciodvfy', pkg: 'dicom3tools' },
  { bin: 'Orthanc', pkg: 'orthanc' },
  { bin: 'redis-server', pkg: 'redis-server' },
  { bin: 'openssl', pkg: 'openssl' },
  { bin: 'dcmcjpls', pkg: 'dcmtk' },
  { bin: 'opj_compress', pkg: 'libopenjp2-tools' },
  { bin: 'ojph_compress', pkg: 'openjph-tools' }, // HTJ2K encoder/decoder for pixel-decoding tests
  { bin: 'chromium', pkg: 'chromium' }, // the dashboard's browser test (playwright-core drives it)
];
const pythonModules = [
  { mod: 'torch', pkg: 'python3-torch' },
  { mod: 'torchvision', pkg: 'python3-torchvision' },
  { mod: 'onnx', pkg: 'python3-onnx' },
  { mod: 'numpy', pkg: 'python3-numpy' },
  { mod: 'pydicom', pkg: 'python3-pydicom' },
];

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const hasPy = (mod) => spawnSync('/usr/bin/python3', ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
const missing = () => [
  ...tools.filter((t) => !has(t.bin)).map((t) => t.pkg),
  ...(has('/usr/bin/python3') ? pythonModules.filter((m) => !hasPy(m.mod)).map((m) => m.pkg) : ['python3', ...pythonModules.map((m) => m.pkg)]),
];

let need = [...new Set(missing())];
if (need.length > 0 && process.getuid?.() === 0 && has('apt-get')) {
  console.error(`pretest: installing ${need.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], { stdio: 'inherit', env });
  need = [...new Set(missing())];
}
if (need.length > 0) {
  console.error(`pretest: missing system packages: ${need.join(' ')}\n  install them with: sudo apt-get install ${need.join(' ')}`);
  process.exit(1);
}

function answers(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
const pgUrl = new URL(process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const redisUrl = new URL(process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const problems = [];
if (!(await answers(pgUrl.hostname, Number(pgUrl.port || 5432)))) problems.push(`no PostgreSQL at ${pgUrl.host} (set LDH_TEST_DATABASE_URL to a server where we may create databases)`);
if (!(await answers(redisUrl.hostname, Number(redisUrl.port || 6379)))) problems.push(`no Redis at ${redisUrl.host} (set LDH_TEST_REDIS_URL)`);
if (problems.length > 0) {
  console.error(`pretest:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.error('pretest: system tools and services present');
