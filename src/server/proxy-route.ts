import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type ClientAuth, upstreamCredential } from "../azure/credentials.ts";
import { buildAzureUrl, buildUpstreamHeaders } from "../azure/request.ts";
import type { ResourceConfig } from "../config/topology.ts";
import {
  invalidModelName,
  invalidMultipart,
  missingModel,
  modelNotFound,
  unsupportedMediaType,
} from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import { type ForwardPlan, forwardWithFailover } from "../proxy/failover.ts";
import { readJsonBody, replaceJsonModel } from "../proxy/json-body.ts";
import { type HeldUpload, holdUntilModel, replaceFormField } from "../proxy/multipart-body.ts";
import { checkDeclaredLength, declaredLength, readBody } from "../proxy/read-body.ts";
import { uploadGarbageCollector } from "../proxy/upload-garbage.ts";
import type { UpstreamRequest } from "../proxy/upstream-call.ts";
import { TargetHealth } from "../routing/health.ts";
import { PrioritySelection } from "../routing/policies.ts";
import { Pool } from "../routing/pool.ts";
import { isSafeModelName, resolveDeployment } from "../routing/resolve-deployment.ts";
import type { RouteTable } from "../routing/route-table.ts";
import type { Target } from "../routing/target.ts";
import type { AppContext } from "./context.ts";

const MULTIPART = /^multipart\/form-data/i;
/** How long the first request for a key waits for the deployment listing before going without. */
const LISTING_WAIT_MS = 3000;
/**
 * With pools configured, uploads up to this size are read whole before the first attempt, so
 * they can be sent again to another target. Larger uploads stream, and do not fail over.
 */
export const FAILOVER_UPLOAD_LIMIT = 4 * 1024 * 1024;
/** Streamed bodies above this size get their garbage collected as they go (upload-garbage.ts). */
const LARGE_UPLOAD = 32 * 1024 * 1024;

/** The handler for one row of the operation table, in azure mode. */
export function azureOperationHandler(operation: Operation, ctx: AppContext) {
  const { config } = ctx;
  const relay = {
    stream: operation.stream,
    keepAzureStreamArtefacts: config.keepAzureStreamArtefacts,
  };
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const log = request.proxyLog;
    log.operation = operation.id;
    const auth = ctx.authenticate(request.headers);
    const routes = ctx.routes;
    const raw = request.raw;
    const contentType = request.headers["content-type"] ?? "";

    let model: string | undefined;
    let streaming = false;
    let json: Buffer | undefined;
    let upload: HeldUpload | undefined;
    let stream: Readable | undefined;
    if (operation.model === "json") {
      json = await readBody(raw, config.maxBodySize);
      ({ model, stream: streaming } = readJsonBody(json));
    } else if (operation.model === "multipart") {
      if (!MULTIPART.test(contentType)) {
        throw unsupportedMediaType(contentType, "multipart/form-data");
      }
      checkDeclaredLength(raw, config.maxUploadSize);
      const readAhead = routes.topology.models.size > 0 ? FAILOVER_UPLOAD_LIMIT : 0;
      upload = await holdUntilModel(
        raw,
        contentType,
        declaredLength(raw),
        config.maxUploadSize,
        readAhead,
      );
      model = upload.model;
    } else if (request.method !== "GET" && request.method !== "DELETE") {
      checkDeclaredLength(raw, config.maxUploadSize);
      const large = (declaredLength(raw) ?? Number.POSITIVE_INFINITY) > LARGE_UPLOAD;
      stream = large ? Readable.from(collectingAsItGoes(raw), { objectMode: false }) : raw;
    }

    try {
      // Deployment-scoped rows need a model; resource rows map theirs when the body has one.
      let pool: Pool | undefined;
      if (operation.scope === "deployment" || model !== undefined) {
        pool = await poolFor(ctx, routes, auth, model);
        log.model = model;
      } else {
        pool = routes.fallback(undefined);
      }
      if (pool === undefined) throw modelNotFound(model ?? "");

      const query = request.url.includes("?")
        ? request.url.slice(request.url.indexOf("?") + 1)
        : "";
      const params = request.params as Record<string, string>;
      const plan: ForwardPlan = {
        pool,
        relay,
        targetHeader: config.targetHeader,
        request(target: Target, attempt: number): UpstreamRequest | undefined {
          const resource = target.resource;
          const deployment = target.deployment;
          // The deployment travels in `model` in the v1 style, and always on resource rows.
          const inBody =
            deployment !== undefined &&
            deployment !== model &&
            (resource.apiStyle === "v1" || operation.scope === "resource");
          let body: Buffer | Readable | undefined;
          let length: number | undefined;
          if (json !== undefined) {
            body = inBody ? replaceJsonModel(json, deployment) : json;
            length = body.length;
          } else if (upload !== undefined) {
            const kept = upload.complete();
            if (kept !== undefined) {
              const edited =
                inBody && upload.boundary !== undefined
                  ? replaceFormField(kept, upload.boundary, "model", deployment)
                  : kept;
              if (edited === undefined)
                throw invalidMultipart("the model field could not be rewritten");
              body = edited;
              length = edited.length;
            } else {
              if (attempt > 0) return undefined; // streamed on: cannot be sent twice
              if (inBody && !upload.replaceModel(deployment)) {
                throw invalidMultipart("the model field could not be rewritten");
              }
              body = upload.body();
              length = upload.contentLength;
            }
          } else if (stream !== undefined) {
            if (attempt > 0) return undefined;
            body = stream;
            length = declaredLength(raw);
          }
          const credential = upstreamCredential(resource, auth);
          const headers = buildUpstreamHeaders(request.headers, credential, length);
          if (json !== undefined) headers["content-type"] = "application/json";
          const url = buildAzureUrl(resource, operation, deployment, params, query);
          return { url, method: request.method, headers, body };
        },
      };
      await forwardWithFailover(ctx.agent, plan, reply, log, {
        maxAttempts: config.maxAttempts,
        headersTimeoutMs: streaming
          ? config.timeouts.streamFirstByteMs
          : config.timeouts.responseMs,
        bodyTimeoutMs: config.timeouts.idleMs,
        totalMs: config.timeouts.totalMs,
      });
    } finally {
      await upload?.discard();
    }
  };
}

/** The body as it arrives, with its garbage collected as it goes (see upload-garbage.ts). */
async function* collectingAsItGoes(body: Readable): AsyncGenerator<Buffer> {
  const collect = uploadGarbageCollector();
  for await (const chunk of body as AsyncIterable<Buffer>) {
    collect(chunk);
    yield chunk;
  }
}

/**
 * The pool for a model name: checked so it cannot change any URL's shape; then the configured
 * pool for it, else one target on the fallback resource with the deployment the env-style rules
 * give (mapper, built-in table, the resource's deployments, the name itself).
 */
export async function poolFor(
  ctx: AppContext,
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
  return routes.fallback(await fallbackDeployment(ctx, resource, auth, model));
}

async function fallbackDeployment(
  ctx: AppContext,
  resource: ResourceConfig,
  auth: ClientAuth,
  model: string,
): Promise<string> {
  const mapper = ctx.config.modelMapper;
  if (mapper.has(model.toLowerCase())) return resolveDeployment(model, mapper);
  const listing = await ctx
    .directoryFor(resource)
    .get(upstreamCredential(resource, auth), LISTING_WAIT_MS);
  return resolveDeployment(model, mapper, listing?.index);
}

/** In openai mode every request goes to OpenAI as it came, the client's key included. */
export function openaiPassthroughHandler(ctx: AppContext) {
  const base = ctx.config.openaiEndpoint;
  const openai: ResourceConfig = {
    name: "openai",
    endpoint: base,
    apiStyle: "v1",
    apiVersion: "",
    apiKey: undefined,
  };
  const pool = new Pool(
    [
      {
        id: "openai",
        resource: openai,
        deployment: undefined,
        priority: 0,
        weight: 1,
        health: new TargetHealth(),
      },
    ],
    new PrioritySelection(),
    false,
  );
  const relay = { stream: undefined, keepAzureStreamArtefacts: true };
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = ctx.authenticate(request.headers);
    const raw = request.raw;
    const hasBody = request.method !== "GET" && request.method !== "DELETE";
    if (hasBody) checkDeclaredLength(raw, ctx.config.maxUploadSize);
    const plan: ForwardPlan = {
      pool,
      relay,
      targetHeader: false,
      request(_target, attempt) {
        if (attempt > 0) return undefined;
        const length = hasBody ? declaredLength(raw) : undefined;
        const headers = buildUpstreamHeaders(
          request.headers,
          upstreamCredential(openai, auth),
          length,
        );
        return {
          url: `${base}${request.url}`,
          method: request.method,
          headers,
          body: hasBody ? raw : undefined,
        };
      },
    };
    await forwardWithFailover(ctx.agent, plan, reply, request.proxyLog, {
      maxAttempts: 1,
      headersTimeoutMs: ctx.config.timeouts.responseMs,
      bodyTimeoutMs: ctx.config.timeouts.idleMs,
      totalMs: ctx.config.timeouts.totalMs,
    });
  };
}
