import { type ClientAuth, resourceCredential } from "../azure/credentials.ts";
import type { DeploymentDirectory } from "../azure/deployments.ts";
import { isSafeModelName } from "../config/model-name.ts";
import type { ResourceConfig } from "../config/topology.ts";
import type { EntraTokens } from "../identity/entra-tokens.ts";
import { invalidModelName, missingModel } from "../openai/errors.ts";
import type { Pool } from "./pool.ts";
import { resolveDeployment } from "./resolve-deployment.ts";
import type { RouteTable } from "./route-table.ts";

/** How long the first request for a key waits for the deployment listing before going without. */
const LISTING_WAIT_MS = 3000;

/** What resolving a model name needs besides the route table. */
export interface ModelResolution {
  /** AZURE_OPENAI_MODEL_MAPPER, lower-cased names. */
  readonly config: { readonly modelMapper: ReadonlyMap<string, string> };
  /** The deployment listing of a resource (one directory per endpoint). */
  readonly directoryFor: (resource: ResourceConfig) => DeploymentDirectory;
  /** Tokens for keyless resources' listings. */
  readonly tokens: EntraTokens;
}

/**
 * The pool for a model name: checked so it cannot change any URL's shape; then the configured
 * pool for it, else one target on the fallback resource with the deployment the env-style rules
 * give (mapper, built-in table, the resource's deployments, the name itself).
 */
export async function poolFor(
  resolution: ModelResolution,
  routes: RouteTable,
  auth: ClientAuth,
  model: string | undefined,
): Promise<Pool | undefined> {
  if (model === undefined) throw missingModel();
  if (!isSafeModelName(model)) throw invalidModelName(model);
  const configured = routes.configured(model);
  if (configured !== undefined) return configured;
  const resource = routes.topology.fallback;
  if (resource === undefined) return undefined;
  return routes.fallback(await fallbackDeployment(resolution, resource, auth, model));
}

async function fallbackDeployment(
  resolution: ModelResolution,
  resource: ResourceConfig,
  auth: ClientAuth,
  model: string,
): Promise<string> {
  const mapper = resolution.config.modelMapper;
  if (mapper.has(model.toLowerCase())) return resolveDeployment(model, mapper);
  const credential = await resourceCredential(resource, auth, resolution.tokens);
  const listing = await resolution.directoryFor(resource).get(credential, LISTING_WAIT_MS);
  return resolveDeployment(model, mapper, listing?.index);
}
