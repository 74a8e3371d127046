import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { buildAzureUrl, buildUpstreamHeaders, type UpstreamCredential } from "../azure/request.ts";
import {
  invalidModelName,
  invalidMultipart,
  missingModel,
  unsupportedMediaType,
} from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import { forward } from "../proxy/forward.ts";
import { readJsonBody, replaceJsonModel } from "../proxy/json-body.ts";
import { type HeldUpload, holdUntilModel } from "../proxy/multipart-body.ts";
import { checkDeclaredLength, declaredLength, readBody } from "../proxy/read-body.ts";
import { isSafeModelName, resolveDeployment } from "../routing/resolve-deployment.ts";
import type { AppContext } from "./context.ts";
import type { RequestLog } from "./request-log.ts";

const MULTIPART = /^multipart\/form-data/i;
/** How long the first request for a key waits for the deployment listing before going without. */
const LISTING_WAIT_MS = 3000;

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
    const credential = ctx.credentialFor(request.headers);
    const raw = request.raw;
    const contentType = request.headers["content-type"] ?? "";

    let model: string | undefined;
    let json: Buffer | undefined;
    let upload: HeldUpload | undefined;
    let stream: Readable | undefined;
    if (operation.model === "json") {
      json = await readBody(raw, config.maxBodySize);
      model = readJsonBody(json).model;
    } else if (operation.model === "multipart") {
      if (!MULTIPART.test(contentType)) {
        throw unsupportedMediaType(contentType, "multipart/form-data");
      }
      checkDeclaredLength(raw, config.maxUploadSize);
      upload = await holdUntilModel(raw, contentType, declaredLength(raw), config.maxUploadSize);
      model = upload.model;
    } else if (request.method !== "GET" && request.method !== "DELETE") {
      checkDeclaredLength(raw, config.maxUploadSize);
      stream = raw;
    }

    // Deployment-scoped rows need a model; resource rows map theirs when the body has one.
    let deployment: string | undefined;
    if (operation.scope === "deployment" || model !== undefined) {
      try {
        deployment = await deploymentFor(ctx, credential, model);
      } catch (error) {
        await upload?.discard();
        throw error;
      }
      log.model = model;
      log.deployment = deployment;
      // The deployment travels in `model` in the v1 style, and always on resource-scoped rows.
      const inBody = ctx.target.apiStyle === "v1" || operation.scope === "resource";
      if (inBody && deployment !== model) {
        if (json !== undefined) json = replaceJsonModel(json, deployment);
        if (upload !== undefined && !upload.replaceModel(deployment)) {
          await upload.discard();
          throw invalidMultipart("the model field could not be rewritten");
        }
      }
    }

    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "";
    const url = buildAzureUrl(
      ctx.target,
      operation,
      deployment,
      request.params as Record<string, string>,
      query,
    );
    let body: Buffer | Readable | undefined;
    let length: number | undefined;
    if (json !== undefined) {
      body = json;
      length = json.length;
    } else if (upload !== undefined) {
      body = upload.body();
      length = upload.contentLength;
    } else if (stream !== undefined) {
      body = stream;
      length = declaredLength(raw);
    }
    const headers = buildUpstreamHeaders(request.headers, credential, length);
    if (json !== undefined) headers["content-type"] = "application/json";
    await forward(ctx.agent, { url, method: request.method, headers, body }, reply, relay, log);
  };
}

/**
 * The deployment for a model name: checked so it cannot change the URL's shape, then the mapper
 * (authoritative), else the resolution rules with the resource's deployments when Azure lists them.
 */
export async function deploymentFor(
  ctx: AppContext,
  credential: UpstreamCredential,
  model: string | undefined,
): Promise<string> {
  if (model === undefined) throw missingModel();
  if (!isSafeModelName(model)) throw invalidModelName(model);
  const mapper = ctx.config.modelMapper;
  const listing =
    mapper.has(model.toLowerCase()) || ctx.directory === undefined
      ? null
      : await ctx.directory.get(credential, LISTING_WAIT_MS);
  return resolveDeployment(model, mapper, listing?.index);
}

/** In openai mode every request goes to OpenAI as it came, the client's key included. */
export function openaiPassthroughHandler(ctx: AppContext) {
  const base = ctx.config.openaiEndpoint;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const log: RequestLog = request.proxyLog;
    const credential = ctx.credentialFor(request.headers);
    const raw = request.raw;
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    if (hasBody) checkDeclaredLength(raw, ctx.config.maxUploadSize);
    const headers = buildUpstreamHeaders(
      request.headers,
      credential,
      hasBody ? declaredLength(raw) : undefined,
    );
    await forward(
      ctx.agent,
      {
        url: `${base}${request.url}`,
        method: request.method,
        headers,
        body: hasBody ? raw : undefined,
      },
      reply,
      { stream: undefined, keepAzureStreamArtefacts: true },
      log,
    );
  };
}
