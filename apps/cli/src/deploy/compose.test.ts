import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

// docker/compose.yaml checked without a Docker engine: against the Compose Specification's JSON
// Schema (vendored, see compose-spec.SOURCE.md), plus the properties the deployment relies on.

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const composePath = `${root}docker/compose.yaml`;
type Service = {
  image?: string;
  build?: { target?: string };
  command?: string[];
  entrypoint?: string[];
  ports?: string[];
  container_name?: string;
  profiles?: string[];
  env_file?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources?: { reservations?: { devices?: Array<{ driver?: string; capabilities?: string[] }> } } };
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

/** Parsed the way compose does: YAML 1.1 merge keys (`<<`) resolved. */
function loadCompose(text = readFileSync(composePath, 'utf8')): Compose {
  return parse(text, { merge: true }) as Compose;
}

function validator() {
  const schema = JSON.parse(readFileSync(new URL('./compose-spec.json', import.meta.url), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The spec names draft-07 by its https address; Ajv registers the same meta-schema under http.
  const draft7 = ajv.getSchema('http://json-schema.org/draft-07/schema')?.schema as object;
  ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(schema);
}

describe('docker/compose.yaml', () => {
  const compose = loadCompose();
  const svc = (name: string): Service => {
    const s = compose.services[name];
    if (!s) throw new Error(`no service ${name}`);
    return s;
  };

  it('is valid against the Compose Specification schema', () => {
    const validate = validator();
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail: a misspelt service key, a scalar where a list belongs', () => {
    const validate = validator();
    const bad = loadCompose();
    (bad.services.scp as Record<string, unknown>).healtcheck = { test: ['CMD', 'true'] };
    expect(validate(bad)).toBe(false);
    const bad2 = loadCompose();
    bad2.services['worker-gpu']!.deploy!.resources!.reservations!.devices![0]!.capabilities = 'gpu' as unknown as string[];
    expect(validate(bad2)).toBe(false);
  });

  it('runs one service per role from one image, each with its role and a /readyz healthcheck', () => {
    for (const role of ['scp', 'worker', 'writer', 'dashboard']) {
      const s = svc(role);
      expect(s.command, role).toEqual(['serve', '--role', role]);
      expect(s.image, role).toMatch(/^ldh-triage:/);
      expect(s.build?.target, role).toBe('runtime');
      expect(s.healthcheck?.test?.join(' '), role).toContain('/readyz');
      expect(s.depends_on?.migrate?.condition, role).toBe('service_completed_successfully');
      expect(s.depends_on?.postgres?.condition, role).toBe('service_healthy');
      expect(s.depends_on?.redis?.condition, role).toBe('service_healthy');
    }
    expect(svc('scp').ports).toEqual(['11112:11112']);
  });

  it('scp, worker and writer share the instance store volume', () => {
    for (const role of ['scp', 'worker', 'worker-gpu', 'writer']) expect(svc(role).volumes, role).toContain('instance-store:/data');
    expect(Object.keys(compose.volumes ?? {})).toContain('instance-store');
  });

  it('the worker can be scaled with --scale worker=N: no container_name, no host port', () => {
    for (const role of ['worker', 'worker-gpu']) {
      expect(svc(role).container_name, role).toBeUndefined();
      expect(svc(role).ports, role).toBeUndefined();
    }
  });

  it('migrations run once, in a one-shot service, not in each replica', () => {
    const m = svc('migrate');
    expect(m.entrypoint?.join(' ')).toContain('prisma');
    expect(m.command).toEqual(['migrate', 'deploy']);
    expect(Object.values(compose.services).filter((s) => (s.command ?? []).includes('--migrate'))).toEqual([]);
  });

  it('Redis keeps jobs: AOF on and noeviction (BullMQ production guide); Postgres has a healthcheck', () => {
    const cmd = svc('redis').command?.join(' ') ?? '';
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(svc('redis').healthcheck?.test).toBeDefined();
    expect(svc('postgres').healthcheck?.test?.join(' ')).toContain('pg_isready');
  });

  it('has the GPU worker and the Orthanc test PACS behind profiles', () => {
    const gpu = svc('worker-gpu');
    expect(gpu.profiles).toEqual(['gpu']);
    expect(gpu.build?.target).toBe('runtime-gpu');
    expect(gpu.environment?.LDH_EXECUTION_PROVIDER).toBe('cuda');
    expect(gpu.deploy?.resources?.reservations?.devices?.[0]).toMatchObject({ driver: 'nvidia', capabilities: ['gpu'] });
    expect(svc('orthanc').profiles).toEqual(['test-pacs']);
    // Everything else starts by default.
    const profiled = Object.entries(compose.services).filter(([, s]) => s.profiles).map(([n]) => n).sort();
    expect(profiled).toEqual(['orthanc', 'worker-gpu']);
  });

  it('has a healthcheck on every long-running service', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'migrate') continue;
      expect(s.healthcheck?.test, name).toBeDefined();
    }
  });

  it('holds no secret: passwords come from docker/.env by env_file or interpolation', () => {
    const text = readFileSync(composePath, 'utf8');
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN/.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?/);
        // A credential inside a URL must be interpolated too.
        const cred = /:\/\/[^:/@]+:([^@]+)@/.exec(String(value));
        if (cred) expect(cred[1], `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?/);
      }
    }
    for (const role of ['scp', 'worker', 'writer', 'dashboard']) expect(svc(role).env_file, role).toBe('.env');
    expect(text).not.toMatch(/LDH_DASHBOARD_SECRET\s*:/);
    const ignored = readFileSync(`${root}.gitignore`, 'utf8').split('\n');
    expect(ignored).toContain('docker/.env');
  });

  // `docker compose config` is the client-side check the compose tool itself runs (interpolation,
  // merge keys, profiles). It needs the compose plugin, which this project's CI machines lack.
  const hasComposePlugin = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasComposePlugin)('`docker compose config` accepts it with every profile (skipped: no docker compose plugin here)', () => {
    const out = execFileSync('docker', ['compose', '-f', composePath, '--env-file', `${root}docker/.env.example`, '--profile', 'gpu', '--profile', 'test-pacs', 'config', '--quiet'], { encoding: 'utf8' });
    expect(out).toBe('');
  });
});
