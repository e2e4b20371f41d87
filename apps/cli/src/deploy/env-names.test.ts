import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { scpEnvSchema } from '@ldh/scp';
import { workerEnvSchema } from '@ldh/worker';
import { writerEnvSchema } from '@ldh/writer';
import { dashboardEnvSchema } from '@ldh/dashboard';

// Every variable the deployment files set for the ldh image must be one the apps' zod schemas
// read: a renamed or misspelt variable would otherwise be ignored silently (zod objects strip
// unknown keys) and the role would run on its default.

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Names defined on branches not merged yet (obs: LDH_HTTP_PORT for /metrics, /healthz, /readyz;
 * dashboard: its role's port and session secret). When a schema that reads them merges, add it to
 * `schemas` below and remove its names here (the last test fails until then).
 */
const PENDING: string[] = [];
/** Read by the tools in the image rather than the apps: Node, and the Prisma CLI of the migrate job. */
const TOOLING = ['NODE_ENV', 'PRISMA_HIDE_UPDATE_MESSAGE', 'CHECKPOINT_DISABLE', 'NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES'];
/** Read by compose itself for interpolation (docker/.env), never by the apps. */
const COMPOSE_ONLY = ['POSTGRES_PASSWORD', 'LDH_IMAGE_TAG'];

// The dashboard's schema is an object piped through a transform (secret or secret file): its keys are the input object's.
const schemas = [scpEnvSchema, workerEnvSchema, writerEnvSchema, dashboardEnvSchema.in];
const appNames = new Set(schemas.flatMap((s) => Object.keys(s.shape)));
const allowed = new Set([...appNames, ...PENDING, ...TOOLING]);
const unknown = (names: Iterable<string>) => [...names].filter((n) => !allowed.has(n)).sort();

describe('environment variables in the deployment files', () => {
  it('reads the apps schemas (sanity: the names the README documents are there)', () => {
    for (const n of ['DATABASE_URL', 'REDIS_URL', 'LDH_STORAGE_DIR', 'LDH_SCP_PORT', 'LDH_EXECUTION_PROVIDER', 'LDH_DESTINATIONS']) expect(appNames.has(n), n).toBe(true);
    expect(unknown(['LDH_EXECUTION_PROVDER'])).toEqual(['LDH_EXECUTION_PROVDER']);
  });

  it('docker/compose.yaml and docker/.env.example set only names the apps read', () => {
    const compose = parse(readFileSync(`${root}docker/compose.yaml`, 'utf8'), { merge: true }) as { services: Record<string, { image?: string; environment?: Record<string, string> }> };
    const ldh = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('ldh-triage'));
    expect(ldh.map(([n]) => n).sort()).toEqual(['dashboard', 'migrate', 'scp', 'worker', 'worker-gpu', 'writer']);
    expect(unknown(ldh.flatMap(([, s]) => Object.keys(s.environment ?? {})))).toEqual([]);
    const example = readFileSync(`${root}docker/.env.example`, 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]!);
    expect(example.length).toBeGreaterThan(3);
    expect(example.filter((n) => !allowed.has(n) && !COMPOSE_ONLY.includes(n))).toEqual([]);
  });

  it('the Dockerfile ENV names are ones the apps or the tools read', () => {
    const env = readFileSync(`${root}docker/Dockerfile`, 'utf8').replace(/\\\n/g, ' ').split('\n').filter((l) => /^ENV\s/.test(l));
    const names = env.flatMap((l) => [...l.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!)).filter((n) => !n.startsWith('ONNXRUNTIME_') && n !== 'TURBO_TELEMETRY_DISABLED');
    expect(names).toContain('LDH_STORAGE_DIR');
    expect(unknown(names)).toEqual([]);
  });

  it('deploy/k8s sets only names the apps read (ConfigMap, Secret example, container env)', () => {
    const dir = `${root}deploy/k8s/`;
    const names = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(dir + file, 'utf8'))) {
        const o = doc.toJS() as { kind: string; data?: Record<string, string>; stringData?: Record<string, string>; spec?: { template?: { spec?: { containers: Array<{ env?: Array<{ name: string }> }> } } } };
        if (o.kind === 'ConfigMap') Object.keys(o.data ?? {}).forEach((n) => names.add(n));
        if (o.kind === 'Secret') Object.keys(o.stringData ?? {}).forEach((n) => names.add(n));
        for (const c of o.spec?.template?.spec?.containers ?? []) for (const e of c.env ?? []) names.add(e.name);
      }
    }
    expect(names.size).toBeGreaterThan(8);
    expect(unknown(names)).toEqual([]);
  });

  it('names listed as pending are not read by any merged schema yet (remove them once they are)', () => {
    expect(PENDING.filter((n) => appNames.has(n))).toEqual([]);
  });
});
