/**
 * Several SCP processes on one DICOM port. Node 20's `net.Server.listen` has no `reusePort`
 * (SO_REUSEPORT came in Node 22.12 / 23.1), so the processes share the port through Node's
 * cluster module instead: this (primary) process forks N `ldh serve --role scp` children; their
 * `listen()` is answered with the primary's listening socket and the primary hands accepted
 * connections to them round-robin. Each child is a complete SCP (own staging files, own Postgres
 * pool, settler, dispatcher); they share the instance store, Postgres and Redis as separate hosts
 * would. One association always stays in one child.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import type { Logger } from '@ldh/config';

export interface ScpCluster {
  /** SIGTERM to every child (each drains its associations), then wait for all to exit. */
  stop(): Promise<void>;
  /** Resolves when every child has exited (by stop() or on its own). */
  exited: Promise<void>;
}

/** True in a child forked by {@link startScpCluster} (it then runs a plain single SCP). */
export const isScpClusterChild = (): boolean => cluster.isWorker;

/** In a child, after its roles stopped: close the IPC channel to the primary, which would keep it alive. */
export function leaveScpCluster(): void {
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}

/**
 * Fork `processes` SCP children (the same CLI, `serve --role scp`) and wait until each is
 * listening. A child that exits unexpectedly is not restarted here: `onUnexpectedExit` lets the
 * caller stop the whole unit and exit non-zero, so the supervisor (systemd, compose, Kubernetes)
 * stays the one owner of restart policy.
 */
export async function startScpCluster(processes: number, cliArgs: string[], logger: Logger, onUnexpectedExit: () => void): Promise<ScpCluster> {
  cluster.setupPrimary({ args: cliArgs, silent: false });
  const children: ClusterWorker[] = [];
  let stopping = false;
  const exits: Array<Promise<void>> = [];
  for (let i = 0; i < processes; i++) {
    const child = cluster.fork();
    children.push(child);
    exits.push(
      new Promise<void>((resolve) =>
        child.once('exit', (code, signal) => {
          if (!stopping) {
            logger.error({ pid: child.process.pid, code, signal }, 'scp process exited unexpectedly');
            onUnexpectedExit();
          }
          resolve();
        }),
      ),
    );
  }
  // Every child listening (cluster's 'listening' event), or one died during start-up.
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('listening', () => resolve());
          child.once('exit', (code) => reject(new Error(`scp process ${child.process.pid ?? '?'} exited during start-up (code ${code})`)));
        }),
    ),
  ).catch(async (err: unknown) => {
    stopping = true;
    for (const c of children) if (!c.isDead()) c.process.kill('SIGTERM');
    await Promise.all(exits);
    throw err;
  });
  logger.info({ processes, pids: children.map((c) => c.process.pid) }, 'scp processes listening on one port (cluster, round-robin)');
  const exited = Promise.all(exits).then(() => undefined);
  return {
    exited,
    async stop() {
      stopping = true;
      for (const c of children) if (!c.isDead()) c.process.kill('SIGTERM');
      await exited;
    },
  };
}
