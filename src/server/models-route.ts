import type { IncomingHttpHeaders } from "node:http";
import { heldCredential, resourceCredential } from "../azure/credentials.ts";
import type { DeploymentListing, ListingProblem } from "../azure/deployments.ts";
import { getAzureJson } from "../azure/get-json.ts";
import { buildAzureUrl } from "../azure/request.ts";
import { modelAllowed } from "../config/clients.ts";
import type { ResourceConfig } from "../config/topology.ts";
import {
  clientKeyRefused,
  modelListUnavailable,
  modelNotFound,
  ProxyError,
  upstreamAuthFailed,
} from "../openai/errors.ts";
import type { ModelObject } from "../openai/models.ts";
import type { Operation } from "../openai/operations.ts";
import { translateAzureError } from "../proxy/azure-errors.ts";
import type { ProxyContext } from "../proxy/context.ts";
import type { RouteHandler } from "../proxy/operation-handler.ts";
import { sendJson } from "../proxy/respond.ts";
import { upstreamFailure } from "../proxy/upstream.ts";
import { modelProvider } from "../routing/model-family.ts";
import { listModels } from "../routing/model-list.ts";
import { resolveDeployment } from "../routing/resolve-deployment.ts";

/**
 * `GET /v1/models` and `GET /v1/models/{id}` answered by the proxy in OpenAI's shape: the
 * configured pools' model names, then what the fallback resource serves (from its deployment
 * listing where Azure offers one, from the configured mapping otherwise); and the original
 * proxy's `GET /v1/models/{id}/capabilities`, from Azure's model object.
 */
/** Azure's model object, asked for by the capabilities route (not a route of its own). */
const AZURE_MODEL: Operation = {
  id: "models.capabilities",
  method: "GET",
  path: "/v1/models/:model/capabilities",
  scope: "resource",
  model: "none",
  azurePath: "models/{model}",
};

/** The model routes, by path. */
export function modelRoutes(ctx: ProxyContext): Record<string, RouteHandler> {
  let lastWarning = 0;
  /** Warns (at most once a minute: clients poll this route) that names come from configuration. */
  const warnListingFailed = (resource: ResourceConfig, problem: ListingProblem) => {
    if (Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    ctx.logger.warn(
      { resource: resource.name, cause: problem.detail },
      `could not list the deployments of resource "${resource.name}" (${problemText(problem)}): /v1/models answers with the configured model names only`,
    );
  };
  const fallbackListing = async (
    headers: IncomingHttpHeaders,
  ): Promise<{ listing: DeploymentListing | null; failure?: () => ProxyError }> => {
    const resource = ctx.routes.topology.fallback;
    if (resource === undefined) return { listing: null };
    const auth = ctx.authenticate(headers);
    const credential = await resourceCredential(resource, auth, ctx.tokens);
    const { listing, problem } = await ctx.directoryFor(resource).getWithProblem(credential);
    if (problem === undefined) return { listing };
    return {
      listing,
      failure: () => {
        warnListingFailed(resource, problem);
        return listingFailure(resource, problem, heldCredential(resource, auth));
      },
    };
  };
  /**
   * The configured names, then the listing's. When Azure could not be asked (or refused), the
   * configured names still answer, with a warning; with none, the failure is the answer, so a
   * model picker does not show an empty list with no clue.
   */
  const models = async (headers: IncomingHttpHeaders): Promise<ModelObject[]> => {
    const { policy } = ctx.authenticate(headers).client;
    const configured: ModelObject[] = ctx.routes
      .configuredNames()
      .map((id) => ({ id, object: "model", created: 0, owned_by: modelProvider(id) }));
    const seen = new Set(configured.map((m) => m.id.toLowerCase()));
    const { listing, failure } = await fallbackListing(headers);
    const rest = listModels(listing, ctx.config.modelMapper).filter(
      (m) => !seen.has(m.id.toLowerCase()),
    );
    // A client with an allow-list sees only its models.
    const all = [...configured, ...rest].filter((m) => modelAllowed(policy, m.id));
    if (failure !== undefined) {
      const error = failure();
      if (all.length === 0) throw error;
    }
    return all;
  };

  const list: RouteHandler = async (request, response, _params, record) => {
    record.operation = "models.list";
    record.client = ctx.authenticate(request.headers).client.name;
    sendJson(response, 200, { object: "list", data: await models(request.headers) });
  };
  const retrieve: RouteHandler = async (request, response, params, record) => {
    record.operation = "models.retrieve";
    const name = params.model ?? "";
    const id = name.toLowerCase();
    const found = (await models(request.headers)).find((m) => m.id.toLowerCase() === id);
    if (found === undefined) throw modelNotFound(name);
    sendJson(response, 200, found);
  };
  const capabilities: RouteHandler = async (request, response, params, record) => {
    record.operation = "models.capabilities";
    const name = params.model ?? "";
    const resource = ctx.routes.topology.fallback;
    if (resource === undefined) throw modelNotFound(name);
    const credential = await resourceCredential(
      resource,
      ctx.authenticate(request.headers),
      ctx.tokens,
    );
    // A deployment (or a name resolving to one) is asked about by the model it serves.
    const known = await ctx.directoryFor(resource).get(credential);
    const deployment = resolveDeployment(name, ctx.config.modelMapper, known?.index ?? undefined);
    const served = known?.deployments.find((d) => d.id.toLowerCase() === deployment.toLowerCase());
    const azureModel = served?.model ?? name;
    const url = buildAzureUrl(resource, AZURE_MODEL, undefined, { model: azureModel }, "");
    let answer: Awaited<ReturnType<typeof getAzureJson>>;
    try {
      answer = await getAzureJson(ctx.agent, url, credential, ctx.config.timeouts.responseMs);
    } catch (error) {
      throw upstreamFailure(error);
    }
    if (answer.status >= 400) {
      sendJson(response, answer.status, translateAzureError(answer.status, answer.body));
      return;
    }
    let model: Record<string, unknown>;
    try {
      model = JSON.parse(answer.body.toString("utf8"));
    } catch {
      throw new ProxyError(
        502,
        "Azure OpenAI answered the model lookup with something other than JSON.",
      );
    }
    sendJson(response, 200, {
      id: name,
      object: "model",
      model: model.id ?? azureModel,
      capabilities: model.capabilities ?? {},
      lifecycle_status: model.lifecycle_status,
      deprecation: model.deprecation,
    });
  };
  return {
    "/v1/models": list,
    "/v1/models/:model": retrieve,
    "/v1/models/:model/capabilities": capabilities,
  };
}

/** Why /v1/models has nothing to answer: the operator's credential, the client's, or the network. */
function listingFailure(
  resource: ResourceConfig,
  problem: ListingProblem,
  held: string | undefined,
): ProxyError {
  if (problem.kind === "unreachable")
    return modelListUnavailable(resource.name, problemText(problem));
  return held !== undefined
    ? upstreamAuthFailed(held, `${problem.detail} listing deployments`)
    : clientKeyRefused(problem.detail);
}

function problemText(problem: ListingProblem): string {
  return problem.kind === "refused"
    ? `Azure refused the credential: ${problem.detail}`
    : `Azure could not be reached: ${problem.detail}`;
}
