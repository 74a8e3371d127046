import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import type { Agent } from "undici";
import type { DeploymentDirectory } from "../azure/deployments.ts";
import type { AzureTarget, UpstreamCredential } from "../azure/request.ts";
import type { Config } from "../config/config.ts";

/** Everything the routes share, built once at start-up. */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly agent: Agent;
  /** The Azure resource (azure mode). */
  readonly target: AzureTarget;
  readonly credentialFor: (headers: IncomingHttpHeaders) => UpstreamCredential;
  /** Azure mode only. */
  readonly directory: DeploymentDirectory | undefined;
  /** False once shutdown has begun. */
  ready: boolean;
}
