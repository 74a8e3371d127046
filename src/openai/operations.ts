/**
 * The operation table: every OpenAI route the proxy serves is one row of data.
 * Adding an endpoint is adding a row, not a branch.
 */

/** Where a request carries the model name the proxy must map to a deployment. */
export type ModelSource = "json" | "multipart" | "none";

/**
 * deployment: Azure puts the deployment in the path (dated style) or the body's `model` (v1 style).
 * resource: the operation addresses the Azure resource itself, no deployment involved.
 */
export type OperationScope = "deployment" | "resource";

/** How an SSE answer of this operation is adapted for OpenAI clients. */
export type StreamAdapter = "chat" | "passthrough";

export interface Operation {
  /** Stable name, used in logs and metrics. */
  readonly id: string;
  readonly method: "GET" | "POST" | "DELETE";
  /** OpenAI path below `/v1`, Fastify syntax for parameters (`/models/:model`). */
  readonly path: string;
  readonly scope: OperationScope;
  readonly model: ModelSource;
  /** Path below `/openai/deployments/{deployment}/` (deployment scope) or `/openai/` (resource scope). */
  readonly azurePath: string;
  /** Set when the answer may be an SSE stream, naming how it is adapted. */
  readonly stream?: StreamAdapter;
}

/** Inference operations, addressed to a deployment. */
export const OPERATIONS: readonly Operation[] = [
  {
    id: "chat.completions",
    method: "POST",
    path: "/chat/completions",
    scope: "deployment",
    model: "json",
    azurePath: "chat/completions",
    stream: "chat",
  },
  {
    id: "completions",
    method: "POST",
    path: "/completions",
    scope: "deployment",
    model: "json",
    azurePath: "completions",
    stream: "chat",
  },
  {
    id: "embeddings",
    method: "POST",
    path: "/embeddings",
    scope: "deployment",
    model: "json",
    azurePath: "embeddings",
  },
  {
    id: "images.generations",
    method: "POST",
    path: "/images/generations",
    scope: "deployment",
    model: "json",
    azurePath: "images/generations",
    stream: "passthrough",
  },
  {
    id: "images.edits",
    method: "POST",
    path: "/images/edits",
    scope: "deployment",
    model: "multipart",
    azurePath: "images/edits",
    stream: "passthrough",
  },
  {
    id: "audio.speech",
    method: "POST",
    path: "/audio/speech",
    scope: "deployment",
    model: "json",
    azurePath: "audio/speech",
    stream: "passthrough",
  },
  {
    id: "audio.transcriptions",
    method: "POST",
    path: "/audio/transcriptions",
    scope: "deployment",
    model: "multipart",
    azurePath: "audio/transcriptions",
    stream: "passthrough",
  },
  {
    id: "audio.translations",
    method: "POST",
    path: "/audio/translations",
    scope: "deployment",
    model: "multipart",
    azurePath: "audio/translations",
  },
];
