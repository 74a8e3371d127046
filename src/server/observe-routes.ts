import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { checkAdminAccess } from "../observe/admin-access.ts";
import type { ProxyMetrics } from "../observe/metrics.ts";
import type { Observer } from "../observe/observer.ts";
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from "../observe/status-page.ts";
import { unknownRoute } from "../openai/errors.ts";
import type { RouteHandler } from "../proxy/operation-handler.ts";
import { sendError, sendJson } from "../proxy/respond.ts";

export interface ObserveRouteOptions {
  /** `/metrics` on the main port (false: off, or on a listener of its own). */
  readonly metricsOnMain: boolean;
  readonly adminKey: string | undefined;
  /** Whether clients (keys) are configured: then the status page needs the admin key. */
  readonly clientsConfigured: () => boolean;
}

/** GET routes of the main port: `/metrics` (when served there), `/status`, `/status.json`. */
export function observeRoutes(
  observer: Observer,
  options: ObserveRouteOptions,
): Record<string, RouteHandler> {
  const guard = (request: IncomingMessage) => {
    const refused = checkAdminAccess(
      request.headers,
      options.adminKey,
      options.clientsConfigured(),
    );
    if (refused !== undefined) throw refused;
  };
  const routes: Record<string, RouteHandler> = {
    "/status": (request, response) => {
      guard(request);
      response.writeHead(200, STATUS_PAGE_HEADERS);
      response.end(STATUS_PAGE_HTML);
    },
    "/status.json": (request, response) => {
      guard(request);
      sendJson(response, 200, observer.status.snapshot(), { "cache-control": "no-store" });
    },
  };
  const metrics = observer.metrics;
  if (options.metricsOnMain && metrics !== undefined) {
    routes["/metrics"] = (_request, response) => sendMetrics(metrics, response);
  }
  return routes;
}

async function sendMetrics(metrics: ProxyMetrics, response: ServerResponse): Promise<void> {
  const text = await metrics.scrape();
  response.writeHead(200, {
    "content-type": metrics.contentType,
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

/** A listener of its own serving only `GET /metrics` (AZURE_OPENAI_PROXY_METRICS=host:port). */
export async function startMetricsListener(
  metrics: ProxyMetrics,
  host: string,
  port: number,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?", 1)[0];
    if ((request.method === "GET" || request.method === "HEAD") && path === "/metrics") {
      sendMetrics(metrics, response).catch(() => response.destroy());
      return;
    }
    sendError(response, unknownRoute(request.method ?? "", path ?? ""));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
