/**
 * Decides what a fully received request gets, up to the point where a deployment would run it:
 * Azure's checks in Azure's order (route, key, api-version, body, deployment, model capability),
 * and the authoring answers (deployment and model listings). Pure.
 */
import type { IncomingHttpHeaders } from "node:http";
import { checkApiVersion } from "./api-version.ts";
import { type CredentialCheck, isAuthorized, sentDisabledKey } from "./auth.ts";
import type { ReceivedBody } from "./body.ts";
import {
  deploymentObject,
  type FineTunedModel,
  fineTunedModelObject,
  modelObject,
  modelsOf,
  operationsOf,
  servingFamilyOf,
} from "./catalog.ts";
import { type AzureError, azureErrors } from "./errors.ts";
import { INFERENCE_OPERATIONS, type InferenceOp } from "./operations.ts";
import { errorReply, type Reply } from "./reply.ts";
import { MODEL_IS_DEPLOYMENT, type ResourceOp } from "./resources/routes.ts";
import { type ApiStyle, matchRoute, type Route } from "./routes.ts";
import type { EmulatorDeployment, RecordedMultipart } from "./types.ts";

/** The emulated resource, precomputed once per emulator. */
export interface Resource {
  deployments: ReadonlyMap<string, EmulatorDeployment>;
  credentials: CredentialCheck;
  listDeployments: boolean;
  /** Models made by fine-tuning jobs of this resource, listed after the base models. */
  fineTunedModels: () => readonly FineTunedModel[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: ReceivedBody;
}

/** An inference request that passed every resource-level check. */
export interface InferenceCall {
  op: InferenceOp;
  deployment: EmulatorDeployment;
  /** The api-version as Azure names it in messages ("v1" for the v1 style). */
  apiVersion: string;
  /** The JSON body ({} for multipart operations). */
  json: Record<string, unknown>;
  multipart?: RecordedMultipart;
}

/** A resource-scoped request that passed the route, key and api-version checks. */
export interface ResourceCall {
  op: ResourceOp;
  style: ApiStyle;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: ReceivedBody;
}

export type Dispatch =
  | { kind: "reply"; reply: Reply }
  | { kind: "inference"; call: InferenceCall }
  | { kind: "resource"; call: ResourceCall };

const reply = (r: Reply): Dispatch => ({ kind: "reply", reply: r });
const ok = (body: unknown): Dispatch => reply({ kind: "json", status: 200, body });
const fail = (error: AzureError): Dispatch => reply(errorReply(error));

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The deployment a request names: its path (dated) or its body's `model` (v1); for resource
 * routes whose `model` is a deployment (responses, assistants, runs), the body's `model`.
 */
export function deploymentName(route: Route | undefined, body: ReceivedBody): string | undefined {
  if (route?.kind === "resource") {
    const model = MODEL_IS_DEPLOYMENT.has(route.op) && isObject(body.json) ? body.json.model : "";
    return typeof model === "string" && model !== "" ? model : undefined;
  }
  if (route?.kind !== "inference") return undefined;
  if (route.style === "dated") return route.deployment;
  const model = isObject(body.json) ? body.json.model : body.multipart?.fields.model;
  return typeof model === "string" && model !== "" ? model : undefined;
}

/** Checks the body has the encoding the operation needs; returns the JSON object, if any. */
function checkBody(
  op: InferenceOp,
  body: ReceivedBody,
): { json: Record<string, unknown> } | Dispatch {
  if (INFERENCE_OPERATIONS[op].body === "multipart") {
    if (body.multipart === undefined) {
      return fail(azureErrors.badRequest("This operation expects a multipart/form-data body."));
    }
    if (body.multipartError !== undefined) return fail(azureErrors.badRequest(body.multipartError));
    return { json: {} };
  }
  if (body.multipart !== undefined) {
    return fail(
      azureErrors.badRequest(
        "This operation expects a JSON body (Content-Type: application/json).",
      ),
    );
  }
  if (body.jsonError !== undefined) {
    return fail(
      azureErrors.badRequest(`Failed to parse the request body as JSON: ${body.jsonError}`),
    );
  }
  if (!isObject(body.json)) {
    return fail(azureErrors.badRequest("The request body must be a JSON object."));
  }
  return { json: body.json };
}

function dispatchInference(
  route: Extract<Route, { kind: "inference" }>,
  request: ReceivedRequest,
  resource: Resource,
): Dispatch {
  const findDeployment = (name: string) => resource.deployments.get(name);
  let deployment: EmulatorDeployment | undefined;
  if (route.style === "dated") {
    // Azure looks the deployment up before it reads the body. Foundry models (DeepSeek, Llama,
    // …) have no deployment path: they answer only through the v1 API.
    deployment = findDeployment(route.deployment);
    if (deployment === undefined || servingFamilyOf(deployment.model) === "foundry") {
      return fail(azureErrors.deploymentNotFound());
    }
  }
  const checked = checkBody(route.op, request.body);
  if ("kind" in checked) return checked;
  if (deployment === undefined) {
    const name = deploymentName(route, request.body);
    if (name === undefined) {
      return fail(
        azureErrors.badRequest("The 'model' parameter is required: set it to the deployment name."),
      );
    }
    deployment = findDeployment(name);
    if (deployment === undefined) return fail(azureErrors.deploymentNotFound());
  }
  if (!operationsOf(deployment.model).includes(route.op)) {
    const { azureName } = INFERENCE_OPERATIONS[route.op];
    return fail(azureErrors.operationNotSupported(azureName, deployment.model));
  }
  return {
    kind: "inference",
    call: {
      op: route.op,
      deployment,
      apiVersion: request.query["api-version"] ?? "v1",
      json: checked.json,
      multipart: request.body.multipart,
    },
  };
}

export function dispatch(request: ReceivedRequest, resource: Resource): Dispatch {
  const route = matchRoute(request.method, request.path);
  if (route === undefined) return fail(azureErrors.resourceNotFound());
  if (!isAuthorized(route.style, request.headers, resource.credentials)) {
    return fail(
      sentDisabledKey(request.headers, resource.credentials)
        ? azureErrors.keyAuthDisabled()
        : azureErrors.accessDenied(),
    );
  }
  const versionError = checkApiVersion(route.style, request.query["api-version"]);
  if (versionError !== undefined) return fail(versionError);

  const deployments = [...resource.deployments.values()];
  const models = () => [
    ...modelsOf(deployments).map(modelObject),
    ...resource.fineTunedModels().map(fineTunedModelObject),
  ];
  switch (route.kind) {
    case "inference":
      return dispatchInference(route, request, resource);
    case "resource": {
      const { op, style, params } = route;
      const { query, headers, body } = request;
      return { kind: "resource", call: { op, style, params, query, headers, body } };
    }
    case "list-deployments":
      if (!resource.listDeployments) return fail(azureErrors.resourceNotFound());
      return ok({ data: deployments.map(deploymentObject), object: "list" });
    case "get-deployment": {
      if (!resource.listDeployments) return fail(azureErrors.resourceNotFound());
      const deployment = resource.deployments.get(route.id);
      return deployment === undefined
        ? fail(azureErrors.deploymentNotFound())
        : ok(deploymentObject(deployment));
    }
    case "list-models":
      return ok({ data: models(), object: "list" });
    case "get-model": {
      const model = models().find((m) => m.id === route.id);
      return model === undefined ? fail(azureErrors.resourceNotFound()) : ok(model);
    }
  }
}
