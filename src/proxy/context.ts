import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import type { Agent } from "undici";
import type { ClientAuth } from "../azure/credentials.ts";
import type { DeploymentDirectory } from "../azure/deployments.ts";
import type { ClientLimiter } from "../clients/limiter.ts";
import type { Config } from "../config/config.ts";
import type { ResourceConfig } from "../config/topology.ts";
import type { EntraTokens } from "../identity/entra-tokens.ts";
import type { Observer } from "../observe/observer.ts";
import type { RouteTable } from "../routing/route-table.ts";
import type { UpstreamCall } from "./upstream-call.ts";

/** Everything the request path shares, built once at start-up. */
export interface ProxyContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly agent: Agent;
  /** One upstream attempt over that agent. */
  readonly call: UpstreamCall;
  /** Who the client is; replaced with the client list when the configuration file is reloaded. */
  authenticate: (headers: IncomingHttpHeaders) => ClientAuth;
  /** Client limits and usage (memory or Redis); its counters outlive reloads. */
  readonly limiter: ClientLimiter;
  /** Where requests go; replaced whole when the configuration file is reloaded. */
  routes: RouteTable;
  /** The deployment listing of a resource (one directory per endpoint). */
  readonly directoryFor: (resource: ResourceConfig) => DeploymentDirectory;
  /** Microsoft Entra ID tokens of the keyless resources (none when every resource uses keys). */
  readonly tokens: EntraTokens;
  /** False once shutdown has begun. */
  ready: boolean;
  /** Metrics, status page and traces; fed from the request record. */
  readonly observer?: Observer;
}
