import cluster from "node:cluster";
import type { Server } from "node:http";
import type { Config } from "../config/config.ts";
import { clusterScrape } from "../observe/cluster-metrics.ts";
import { ProxyMetrics } from "../observe/metrics.ts";
import { Observer } from "../observe/observer.ts";
import { availabilityOf, routeTableTargets } from "../observe/route-targets.ts";
import { StatusBoard } from "../observe/status.ts";
import { startTracing } from "../observe/tracing.ts";
import type { RouteTable } from "../routing/route-table.ts";
import { startMetricsListener } from "./observe-routes.ts";

export interface RunningObserver {
  readonly observer: Observer;
  /** The separate metrics listener's URL (AZURE_OPENAI_PROXY_METRICS=host:port). */
  readonly metricsUrl: string | undefined;
  /** Stops the metrics listener and sends the traces still buffered. */
  close(): Promise<void>;
}

/** Metrics, status page and traces for a proxy, as its configuration asks. */
export async function createObserver(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  routes: () => RouteTable,
): Promise<RunningObserver> {
  const targets = routeTableTargets(routes);
  const configured = (model: string) =>
    routes().configured(model) !== undefined || config.modelMapper.has(model.toLowerCase());
  let observer: Observer | undefined;
  const knownModel = (model: string) => observer?.knownModel(model) ?? configured(model);
  const openStreams = () => observer?.openStreams() ?? 0;
  const metrics =
    config.metrics.kind === "off"
      ? undefined
      : new ProxyMetrics({ knownModel, targets: availabilityOf(targets) });
  const status = new StatusBoard({ targets, openStreams, knownModel });
  observer = new Observer({ metrics, status, tracing: await startTracing(env), configured });
  if (metrics !== undefined) {
    // An "open streams" gauge reading the observer, not counted per chunk.
    metrics.openStreamsFrom(openStreams);
    if (cluster.isWorker && config.workers > 1) metrics.scrapeFrom(clusterScrape(metrics.registry));
  }
  let listener: Server | undefined;
  if (config.metrics.kind === "listener" && metrics !== undefined) {
    listener = await startMetricsListener(metrics, config.metrics.host, config.metrics.port);
  }
  const address = listener?.address();
  const tracing = observer.tracing;
  return {
    observer,
    metricsUrl:
      address && typeof address === "object"
        ? `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`
        : undefined,
    async close() {
      await new Promise<void>((resolve) =>
        listener ? listener.close(() => resolve()) : resolve(),
      );
      await tracing?.shutdown().catch(() => {});
    },
  };
}
