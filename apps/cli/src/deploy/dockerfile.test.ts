import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docker/Dockerfile and .dockerignore checked without a Docker engine: the properties the
// deployment relies on, and cross-checks against the repository (package names, paths, the
// onnxruntime-node install flag) so the file cannot drift from what it builds.

const root = fileURLToPath(new URL('../../../../', import.meta.url));
type Instruction = { op: string; args: string };
type Stage = { name: string; from: string; instructions: Instruction[] };

/** Stages of a Dockerfile: continuation lines joined, comments dropped. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const ins = { op: op.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ from: m?.[1] ?? '', name: m?.[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) args.push(ins);
    else stages[stages.length - 1]!.instructions.push(ins);
  }
  return { args, stages };
}

const dockerfile = readFileSync(`${root}docker/Dockerfile`, 'utf8');
const { args: globalArgs, stages } = parseDockerfile(dockerfile);
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
};
const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('docker/Dockerfile', () => {
  it('is multi-stage, the CPU runtime last (the default target), the GPU runtime beside it', () => {
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['prune', 'deps', 'build', 'runtime', 'deps-gpu', 'build-gpu', 'runtime-gpu']));
    expect(stages.at(-1)!.name).toBe('runtime');
  });

  it('prunes to the CLI workspace, whose bin the entrypoint runs', () => {
    const cli = JSON.parse(readFileSync(`${root}apps/cli/package.json`, 'utf8')) as { name: string; bin: Record<string, string> };
    expect(ops(stage('prune'), 'RUN').join('\n')).toContain(`turbo prune ${cli.name} --docker`);
    const bin = cli.bin.ldh!.replace(/^\.\//, 'apps/cli/');
    for (const name of ['runtime', 'runtime-gpu']) expect(ops(stage(name), 'ENTRYPOINT'), name).toEqual([`["node", "${bin}"]`]);
    // turbo version: the one the repository pins.
    const rootPkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { devDependencies: Record<string, string> };
    expect(globalArgs.map((a) => a.args)).toContain(`TURBO_VERSION=${rootPkg.devDependencies.turbo}`);
  });

  it('runs as a non-root user with a /readyz healthcheck in every runtime stage', () => {
    for (const name of ['runtime', 'runtime-gpu']) {
      const user = ops(stage(name), 'USER');
      expect(user.length, name).toBe(1);
      expect(user[0], name).not.toMatch(/^(root|0)(:|$)/);
      const health = ops(stage(name), 'HEALTHCHECK').join(' ');
      expect(health, name).toContain('/readyz');
      expect(health, name).toContain('LDH_HTTP_PORT');
      expect(health, name).not.toMatch(/curl|wget/);
      // USER comes after the last COPY/RUN that needs root.
      const idx = stage(name).instructions.findIndex((i) => i.op === 'USER');
      expect(stage(name).instructions.slice(idx).some((i) => i.op === 'RUN'), name).toBe(false);
    }
  });

  it('never copies the whole context into an image and carries no secret', () => {
    expect(dockerfile).not.toMatch(/^\s*COPY\s+\.\s+\./m);
    for (const s of stages) {
      for (const ins of s.instructions.filter((i) => i.op === 'ENV' || i.op === 'ARG')) {
        expect(ins.args, `${s.name}: ${ins.op} ${ins.args}`).not.toMatch(/(PASSWORD|SECRET|TOKEN|DATABASE_URL|REDIS_URL)/i);
      }
    }
    expect(dockerfile).not.toMatch(/postgres(ql)?:\/\/[^\s]*:[^\s]*@/);
  });

  it('installs CPU onnxruntime-node with skip, the GPU image with a flag the installed package accepts', () => {
    expect(ops(stage('deps'), 'ENV').join(' ')).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
    const gpuFlag = /ONNXRUNTIME_NODE_INSTALL=(\S+)/.exec(ops(stage('deps-gpu'), 'ENV').join(' '))?.[1];
    expect(gpuFlag).toBe('cuda12');
    const require = createRequire(`${root}packages/model/package.json`);
    const metadata = require('onnxruntime-node/script/install-metadata.js') as { requirements: Record<string, string[]>; manifests: Record<string, Record<string, unknown>> };
    expect(metadata.requirements['linux/x64']).toContain(gpuFlag);
    // The install script runs directly (npm 11 may block dependency scripts) and the build fails
    // unless the CUDA provider library it promises is there.
    const gpuRun = ops(stage('deps-gpu'), 'RUN').join(' ');
    expect(gpuRun).toContain('node script/install.js');
    const cudaLib = Object.keys(metadata.manifests[`linux/x64:${gpuFlag}`] ?? {}).find((f) => f.includes('providers_cuda'));
    expect(cudaLib).toBeDefined();
    expect(gpuRun).toContain(`test -f bin/napi-v6/linux/x64/${cudaLib!.replace(/^\.\//, '')}`);
    expect(ops(stage('runtime-gpu'), 'ENV').join(' ')).toMatch(/LDH_EXECUTION_PROVIDER=cuda/);
    // CUDA 12 + cuDNN 9 base for the GPU runtime.
    expect(globalArgs.map((a) => a.args).find((a) => a.startsWith('CUDA_IMAGE='))).toMatch(/^CUDA_IMAGE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
  });

  it('uses the Node major the repository supports (.nvmrc and engines)', () => {
    const nodeImage = globalArgs.map((a) => a.args).find((a) => a.startsWith('NODE_IMAGE='));
    const major = /node:(\d+)/.exec(nodeImage ?? '')?.[1];
    expect(readFileSync(`${root}.nvmrc`, 'utf8').trim()).toBe(major);
    const engines = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(new RegExp(`^>=${major}\\.`));
  });

  it('copies what the runtime needs that prune does not carry: models, prisma, its config', () => {
    const copies = stages.flatMap((s) => ops(s, 'COPY')).join('\n');
    expect(copies).toMatch(/^models \.\/models$/m);
    expect(copies).toMatch(/^prisma \.\/prisma$/m);
    expect(copies).toMatch(/prisma\.config\.ts/);
  });
});

describe('.dockerignore', () => {
  const entries = readFileSync(`${root}.dockerignore`, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  it('keeps the repository history, host builds, local state and secrets out of the context', () => {
    for (const e of ['.git', '**/node_modules', '**/dist', '.ldh', '.env', '**/.env', 'docker/.env']) expect(entries, e).toContain(e);
  });
  it('keeps the model weights in (the worker loads them at start)', () => {
    expect(entries.filter((e) => /^(\*\*\/)?models\b|\.onnx/.test(e))).toEqual([]);
  });
});
