import type { IncomingMessage, ServerResponse } from "node:http";
import {
  bearerToken,
  type ClientAuth,
  heldCredential,
  resourceCredential,
  upstreamCredential,
} from "../azure/credentials.ts";
import { buildAzureUrl, buildUpstreamHeaders, type UpstreamCredential } from "../azure/request.ts";
import { modelAllowed } from "../config/clients.ts";
import type { ResourceConfig } from "../config/topology.ts";
import type { RequestRecord } from "../observe/request-record.ts";
import {
  modelNotAllowed,
  modelNotFound,
  type ProxyError,
  upstreamAuthFailed,
} from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import type { Pool } from "../routing/pool.ts";
import { poolFor } from "../routing/pool-for.ts";
import type { RouteTable } from "../routing/route-table.ts";
import type { Target } from "../routing/target.ts";
import { translateAzureError } from "./azure-errors.ts";
import { type AttemptBody, planBody, streamedBody } from "./body-plan.ts";
import type { ProxyContext } from "./context.ts";
import {
  type AzureErrorOutcome,
  type FailoverLimits,
  type ForwardPlan,
  forwardWithFailover,
} from "./failover.ts";
import { requestStreamUsage } from "./json-body.ts";
import { buildOpenAIUrl } from "./openai-url.ts";
import { declaredLength } from "./read-body.ts";
import type { UpstreamRequest } from "./upstream-call.ts";

/** Path parameters of a route, as the router decoded them. */
export type RouteParams = Readonly<Record<string, string | undefined>>;

/**
 * Serves one request on a route: the server calls it with node:http's objects, the route's
 * decoded parameters and the request's record, and it answers (or throws a ProxyError, which
 * the server turns into an answer).
 */
export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  params: RouteParams,
  record: RequestRecord,
) => Promise<void> | void;

/** The handler for one row of the operation table, in azure mode. */
export function operationHandler(operation: Operation, ctx: ProxyContext): RouteHandler {
  const { config } = ctx;
  const relay = {
    stream: operation.stream,
    keepAzureStreamArtefacts: config.keepAzureStreamArtefacts,
  };
  // Chat and completion streams report tokens only when asked: the proxy asks, and hides the
  // answer from a client that did not.
  const streamAsksUsage = operation.stream === "chat";
  return async (request, response, params, record) => {
    record.operation = operation.id;
    const auth = ctx.authenticate(request.headers);
    const { client } = auth;
    record.client = client.name;
    const routes = ctx.routes;
    const body = await planBody(operation, request, config, routes.topology.models.size > 0);
    const model = body.model;
    if (model !== undefined) record.model = model;
    try {
      if (model !== undefined && !modelAllowed(client.policy, model)) {
        throw modelNotAllowed(model, client.name);
      }
      const original = streamAsksUsage ? body.bodyFor(undefined, 0)?.body : undefined;
      const hideStreamUsage =
        body.streaming && Buffer.isBuffer(original) && requestStreamUsage(original) !== undefined;
      // Deployment-scoped rows need a model; resource rows map theirs when the body has one.
      let pool: Pool | undefined;
      if (operation.scope === "deployment" || model !== undefined) {
        pool = await poolFor(ctx, routes, auth, model);
      } else {
        pool = routes.fallback(undefined);
      }
      if (pool === undefined) throw modelNotFound(model ?? "");
      // Nothing is forwarded for a refused request; the headers go on every answer after this.
      const limitHeaders = await ctx.limiter.admit(client);
      for (const name in limitHeaders) response.setHeader(name, limitHeaders[name] as string);

      const query = queryOf(request);
      const plan: ForwardPlan = {
        pool,
        relay: {
          ...relay,
          headers: limitHeaders,
          hideStreamUsage,
        },
        targetHeader: config.targetHeader,
        credentialRefused: (target, refusal) => ownCredentialRefused(ctx, auth, target, refusal),
        request(target: Target, attempt: number) {
          const { resource, deployment } = target;
          // The deployment travels in `model` in the v1 style, and always on resource rows.
          const inBody =
            deployment !== undefined &&
            deployment !== model &&
            (resource.apiStyle === "v1" || operation.scope === "resource");
          const chosen = body.bodyFor(inBody ? deployment : undefined, attempt);
          if (chosen === undefined) return undefined;
          const sent =
            hideStreamUsage && streamUsageKnown(resource) ? withStreamUsage(chosen) : chosen;
          const build = (credential: UpstreamCredential) => {
            const headers = buildUpstreamHeaders(request.headers, credential, sent.length);
            if (sent.contentType !== undefined) headers["content-type"] = sent.contentType;
            if (ctx.observer !== undefined) {
              Object.assign(headers, ctx.observer.attemptHeaders(record, target.id));
            }
            const url = buildAzureUrl(resource, operation, deployment, params, query);
            return { url, method: request.method ?? "GET", headers, body: sent.body };
          };
          const credential = resourceCredential(resource, auth, ctx.tokens);
          return credential instanceof Promise ? credential.then(build) : build(credential);
        },
        async reauthorize(target, refused, attempt) {
          if (!(await refreshRefusedToken(ctx, target.resource, refused))) return undefined;
          return await plan.request(target, attempt + 1);
        },
      };
      await forwardWithFailover(
        ctx.call,
        plan,
        response,
        record,
        failoverLimits(ctx, body.streaming),
      );
    } finally {
      await body.discard();
      chargeClient(ctx, record);
    }
  };
}

/**
 * `stream_options` exists from api-version 2024-09-01-preview on (and in the v1 style); older
 * versions would refuse the request it is added to.
 */
export function streamUsageKnown(resource: { apiStyle: string; apiVersion: string }): boolean {
  return resource.apiStyle === "v1" || resource.apiVersion >= "2024-09-01";
}

/** The body with `stream_options.include_usage` on, when it is JSON that did not ask. */
export function withStreamUsage(sent: AttemptBody): AttemptBody {
  if (!Buffer.isBuffer(sent.body)) return sent;
  const asked = requestStreamUsage(sent.body);
  return asked === undefined ? sent : { ...sent, body: asked, length: asked.length };
}

/** Charges an answered request to its client: tokens from Azure's usage, or the request alone. */
export function chargeClient(ctx: ProxyContext, record: RequestRecord): void {
  if (record.target === undefined || record.client === undefined) return;
  ctx.limiter.charge({
    client: record.client,
    model: record.model ?? "",
    deployment: record.deployment ?? "",
    tokens: record.usage,
  });
}

/** In openai mode every request goes to OpenAI as it came, the client's key included. */
export function openaiPassthroughHandler(ctx: ProxyContext, routes: RouteTable): RouteHandler {
  const base = ctx.config.openaiEndpoint;
  const relay = { stream: undefined, keepAzureStreamArtefacts: true };
  return async (request, response, _params, record) => {
    const auth = ctx.authenticate(request.headers);
    const method = request.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD" && method !== "DELETE";
    const url = buildOpenAIUrl(base, request.url ?? "/");
    const body = hasBody ? streamedBody(request, ctx.config.maxUploadSize) : undefined;
    const pool = routes.fallback(undefined) as Pool;
    const plan: ForwardPlan = {
      pool,
      relay,
      targetHeader: false,
      request(target, attempt) {
        if (attempt > 0) return undefined;
        const length = hasBody ? declaredLength(request) : undefined;
        const credential = upstreamCredential(target.resource, auth);
        const headers = buildUpstreamHeaders(request.headers, credential, length);
        return {
          url,
          method,
          headers,
          body,
        };
      },
    };
    await forwardWithFailover(ctx.call, plan, response, record, {
      ...failoverLimits(ctx, false),
      maxAttempts: 1,
    });
  };
}

/** Azure refused the proxy's own credential: warn the operator, and do not blame the client. */
export function ownCredentialRefused(
  ctx: ProxyContext,
  auth: ClientAuth,
  target: Target,
  refusal: AzureErrorOutcome,
): ProxyError | undefined {
  const credential = heldCredential(target.resource, auth);
  if (credential === undefined) return undefined;
  const detail = `${refusal.status}: ${translateAzureError(refusal.status, refusal.body).error.message}`;
  ctx.logger.warn(
    { resource: target.resource.name, status: refusal.status },
    `Azure refused the proxy's ${credential} credential: check it in the configuration`,
  );
  return upstreamAuthFailed(credential, detail.slice(0, 300));
}

/** The attempts and deadlines of one request; a stream may wait longer for its first byte. */
export function failoverLimits(ctx: ProxyContext, streaming: boolean): FailoverLimits {
  const { config } = ctx;
  return {
    maxAttempts: config.maxAttempts,
    headersTimeoutMs: streaming ? config.timeouts.streamFirstByteMs : config.timeouts.responseMs,
    bodyTimeoutMs: config.timeouts.idleMs,
    totalMs: config.timeouts.totalMs,
  };
}

/**
 * Azure refused an Entra token it had accepted (revoked, rotated): that token is refreshed, so
 * the caller can try once more. False when the refused request carried no Entra token.
 */
export async function refreshRefusedToken(
  ctx: ProxyContext,
  resource: ResourceConfig,
  refused: UpstreamRequest,
): Promise<boolean> {
  const entra = resource.entra;
  const token = bearerToken(refused.headers.authorization);
  if (entra === undefined || token === undefined) return false;
  await ctx.tokens.for(entra).refresh(token);
  return true;
}

/** The raw query string, without the `?`. */
function queryOf(request: IncomingMessage): string {
  const url = request.url ?? "";
  const mark = url.indexOf("?");
  return mark === -1 ? "" : url.slice(mark + 1);
}
