import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

// deploy/k8s/ checked without a cluster: every object against the Kubernetes OpenAPI schemas as
// published in the `kubernetes-models` package (ajv-compiled validators per apiVersion/kind),
// plus the properties the deployment relies on. Those schemas, like the API server's OpenAPI,
// do not reject unknown fields; the checks below pin the fields that matter.

const dir = fileURLToPath(new URL('../../../../deploy/k8s/', import.meta.url));
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
type Container = {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  ports?: Array<{ name?: string; containerPort: number }>;
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
};
type PodSpec = {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  nodeSelector?: Record<string, string>;
  tolerations?: Array<{ key?: string }>;
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
};

function loadFile(file: string): Obj[] {
  return parseAllDocuments(readFileSync(dir + file, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as Obj;
  });
}
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
const objects = files.flatMap((f) => loadFile(f).map((o) => ({ file: f, o })));
const find = (kind: string, name: string): Obj => {
  const hit = objects.find(({ o }) => o.kind === kind && o.metadata.name === name);
  if (!hit) throw new Error(`no ${kind}/${name} in deploy/k8s`);
  return hit.o;
};
const podSpec = (o: Obj): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;

/** The kubernetes-models class for an object's apiVersion and kind, validated with its schema. */
async function validateObject(o: Obj): Promise<void> {
  const mod = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

describe('deploy/k8s', () => {
  it('every object is valid against the Kubernetes OpenAPI schema of its apiVersion/kind', async () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const { file, o } of objects) {
      await expect(validateObject(o), `${file}: ${o.kind}/${o.metadata.name}`).resolves.toBeUndefined();
    }
  });

  it('the schema check can fail: a string replica count and a probe without a port are rejected', async () => {
    const bad = structuredClone(find('Deployment', 'ldh-worker'));
    (bad.spec as Record<string, unknown>).replicas = 'two';
    await expect(validateObject(bad)).rejects.toThrow(/replicas/);
    const bad2 = structuredClone(find('StatefulSet', 'ldh-scp'));
    delete (podSpec(bad2).containers[0]!.readinessProbe!.httpGet as Record<string, unknown>).port;
    await expect(validateObject(bad2)).rejects.toThrow(/port/);
  });

  it('kustomization.yaml lists files that exist, and every non-example file', () => {
    const kustomization = loadFile('kustomization.yaml')[0] as unknown as { resources: string[]; namespace: string };
    expect(kustomization.namespace).toBe('ldh');
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => !f.includes('.example.')));
    for (const { o } of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('ldh');
  });

  it('runs each role from the image with its role, probes /healthz and /readyz on the HTTP port', () => {
    const roles: Array<[string, string]> = [['StatefulSet', 'scp'], ['Deployment', 'worker'], ['Deployment', 'writer'], ['Deployment', 'dashboard']];
    for (const [kind, role] of roles) {
      const c = podSpec(find(kind, `ldh-${role}`)).containers[0]!;
      expect(c.args, role).toEqual(['serve', '--role', role]);
      expect(c.image, role).toMatch(/^ldh-triage/);
      expect(c.livenessProbe?.httpGet?.path, role).toBe('/healthz');
      expect(c.readinessProbe?.httpGet?.path, role).toBe('/readyz');
      const http = c.ports?.find((p) => p.name === c.readinessProbe?.httpGet?.port);
      expect(http?.containerPort, role).toBe(9464);
    }
  });

  it('every pod runs non-root with a read-only root filesystem, no privilege escalation, no capabilities', () => {
    const workloads = objects.filter(({ o }) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
    expect(workloads.length).toBe(5);
    for (const { o } of workloads) {
      const spec = podSpec(o);
      expect(spec.securityContext?.runAsNonRoot, o.metadata.name).toBe(true);
      expect(spec.securityContext?.runAsUser, o.metadata.name).toBe(10001);
      expect(spec.securityContext?.seccompProfile?.type, o.metadata.name).toBe('RuntimeDefault');
      for (const c of spec.containers) {
        expect(c.securityContext, `${o.metadata.name}/${c.name}`).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.volumeMounts?.some((m) => m.mountPath === '/tmp'), `${o.metadata.name}: writable /tmp`).toBe(true);
        expect(c.resources?.limits?.memory, `${o.metadata.name}: memory limit`).toBeDefined();
      }
    }
  });

  it('the SCP is a StatefulSet with its instance store claim, which the worker and writer mount', () => {
    const scp = find('StatefulSet', 'ldh-scp');
    const spec = scp.spec as { replicas: number; volumeClaimTemplates: Array<{ metadata: { name: string }; spec: { accessModes: string[] } }> };
    expect(spec.replicas).toBe(1);
    const claim = spec.volumeClaimTemplates[0]!;
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
    // StatefulSet claims are named <template>-<statefulset>-<ordinal>.
    const claimName = `${claim.metadata.name}-${scp.metadata.name}-0`;
    expect(podSpec(scp).containers[0]!.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: '/data' });
    for (const name of ['ldh-worker', 'ldh-writer']) {
      const spec = podSpec(find('Deployment', name));
      const vol = spec.volumes?.find((v) => v.persistentVolumeClaim);
      expect(vol?.persistentVolumeClaim?.claimName, name).toBe(claimName);
      expect(spec.containers[0]!.volumeMounts, name).toContainEqual({ name: vol!.name, mountPath: '/data' });
    }
    const svc = find('Service', 'ldh-scp');
    expect((svc.spec as { ports: Array<{ port: number }> }).ports[0]!.port).toBe(11112);
  });

  it('workers go to GPU nodes with a GPU each and scale on the inference queue depth', () => {
    const worker = find('Deployment', 'ldh-worker');
    const spec = podSpec(worker);
    expect(spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(spec.tolerations?.map((t) => t.key)).toContain('nvidia.com/gpu');
    expect(spec.containers[0]!.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(spec.containers[0]!.env).toContainEqual({ name: 'LDH_EXECUTION_PROVIDER', value: 'cuda' });
    const hpa = find('HorizontalPodAutoscaler', 'ldh-worker') as unknown as {
      spec: { scaleTargetRef: { kind: string; name: string }; metrics: Array<{ type: string; external: { metric: { name: string; selector: { matchLabels: Record<string, string> } } } }> };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'ldh-worker' });
    expect(hpa.spec.metrics[0]!.type).toBe('External');
    expect(hpa.spec.metrics[0]!.external.metric).toEqual({ name: 'ldh_queue_jobs', selector: { matchLabels: { queue: 'inference', state: 'waiting' } } });
  });

  it('has disruption budgets for the scaled roles and keeps secrets out of the ConfigMap', () => {
    const pdbs = objects.filter(({ o }) => o.kind === 'PodDisruptionBudget').map(({ o }) => (o.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['app.kubernetes.io/name']);
    expect(pdbs.sort()).toEqual(['ldh-worker', 'ldh-writer']);
    const data = find('ConfigMap', 'ldh-config').data as Record<string, string>;
    for (const key of Object.keys(data)) expect(key).not.toMatch(/PASSWORD|SECRET|TOKEN|DATABASE_URL/);
    const secret = find('Secret', 'ldh-secrets') as unknown as { stringData: Record<string, string> };
    for (const value of Object.values(secret.stringData)) expect(value).toMatch(/REPLACE_ME/);
  });
});
