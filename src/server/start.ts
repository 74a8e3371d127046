import { type FSWatcher, watch } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { basename, dirname, resolve } from "node:path";
import pino, { type Logger } from "pino";
import { clientAuthenticator, proxyKeyCheck, resourceCredential } from "../azure/credentials.ts";
import { DeploymentDirectory } from "../azure/deployments.ts";
import { checkResource } from "../azure/resource-check.ts";
import { ANONYMOUS } from "../clients/authenticate.ts";
import { ClientLimiter, hasLimits } from "../clients/limiter.ts";
import { openLimitsStore } from "../clients/open-limits-store.ts";
import type { Config } from "../config/config.ts";
import {
  checkTopology,
  loadTopologyFile,
  type Topology,
  TopologyError,
  topologyFromEnv,
} from "../config/topology.ts";
import { createForwardProxy, type ForwardProxy } from "../forward/forward-proxy.ts";
import { EntraTokens } from "../identity/entra-tokens.ts";
import { OPERATIONS } from "../openai/operations.ts";
import type { ProxyContext } from "../proxy/context.ts";
import { createUpstreamAgent } from "../proxy/upstream.ts";
import { callUpstream } from "../proxy/upstream-call.ts";
import { HealthRegistry, RouteTable } from "../routing/route-table.ts";
import { ServedCertificate } from "../tls/certificates.ts";
import { createRequestListener } from "./app.ts";
import { answerClientError } from "./client-error.ts";
import { createObserver } from "./create-observer.ts";
import { loadForwardAuthority } from "./forward-mode.ts";
import { attachRealtime } from "./realtime.ts";
import { Shutdown } from "./shutdown.ts";

export interface RunningProxy {
  /** e.g. http://127.0.0.1:11437, or https://… when TLS files are configured */
  readonly url: string;
  /** An https.Server (which is also an http.Server) when TLS files are configured. */
  readonly server: Server;
  /** Microsoft Entra ID tokens of the keyless resources. */
  readonly tokens: EntraTokens;
  /** The certificate served, when TLS files are configured. */
  readonly certificate: ServedCertificate | undefined;
  /** The separate metrics listener, when AZURE_OPENAI_PROXY_METRICS is host:port. */
  readonly metricsUrl: string | undefined;
  /**
   * Stops accepting connections, lets in-flight requests and streams finish for up to
   * `timeoutMs`, then closes what is left.
   */
  close(timeoutMs?: number): Promise<void>;
  /** Re-reads the configuration file; false (and a log line) when the new file is refused. */
  reload(): Promise<boolean>;
}

/**
 * Calls `onChange` (debounced) when a file changes. The folder is watched, not the file, since
 * editors and Kubernetes config maps replace a file rather than write to it.
 */
function watchFile(path: string, onChange: () => void): () => void {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(resolve(path)), (_event, changed) => {
      if (changed !== null && changed !== name && !changed.startsWith("..")) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, 200);
    });
  } catch {
    return () => {};
  }
  watcher.on("error", () => {});
  watcher.unref();
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

/**
 * The one logger. No redaction pass: log calls name the fields they write (request lines are built
 * field by field in request-log.ts) and never pass headers or config objects, so no key can reach
 * a line; a test checks that. Redaction paths cost ~7 µs per line (profiled) for nothing.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level };
  return pino(options, destination ?? batchedStdout());
}

/**
 * Stdout, written asynchronously (a slow pipe or log shipper must not stall requests) in batches
 * of at least 4 KB, flushed twice a second: one line per request cost a system call and a
 * thread-pool round trip each (profiled), which a batch shares among dozens of lines.
 */
function batchedStdout(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => stream.flush(), 500).unref();
  // A closed stdout (EPIPE: the log reader went away) loses log lines; it must not stop serving.
  stream.on("error", () => {});
  return stream;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Where `${VAR}` in the configuration file is looked up. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reload the configuration file when it changes (default true). */
  readonly watch?: boolean;
}

/** The topology from the configuration file, or the one resource of env-only configuration. */
export async function loadTopology(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Topology> {
  const topology =
    config.configFile === undefined
      ? topologyFromEnv(config.azure, config.studioDeployments)
      : await loadTopologyFile(config.configFile, config.azure, env, config);
  checkTopology(topology, config);
  return topology;
}

/** Builds everything from the config and listens. */
export async function startProxy(
  config: Config,
  options: StartOptions = {},
): Promise<RunningProxy> {
  const log = options.logger ?? createLogger(config.logLevel);
  const env = options.env ?? process.env;
  const topology = await loadTopology(config, env);
  if (config.mode === "azure" && topology.fallback === undefined && topology.models.size === 0) {
    throw new Error("startProxy needs an Azure endpoint or a configuration file in azure mode");
  }
  const agent = createUpstreamAgent(config);
  const limiter = new ClientLimiter({
    store: await openLimitsStore(config.redisUrl),
    failClosed: config.redisFailClosed,
    log: log.child({ component: "client-limits" }),
  });
  // Each worker would count on its own and the limits would multiply: refuse, as issue 14 asks.
  if (config.workers > 1 && config.redisUrl === undefined && hasClientLimits(topology)) {
    throw new TopologyError(topology.source, [
      `clients: limits need AZURE_OPENAI_PROXY_REDIS_URL with AZURE_OPENAI_PROXY_WORKERS=${config.workers}: each worker process would count on its own and the limits would multiply`,
    ]);
  }
  const registry = new HealthRegistry();
  const tokens = new EntraTokens(topology.resources.values());
  tokens.start();
  const directories = new Map<string, DeploymentDirectory>();
  // Read when scraped or shown, by which time ctx exists.
  const observing = await createObserver(config, env, () => ctx.routes);
  observing.observer.status.configLoaded(topology.source);
  const ctx: ProxyContext = {
    observer: observing.observer,
    config,
    logger: log,
    agent,
    call: (request, options) => callUpstream(agent, request, options),
    authenticate: clientAuthenticator(config, topology.clients),
    limiter,
    routes: new RouteTable(topology, registry),
    directoryFor(resource) {
      let directory = directories.get(resource.endpoint);
      if (directory === undefined) {
        directory = new DeploymentDirectory({ agent, endpoint: resource.endpoint });
        directories.set(resource.endpoint, directory);
      }
      return directory;
    },
    tokens,
    ready: true,
  };
  const shutdown = new Shutdown(ctx);
  const authority = config.forward.enabled
    ? await loadForwardAuthority(config.forward, log)
    : undefined;
  const pipeline = shutdown.track(
    createRequestListener(ctx, { caCertificatePem: authority?.certificatePem }),
  );
  const serverOptions = {
    // Load balancers keep connections longer than Node's 5 s; closing first races their reuse.
    keepAliveTimeout: 72_000,
    // Headers and body must have arrived by then (408); the body-idle guard acts sooner.
    requestTimeout: config.timeouts.requestBodyMs,
    // How often that is checked (Node's default, 30 s, would let a short limit run long).
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, config.timeouts.requestBodyMs / 4)),
  };
  // HTTPS_PROXY mode: requests inside CONNECT tunnels and absolute-form requests go through the
  // same pipeline as direct ones, WebSocket upgrades through the same upgrade handler.
  const forward: ForwardProxy | undefined =
    authority &&
    createForwardProxy({
      settings: config.forward,
      authority,
      handleRequest: pipeline,
      handleUpgrade: (request, socket, head) => {
        if (!server.emit("upgrade", request, socket, head)) socket.destroy();
      },
      acceptsKey: proxyKeyCheck(config),
      log,
      serverOptions,
    });
  const listener: typeof pipeline =
    forward === undefined
      ? pipeline
      : (request, response) => {
          if (!forward.handleAbsoluteForm(request, response)) pipeline(request, response);
        };
  const tlsFiles = config.tls ?? topology.tls;
  const certificate =
    tlsFiles === undefined
      ? undefined
      : await ServedCertificate.load(tlsFiles, {
          onReload: (pair) =>
            log.info(
              { subject: pair.subject, validTo: pair.validTo, fingerprint256: pair.fingerprint256 },
              "TLS certificate reloaded; new connections get it",
            ),
          onError: (error) =>
            log.error(
              { problem: error.message },
              "TLS certificate not reloaded; the old one stays",
            ),
        });
  let server: Server;
  if (certificate === undefined) server = createServer(serverOptions, listener);
  else {
    const secure = createHttpsServer(
      { ...serverOptions, ...certificate.serverOptions() },
      listener,
    );
    certificate.serve(secure);
    server = secure;
  }
  if (forward !== undefined) server.on("connect", forward.handleConnect);
  server.on("clientError", answerClientError);
  const realtimeOperation = OPERATIONS.find((o) => o.websocket);
  const realtime =
    config.mode === "azure" && realtimeOperation
      ? attachRealtime(server, ctx, realtimeOperation)
      : undefined;
  await listen(server, config.host, config.port);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const shownHost = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;

  // With a server-held key or Entra ID, learn the fallback resource's deployments now.
  const prefetch = (routes: RouteTable) => {
    const fallback = routes.topology.fallback;
    if (config.mode !== "azure" || fallback === undefined) return;
    if (fallback.apiKey !== undefined) {
      ctx.directoryFor(fallback).prefetch({ header: "api-key", value: fallback.apiKey });
    } else if (fallback.entra !== undefined) {
      const cache = tokens.for(fallback.entra);
      cache
        .token()
        .then((token) =>
          ctx.directoryFor(fallback).prefetch({
            header: "authorization",
            value: `Bearer ${token}`,
            cacheKey: cache.cacheKey,
          }),
        )
        .catch(() => {});
    }
  };
  prefetch(ctx.routes);
  if (config.mode === "azure" && !config.azure.emulator) {
    void checkResources(ctx, log).catch(() => {});
  }

  /** Swaps in a new route table; requests in flight keep the one they started with. */
  const reload = async (why: string): Promise<boolean> => {
    try {
      const next = new RouteTable(await loadTopology(config, env), registry);
      tokens.track(next.topology.resources.values());
      ctx.routes = next;
      observing.observer.status.configLoaded(next.topology.source);
      ctx.authenticate = clientAuthenticator(config, next.topology.clients);
      prefetch(next);
      log.info(
        {
          why,
          config: config.configFile,
          resources: next.topology.resources.size,
          models: next.topology.models.size,
          clients: next.topology.clients.size,
        },
        "configuration reloaded",
      );
      return true;
    } catch (error) {
      log.error(
        {
          why,
          config: config.configFile,
          problems: (error as TopologyError).problems ?? [(error as Error).message],
        },
        "configuration reload refused; the running configuration stays",
      );
      return false;
    }
  };
  const stopWatching =
    config.configFile !== undefined && options.watch !== false
      ? watchFile(config.configFile, () => void reload("file changed"))
      : () => {};

  let closing: Promise<void> | undefined;
  return {
    url: `${certificate === undefined ? "http" : "https"}://${shownHost}:${address.port}`,
    server,
    tokens,
    certificate,
    metricsUrl: observing.metricsUrl,
    reload: () => reload("requested"),
    close(timeoutMs = config.timeouts.shutdownMs) {
      closing ??= (async () => {
        stopWatching();
        certificate?.close();
        tokens.close();
        try {
          await shutdown.drain(
            server,
            timeoutMs,
            () => {
              realtime?.closeAll();
              forward?.close();
            },
            () => realtime?.open ?? 0,
          );
        } finally {
          await agent.close().catch(() => {});
          await observing.close();
          await limiter.close().catch(() => {});
        }
      })();
      return closing;
    },
  };
}

function hasClientLimits(topology: Topology): boolean {
  return [...topology.clients.values()].some((client) => hasLimits(client.policy.limits));
}

/** Listens; a taken port rejects with the listen error (main.ts words it). */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** One warning per resource that Azure refuses or that cannot be reached (see checkResource). */
async function checkResources(ctx: ProxyContext, log: Logger): Promise<void> {
  const server = {
    azureKey: undefined,
    proxyKey: true,
    authorization: undefined,
    client: ANONYMOUS,
  };
  for (const resource of ctx.routes.topology.resources.values()) {
    if (resource.apiKey === undefined && resource.entra === undefined) continue;
    let warning: string | undefined;
    try {
      const credential = await resourceCredential(resource, server, ctx.tokens);
      warning = await checkResource(ctx.agent, resource, credential, ctx.config.timeouts.connectMs);
    } catch (error) {
      warning = `resource "${resource.name}": no Microsoft Entra ID token (${(error as Error).message})`;
    }
    if (warning !== undefined) log.warn({ resource: resource.name }, warning);
  }
}
