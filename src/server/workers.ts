import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import { serveClusterMetrics } from "../observe/cluster-metrics.ts";

/** A worker that dies sooner than this after its start counts as failing to start. */
const EARLY_EXIT_MS = 5_000;

export interface WorkerPool {
  /** Resolves once every worker listens; rejects when one cannot start. */
  readonly listening: Promise<void>;
  /** Asks every worker to re-read the configuration file (as SIGHUP does to one process). */
  reload(): void;
  /** SIGTERM to every worker; resolves when all have exited. */
  stop(): Promise<void>;
}

/**
 * Runs the proxy in `count` worker processes sharing one port (node:cluster). A worker that
 * crashes is replaced; one that cannot start at all (a bad port, a bad file) stops the pool
 * rather than being restarted for ever. Health learned about targets stays per worker.
 */
export function startWorkers(count: number, logger: Logger, env: NodeJS.ProcessEnv): WorkerPool {
  const workers = new Set<Worker>();
  let stopping = false;
  let failStart: (error: Error) => void = () => {};
  const listening = new Promise<void>((resolve, reject) => {
    let ready = 0;
    failStart = reject;
    cluster.on("listening", () => {
      ready += 1;
      if (ready === count) resolve();
    });
  });

  const fork = () => {
    const worker = cluster.fork(env);
    const started = Date.now();
    let listened = false;
    workers.add(worker);
    worker.once("listening", () => {
      listened = true;
    });
    worker.once("exit", (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      if (!listened) {
        logger.error({ worker: worker.process.pid, code, signal }, "a worker could not start");
        failStart(new Error(`a worker exited before serving (${signal ?? `code ${code}`})`));
        return;
      }
      logger.warn({ worker: worker.process.pid, code, signal }, "worker exited; starting another");
      // One that crashes soon after starting is replaced after a pause, not in a tight loop.
      setTimeout(fork, Date.now() - started < EARLY_EXIT_MS ? 1000 : 0);
    });
  };
  serveClusterMetrics();
  for (let i = 0; i < count; i++) fork();

  return {
    listening,
    reload() {
      for (const worker of workers) worker.process.kill("SIGHUP");
    },
    async stop() {
      stopping = true;
      const exits = [...workers].map((w) => new Promise((r) => w.once("exit", r)));
      for (const worker of workers) worker.process.kill("SIGTERM");
      await Promise.all(exits);
    },
  };
}
