import { DEPLOYMENTS_LIST_API_VERSION } from "../config/api-versions.ts";

/**
 * The operation table: every OpenAI route the proxy serves is one row of data.
 * Adding an endpoint is adding a row, not a branch.
 */

/**
 * Where a request carries the model name the proxy maps to a deployment: the JSON body's `model`,
 * the multipart form's `model` field, the `model` query parameter, or nowhere.
 */
export type ModelSource = "json" | "multipart" | "query" | "none";

/**
 * deployment: Azure addresses a deployment: in the path (dated style:
 * `/openai/deployments/{d}/…`, or `?deployment=` for realtime) or in `model` (v1 style).
 * resource: the operation addresses the Azure resource (`/openai/…`); a `model` in its body, where
 * the row names one, is a deployment name too and is mapped in both styles.
 */
export type OperationScope = "deployment" | "resource";

/** How an SSE answer is adapted: `chat` drops Azure-only chunks, `passthrough` sends every byte. */
export type StreamAdapter = "chat" | "passthrough";

export type Method = "GET" | "POST" | "DELETE";

export interface Operation {
  /** Stable name, used in logs and metrics. */
  readonly id: string;
  readonly method: Method;
  /** The client's path, find-my-way syntax for parameters (`/v1/files/:file_id`). */
  readonly path: string;
  readonly scope: OperationScope;
  readonly model: ModelSource;
  /**
   * Path below `/openai/deployments/{deployment}/` (deployment scope, dated), or below `/openai/`
   * (resource scope, and everything in the v1 style), with `{param}` placeholders.
   */
  readonly azurePath: string;
  /** Set when the answer may be an SSE stream, naming how it is adapted. */
  readonly stream?: StreamAdapter;
  /** The route upgrades to a WebSocket bridged to Azure. */
  readonly websocket?: true;
  /** Always the dated style with this api-version (Azure has this operation in no other form). */
  readonly fixedApiVersion?: string;
}

/** A deployment-scoped inference row. */
function inference(
  id: string,
  path: string,
  model: ModelSource,
  stream?: StreamAdapter,
): Operation {
  return {
    id,
    method: "POST",
    path: `/v1/${path}`,
    scope: "deployment",
    model,
    azurePath: path,
    stream,
  };
}

/** A resource-scoped row whose Azure path is its OpenAI path below /v1, parameters renamed. */
function resource(
  method: Method,
  path: string,
  options: { model?: ModelSource; stream?: StreamAdapter } = {},
): Operation {
  return {
    id: `${method} /v1/${path}`,
    method,
    path: `/v1/${path}`,
    scope: "resource",
    model: options.model ?? "none",
    azurePath: path.replace(/:(\w+)/g, "{$1}"),
    stream: options.stream,
  };
}

/** Rows whose body `model` is a deployment name (Responses, Assistants, runs) and may stream. */
const MAPPED = { model: "json", stream: "passthrough" } as const;

export const OPERATIONS: readonly Operation[] = [
  // Inference, addressed to a deployment.
  inference("chat.completions", "chat/completions", "json", "chat"),
  inference("completions", "completions", "json", "chat"),
  inference("embeddings", "embeddings", "json"),
  inference("images.generations", "images/generations", "json", "passthrough"),
  inference("images.edits", "images/edits", "multipart", "passthrough"),
  inference("audio.speech", "audio/speech", "json", "passthrough"),
  inference("audio.transcriptions", "audio/transcriptions", "multipart", "passthrough"),
  inference("audio.translations", "audio/translations", "multipart"),
  {
    id: "realtime",
    method: "GET",
    path: "/v1/realtime",
    scope: "deployment",
    model: "query",
    azurePath: "realtime",
    websocket: true,
  },

  // Files and uploads. Uploads stream through; the model of a file is never a deployment.
  resource("GET", "files"),
  resource("POST", "files"),
  resource("GET", "files/:file_id"),
  resource("DELETE", "files/:file_id"),
  resource("GET", "files/:file_id/content"),
  resource("POST", "uploads"),
  resource("POST", "uploads/:upload_id/parts"),
  resource("POST", "uploads/:upload_id/complete"),
  resource("POST", "uploads/:upload_id/cancel"),

  // Fine-tuning: `model` is a base model name, passed as given.
  resource("POST", "fine_tuning/jobs"),
  resource("GET", "fine_tuning/jobs"),
  resource("GET", "fine_tuning/jobs/:job_id"),
  resource("POST", "fine_tuning/jobs/:job_id/cancel"),
  resource("GET", "fine_tuning/jobs/:job_id/events"),
  resource("GET", "fine_tuning/jobs/:job_id/checkpoints"),
  resource("POST", "fine_tuning/jobs/:job_id/pause"),
  resource("POST", "fine_tuning/jobs/:job_id/resume"),

  // Batches: the input file's lines name deployments in their own `model`.
  resource("POST", "batches"),
  resource("GET", "batches"),
  resource("GET", "batches/:batch_id"),
  resource("POST", "batches/:batch_id/cancel"),

  // Responses.
  resource("POST", "responses", MAPPED),
  resource("GET", "responses/:response_id", { stream: "passthrough" }),
  resource("DELETE", "responses/:response_id"),
  resource("POST", "responses/:response_id/cancel"),
  resource("GET", "responses/:response_id/input_items"),

  // Assistants, threads, messages, runs, run steps.
  resource("GET", "assistants"),
  resource("POST", "assistants", MAPPED),
  resource("GET", "assistants/:assistant_id"),
  resource("POST", "assistants/:assistant_id", MAPPED),
  resource("DELETE", "assistants/:assistant_id"),
  resource("POST", "threads"),
  resource("POST", "threads/runs", MAPPED),
  resource("GET", "threads/:thread_id"),
  resource("POST", "threads/:thread_id"),
  resource("DELETE", "threads/:thread_id"),
  resource("GET", "threads/:thread_id/messages"),
  resource("POST", "threads/:thread_id/messages"),
  resource("GET", "threads/:thread_id/messages/:message_id"),
  resource("POST", "threads/:thread_id/messages/:message_id"),
  resource("DELETE", "threads/:thread_id/messages/:message_id"),
  resource("GET", "threads/:thread_id/runs"),
  resource("POST", "threads/:thread_id/runs", MAPPED),
  resource("GET", "threads/:thread_id/runs/:run_id"),
  resource("POST", "threads/:thread_id/runs/:run_id"),
  resource("POST", "threads/:thread_id/runs/:run_id/submit_tool_outputs", {
    stream: "passthrough",
  }),
  resource("POST", "threads/:thread_id/runs/:run_id/cancel"),
  resource("GET", "threads/:thread_id/runs/:run_id/steps"),
  resource("GET", "threads/:thread_id/runs/:run_id/steps/:step_id"),

  // Vector stores, their files and file batches.
  resource("GET", "vector_stores"),
  resource("POST", "vector_stores"),
  resource("GET", "vector_stores/:vector_store_id"),
  resource("POST", "vector_stores/:vector_store_id"),
  resource("DELETE", "vector_stores/:vector_store_id"),
  resource("GET", "vector_stores/:vector_store_id/files"),
  resource("POST", "vector_stores/:vector_store_id/files"),
  resource("GET", "vector_stores/:vector_store_id/files/:file_id"),
  resource("POST", "vector_stores/:vector_store_id/files/:file_id"),
  resource("DELETE", "vector_stores/:vector_store_id/files/:file_id"),
  resource("GET", "vector_stores/:vector_store_id/files/:file_id/content"),
  resource("POST", "vector_stores/:vector_store_id/search"),
  resource("POST", "vector_stores/:vector_store_id/file_batches"),
  resource("GET", "vector_stores/:vector_store_id/file_batches/:batch_id"),
  resource("POST", "vector_stores/:vector_store_id/file_batches/:batch_id/cancel"),
  resource("GET", "vector_stores/:vector_store_id/file_batches/:batch_id/files"),

  // The original proxy's deployment routes: Azure lists deployments only in the authoring API.
  {
    id: "deployments.list",
    method: "GET",
    path: "/deployments",
    scope: "resource",
    model: "none",
    azurePath: "deployments",
    fixedApiVersion: DEPLOYMENTS_LIST_API_VERSION,
  },
  {
    id: "deployments.retrieve",
    method: "GET",
    path: "/deployments/:deployment_id",
    scope: "resource",
    model: "none",
    azurePath: "deployments/{deployment_id}",
    fixedApiVersion: DEPLOYMENTS_LIST_API_VERSION,
  },
];

/**
 * Any other path under /v1 is forwarded resource-scoped (`/v1/x/y` → `/openai/x/y`), so endpoints
 * Azure adds later work without a release. Its body and answer pass untouched.
 */
export const FORWARD_ANY: Operation = {
  id: "forward",
  method: "GET",
  path: "/v1/*",
  scope: "resource",
  model: "none",
  azurePath: "{*}",
  stream: "passthrough",
};
