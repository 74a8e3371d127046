import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { Config } from "../config/config.ts";
import { bodyTooLarge, invalidMultipart, unsupportedMediaType } from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import { readJsonBody, replaceJsonModel } from "./json-body.ts";
import { holdUntilModel, replaceFormField } from "./multipart-body.ts";
import { checkDeclaredLength, declaredLength, readBody } from "./read-body.ts";
import { uploadGarbageCollector } from "./upload-garbage.ts";

const MULTIPART = /^multipart\/form-data/i;
/**
 * With pools configured, uploads up to this size are read whole before the first attempt, so
 * they can be sent again to another target. Larger uploads stream, and do not fail over.
 */
export const FAILOVER_UPLOAD_LIMIT = 4 * 1024 * 1024;
/** Streamed bodies above this size get their garbage collected as they go (upload-garbage.ts). */
const LARGE_UPLOAD = 32 * 1024 * 1024;

/** The body of one attempt. */
export interface AttemptBody {
  readonly body: Buffer | Readable | undefined;
  readonly length: number | undefined;
  /** Set when the proxy, not the client, decides the body's type. */
  readonly contentType?: string;
}

/**
 * How one request's body is read and sent on: one plan per body kind (JSON, multipart, stream,
 * none), so the operation handler never branches on it.
 */
export interface BodyPlan {
  /** The model name the body carries, if it carries one. */
  readonly model: string | undefined;
  /** The JSON body asked for a stream (`"stream": true`). */
  readonly streaming: boolean;
  /**
   * The body for an attempt, its `model` replaced by `deployment` when one is given; undefined
   * when it cannot be sent again (a streamed body, after the first attempt).
   */
  bodyFor(deployment: string | undefined, attempt: number): AttemptBody | undefined;
  /** Frees what the plan holds (a temp file) once the request is over. */
  discard(): Promise<void>;
}

const NO_BODY: BodyPlan = {
  model: undefined,
  streaming: false,
  bodyFor: () => ({ body: undefined, length: undefined }),
  discard: async () => {},
};

/** Reads as much of the request as the operation needs to route it, and plans the rest. */
export async function planBody(
  operation: Operation,
  request: IncomingMessage,
  config: Config,
  failoverPossible: boolean,
): Promise<BodyPlan> {
  if (operation.model === "json") return jsonPlan(request, config.maxBodySize);
  if (operation.model === "multipart") {
    return multipartPlan(request, config.maxUploadSize, failoverPossible);
  }
  const method = request.method;
  if (method === "GET" || method === "HEAD" || method === "DELETE") return NO_BODY;
  return streamPlan(request, config.maxUploadSize);
}

/** JSON: read whole (bounded), parsed once for `model` and `stream`, replayable. */
async function jsonPlan(request: IncomingMessage, limit: number): Promise<BodyPlan> {
  const json = await readBody(request, limit);
  const { model, stream } = readJsonBody(json);
  return {
    model,
    streaming: stream,
    bodyFor(deployment) {
      const body = deployment === undefined ? json : replaceJsonModel(json, deployment);
      return { body, length: body.length, contentType: "application/json" };
    },
    discard: async () => {},
  };
}

/**
 * Multipart: held only up to its `model` field (memory, then a temp file), then streamed on;
 * small uploads are read whole when another target may need them.
 */
async function multipartPlan(
  request: IncomingMessage,
  limit: number,
  failoverPossible: boolean,
): Promise<BodyPlan> {
  const contentType = request.headers["content-type"] ?? "";
  if (!MULTIPART.test(contentType)) {
    throw unsupportedMediaType(contentType, "multipart/form-data");
  }
  checkDeclaredLength(request, limit);
  const upload = await holdUntilModel(
    request,
    contentType,
    declaredLength(request),
    limit,
    failoverPossible ? FAILOVER_UPLOAD_LIMIT : 0,
  );
  return {
    model: upload.model,
    streaming: false,
    bodyFor(deployment, attempt) {
      const kept = upload.complete();
      if (kept !== undefined) {
        const edited =
          deployment !== undefined && upload.boundary !== undefined
            ? replaceFormField(kept, upload.boundary, "model", deployment)
            : kept;
        if (edited === undefined) throw invalidMultipart("the model field could not be rewritten");
        return { body: edited, length: edited.length };
      }
      if (attempt > 0) return undefined; // streamed on: cannot be sent twice
      if (deployment !== undefined && !upload.replaceModel(deployment)) {
        throw invalidMultipart("the model field could not be rewritten");
      }
      return { body: upload.body(), length: upload.contentLength };
    },
    discard: () => upload.discard(),
  };
}

/** Any other body: streamed on as it arrives, once. */
function streamPlan(request: IncomingMessage, limit: number): BodyPlan {
  const length = declaredLength(request);
  const body = streamedBody(request, limit);
  return {
    model: undefined,
    streaming: false,
    bodyFor: (_deployment, attempt) => (attempt > 0 ? undefined : { body, length }),
    discard: async () => {},
  };
}

/**
 * A body to stream on as it arrives, held to `limit` bytes: a declared length over it is refused
 * at once, and a chunked body is counted as it goes and ends in a 413 (which aborts the upstream
 * request) once it passes the limit. Node's parser delivers no more than a declared length, so
 * such a body is counted by Node already.
 */
export function streamedBody(request: IncomingMessage, limit: number): Readable {
  checkDeclaredLength(request, limit);
  const length = declaredLength(request);
  if (length !== undefined && length <= LARGE_UPLOAD) return request;
  return Readable.from(countedAsItGoes(request, limit), { objectMode: false });
}

/**
 * The body as it arrives, counted against `limit`, with its garbage collected as it goes (see
 * upload-garbage.ts). Read by hand, not with for-await: leaving such a loop destroys the request,
 * and with it the socket the 413 must go out on.
 */
async function* countedAsItGoes(body: Readable, limit: number): AsyncGenerator<Buffer> {
  const collect = uploadGarbageCollector();
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let received = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done) return;
    received += next.value.length;
    if (received > limit) throw bodyTooLarge(limit);
    collect(next.value);
    yield next.value;
  }
}
