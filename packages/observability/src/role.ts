import { startHttpServer, type RunningHttpServer } from './http-server.js';
import { processObservability, type Observability } from './observability.js';

/** A role's handle on the process's observability: what it registered, and the server it started (if any). */
export interface RoleObservability {
  readonly obs: Observability;
  /** The server this role started (started alone), or null when it shares the process's (`ldh serve`). */
  readonly server: RunningHttpServer | null;
  /** Keeps an unregister function (from addReadinessCheck, addQueues, ...) to run at close(). */
  track(unregister: () => void): void;
  /** Marks the role started: /readyz stops answering "startup" for it. */
  started(): void;
  /** Unregisters what the role registered and closes its own server (not a shared one). */
  close(): Promise<void>;
}

/**
 * Called first thing in a role's start(): with `shared` (ldh serve) the role registers into it;
 * alone, it uses the process-wide context and starts its own /metrics, /healthz, /readyz server
 * (so a port clash fails start-up before any work is accepted).
 */
export async function startRoleObservability(role: string, shared: Observability | undefined, http: { host: string; port: number }): Promise<RoleObservability> {
  const obs = shared ?? processObservability();
  const server = shared ? null : await startHttpServer({ ...http, registry: obs.registry, checks: obs.runReadiness });
  const removers: Array<() => void> = [obs.starting(role)];
  const markStarted = removers[0]!;
  return {
    obs,
    server,
    track: (unregister) => void removers.push(unregister),
    started: markStarted,
    async close() {
      for (const r of removers.splice(0)) r();
      await server?.close();
    },
  };
}
