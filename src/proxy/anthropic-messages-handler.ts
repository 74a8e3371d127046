import type { IncomingHttpHeaders } from "node:http";
import { anthropicMessagesUrl, forClaude } from "../azure/anthropic-endpoint.ts";
import { resourceCredential } from "../azure/credentials.ts";
import { buildUpstreamHeaders, type UpstreamCredential } from "../azure/request.ts";
import { modelNotFound } from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import { poolFor } from "../routing/pool-for.ts";
import { planBody } from "./body-plan.ts";
import type { ProxyContext } from "./context.ts";
import { type ForwardPlan, forwardWithFailover } from "./failover.ts";
import {
  failoverLimits,
  ownCredentialRefused,
  type RouteHandler,
  refreshRefusedToken,
} from "./operation-handler.ts";
import type { UpstreamRequest } from "./upstream-call.ts";

/** The body rules of the native Messages route: JSON with the deployment in `model`. */
const MESSAGES: Operation = {
  id: "anthropic.messages",
  method: "POST",
  path: "/v1/messages",
  model: "json",
  scope: "deployment",
  azurePath: "messages",
  stream: "passthrough",
};

/** Anthropic's SDK sends its key as x-api-key: the proxy takes it as the client's key. */
function withClientKey(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const key = headers["x-api-key"];
  if (typeof key !== "string" || headers["api-key"] !== undefined || headers.authorization) {
    return headers;
  }
  return { ...headers, "api-key": key };
}

/**
 * `POST /v1/messages` (and the Go proxy's `/v1/anthropic/messages`): Anthropic-native clients
 * (the Anthropic SDK, Claude Code) reach Claude on Azure AI Foundry, `model` mapped to the
 * deployment, the answer and its event stream passed on untouched, errors in Anthropic's shape.
 */
export function anthropicMessagesHandler(ctx: ProxyContext): RouteHandler {
  const { config } = ctx;
  const relay = { stream: "passthrough" as const, keepAzureStreamArtefacts: true, rawErrors: true };
  return async (request, response, _params, record) => {
    record.operation = MESSAGES.id;
    const clientHeaders = withClientKey(request.headers);
    const auth = ctx.authenticate(clientHeaders);
    const routes = ctx.routes;
    const body = await planBody(MESSAGES, request, config, routes.topology.models.size > 0);
    const model = body.model;
    const pool = await poolFor(ctx, routes, auth, model);
    record.model = model;
    if (pool === undefined) throw modelNotFound(model ?? "");
    const plan: ForwardPlan = {
      pool,
      relay,
      targetHeader: config.targetHeader,
      credentialRefused: (target, refusal) => ownCredentialRefused(ctx, auth, target, refusal),
      request(target, attempt) {
        const { resource, deployment } = target;
        const bytes = body.bodyFor(deployment !== model ? deployment : undefined, attempt);
        if (bytes === undefined) return undefined;
        const build = (credential: UpstreamCredential): UpstreamRequest => {
          const headers = buildUpstreamHeaders(request.headers, undefined, bytes.length);
          headers["content-type"] = "application/json";
          const version = request.headers["anthropic-version"];
          headers["anthropic-version"] =
            typeof version === "string" ? version : config.anthropicVersion;
          if (credential.header === "api-key") headers["x-api-key"] = credential.value;
          else headers.authorization = credential.value;
          if (ctx.observer !== undefined) {
            Object.assign(headers, ctx.observer.attemptHeaders(record, target.id));
          }
          const url = anthropicMessagesUrl(resource.anthropicEndpoint ?? resource.endpoint);
          return { url, method: "POST", headers, body: bytes.body };
        };
        const credential = resourceCredential(forClaude(resource), auth, ctx.tokens);
        return credential instanceof Promise ? credential.then(build) : build(credential);
      },
      async reauthorize(target, refused, attempt) {
        // Azure refused an Entra token it had accepted: one fresh token, one more try.
        if (!(await refreshRefusedToken(ctx, forClaude(target.resource), refused)))
          return undefined;
        return await plan.request(target, attempt + 1);
      },
    };
    try {
      await forwardWithFailover(
        ctx.call,
        plan,
        response,
        record,
        failoverLimits(ctx, body.streaming),
      );
    } finally {
      await body.discard();
    }
  };
}

export const MESSAGES_ROUTE_PATHS = ["/v1/messages", "/v1/anthropic/messages"] as const;
