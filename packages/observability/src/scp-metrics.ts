import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus instruments of the storage SCP; labels carry statuses and outcomes, never PHI. */
export interface ScpMetrics {
  readonly registry: Registry;
  associations: Counter<'result'>;
  activeAssociations: Gauge;
  instances: Counter<'outcome'>;
  bytes: Counter;
  failures: Counter<'status'>;
  storeDuration: Histogram<'outcome'>;
}

/**
 * Creates the SCP's instruments in `registry`. A role passes the process registry (one per
 * process, see createObservability); the default is a fresh one so a bare `createStoreScp` in a
 * test never collides with another SCP on metric names.
 */
export function createScpMetrics(registry: Registry = new Registry()): ScpMetrics {
  return {
    registry,
    associations: new Counter({
      name: 'ldh_scp_associations_total',
      help: 'Association requests by result (accepted, rejected-called-ae, rejected-calling-ae, rejected-limit, aborted, protocol-abort)',
      labelNames: ['result'],
      registers: [registry],
    }),
    activeAssociations: new Gauge({
      name: 'ldh_scp_active_associations',
      help: 'Open DICOM connections',
      registers: [registry],
    }),
    instances: new Counter({
      name: 'ldh_scp_instances_total',
      help: 'C-STORE requests answered, by outcome (stored, duplicate, new-version, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    bytes: new Counter({ name: 'ldh_scp_bytes_total', help: 'Bytes of instances durably stored', registers: [registry] }),
    failures: new Counter({
      name: 'ldh_scp_failures_total',
      help: 'C-STORE failures by DIMSE status (hex)',
      labelNames: ['status'],
      registers: [registry],
    }),
    storeDuration: new Histogram({
      name: 'ldh_scp_store_duration_seconds',
      help: 'C-STORE duration: from last dataset byte received to response sent (fsync, parse, sink commit)',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
