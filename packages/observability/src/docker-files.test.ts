/**
 * The alert rules and the Grafana dashboard in docker/ must only use metric names (and label
 * names) that the registry defines, so renaming an instrument cannot silently break them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createObservability } from './observability.js';

const docker = path.join(import.meta.dirname, '../../../docker');
const obs = createObservability({ defaultMetrics: false });
/** Series names Prometheus itself adds (not ours). */
const PROMETHEUS_BUILTINS = new Set(['up']);
/** Labels every scraped series may carry besides its own. */
const TARGET_LABELS = new Set(['job', 'instance']);

function definition(series: string): { name: string; labels: Set<string> } | null {
  for (const [suffix, extra] of [['', []], ['_bucket', ['le']], ['_count', []], ['_sum', []]] as const) {
    if (suffix && !series.endsWith(suffix)) continue;
    const name = suffix ? series.slice(0, -suffix.length) : series;
    const metric = obs.registry.getSingleMetric(name) as (Metric & { labelNames?: string[] }) | undefined;
    if (metric) return { name, labels: new Set([...(metric.labelNames ?? []), ...extra, ...TARGET_LABELS]) };
  }
  return null;
}

/** Problems in one PromQL expression: unknown ldh_* series, unknown label in a selector, no metric at all. */
function problems(expr: string): string[] {
  const out: string[] = [];
  const selectors = [...expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\s*(\{([^}]*)\})?/gi)];
  let metrics = 0;
  for (const [, name, , matchers] of selectors) {
    if (!name) continue;
    if (PROMETHEUS_BUILTINS.has(name)) {
      metrics++;
      continue;
    }
    if (!name.startsWith('ldh_')) continue;
    metrics++;
    const def = definition(name);
    if (!def) {
      out.push(`${name} is not defined by the registry`);
      continue;
    }
    for (const [, label] of (matchers ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (label && !def.labels.has(label)) out.push(`${name} has no label "${label}"`);
    }
  }
  if (metrics === 0) out.push('references no metric');
  return out;
}

describe('docker/prometheus/alerts.yml', () => {
  const text = readFileSync(path.join(docker, 'prometheus/alerts.yml'), 'utf8');
  const rules = (parse(text) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);

  it('has the alerts operators need', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      ['LdhDeadLetters', 'LdhDeliveriesDead', 'LdhDeliveryFailureRate', 'LdhDiskLow', 'LdhInferenceLatencyHigh', 'LdhNotReady', 'LdhQueueBacklogGrowing', 'LdhTargetDown'].sort(),
    );
  });

  it('only references metrics and labels the registry defines', () => {
    const bad = rules.flatMap((r) => problems(r.expr).map((p) => `${r.alert}: ${p}`));
    expect(bad).toEqual([]);
  });

  it('catches a renamed metric (the check itself can fail)', () => {
    expect(problems('rate(ldh_scp_instance_total[5m])')).toEqual(['ldh_scp_instance_total is not defined by the registry']);
    expect(problems('ldh_queue_jobs{status="waiting"}')).toEqual(['ldh_queue_jobs has no label "status"']);
  });

  // promtool ships with Debian's `prometheus` package; the CI machine may not have it.
  const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  it.skipIf(!promtool)('passes promtool check rules / check config', () => {
    const rulesCheck = spawnSync(promtool, ['check', 'rules', path.join(docker, 'prometheus/alerts.yml')], { encoding: 'utf8' });
    expect(rulesCheck.status, rulesCheck.stdout + rulesCheck.stderr).toBe(0);
    const configCheck = spawnSync(promtool, ['check', 'config', '--syntax-only', path.join(docker, 'prometheus/prometheus.yml')], { encoding: 'utf8' });
    expect(configCheck.status, configCheck.stdout + configCheck.stderr).toBe(0);
  });
});

describe('docker/grafana/ldh-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(path.join(docker, 'grafana/ldh-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
  };
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('has the views the issue asks for', () => {
    const exprs = queries.map((q) => q.expr).join('\n');
    for (const metric of ['ldh_scp_instances_total', 'ldh_queue_jobs', 'ldh_job_duration_seconds_bucket', 'ldh_inference_duration_seconds_bucket', 'ldh_delivery_failures_total', 'ldh_studies']) {
      expect(exprs).toContain(metric);
    }
    expect(exprs).toMatch(/histogram_quantile\(0\.5,[^\n]*ldh_job_duration_seconds_bucket/);
    expect(exprs).toMatch(/histogram_quantile\(0\.95,[^\n]*ldh_job_duration_seconds_bucket/);
  });

  it('only queries metrics and labels the registry defines', () => {
    const bad = queries.flatMap((q) => problems(q.expr).map((p) => `${q.panel}: ${p}`));
    expect(bad).toEqual([]);
  });
});
