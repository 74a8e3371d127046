import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { credentialResolver } from "../azure/credentials.ts";
import { DeploymentDirectory } from "../azure/deployments.ts";
import type { Config } from "../config/config.ts";
import { OPERATIONS } from "../openai/operations.ts";
import { createUpstreamAgent } from "../proxy/upstream.ts";
import { buildApp } from "./app.ts";
import type { AppContext } from "./context.ts";
import { attachRealtime } from "./realtime.ts";

export interface RunningProxy {
  /** e.g. http://127.0.0.1:11437 */
  readonly url: string;
  readonly app: FastifyInstance;
  /**
   * Stops accepting connections, lets in-flight requests and streams finish for up to
   * `timeoutMs`, then closes what is left.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Pino with every credential-bearing field redacted, in case a header ever reaches a log call. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers['api-key']",
        "headers.authorization",
        "headers['api-key']",
        "*.apiKey",
      ],
      censor: "[redacted]",
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** Builds everything from the config and listens. */
export async function startProxy(config: Config, logger?: Logger): Promise<RunningProxy> {
  const log = logger ?? createLogger(config.logLevel);
  const endpoint = config.azure.endpoint;
  if (config.mode === "azure" && endpoint === undefined) {
    throw new Error("startProxy needs config.azure.endpoint in azure mode");
  }
  const agent = createUpstreamAgent(config);
  const ctx: AppContext = {
    config,
    logger: log,
    agent,
    target: {
      endpoint: endpoint ?? "",
      apiStyle: config.azure.apiStyle,
      apiVersion: config.azure.apiVersion,
    },
    credentialFor: credentialResolver(config),
    directory:
      config.mode === "azure" && endpoint !== undefined
        ? new DeploymentDirectory({ agent, endpoint })
        : undefined,
    ready: true,
  };
  const app = buildApp(ctx);
  const realtimeOperation = OPERATIONS.find((o) => o.websocket);
  const realtime =
    config.mode === "azure" && realtimeOperation
      ? attachRealtime(app.server, ctx, realtimeOperation)
      : undefined;
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const shownHost = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;

  // With a server-held key, learn the deployments now so the first requests can use them.
  if (ctx.directory !== undefined && config.azure.apiKey !== undefined) {
    ctx.directory.prefetch({ header: "api-key", value: config.azure.apiKey });
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    app,
    close(timeoutMs = config.timeouts.shutdownMs) {
      closing ??= (async () => {
        ctx.ready = false;
        const force = setTimeout(() => {
          realtime?.closeAll();
          app.server.closeAllConnections();
        }, timeoutMs);
        // Keep-alive connections that finish their request during the grace period are closed
        // as soon as they go idle, not when their keep-alive timeout runs out.
        const idle = setInterval(() => app.server.closeIdleConnections(), 100);
        force.unref();
        idle.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(force);
          clearInterval(idle);
          await agent.close().catch(() => {});
        }
      })();
      return closing;
    },
  };
}
