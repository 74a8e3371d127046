/**
 * The resource-scoped routes (`/openai/{path}` dated, `/openai/v1/{path}` v1) as data: one row per
 * method and path pattern, first match wins, so literal segments come before parameters.
 */

const ROUTES = [
  ["GET", "files", "files.list"],
  ["POST", "files", "files.create"],
  ["GET", "files/:file_id", "files.retrieve"],
  ["DELETE", "files/:file_id", "files.delete"],
  ["GET", "files/:file_id/content", "files.content"],

  ["POST", "uploads", "uploads.create"],
  ["POST", "uploads/:upload_id/parts", "uploads.addPart"],
  ["POST", "uploads/:upload_id/complete", "uploads.complete"],
  ["POST", "uploads/:upload_id/cancel", "uploads.cancel"],

  ["POST", "fine_tuning/jobs", "fineTuning.create"],
  ["GET", "fine_tuning/jobs", "fineTuning.list"],
  ["GET", "fine_tuning/jobs/:job_id", "fineTuning.retrieve"],
  ["DELETE", "fine_tuning/jobs/:job_id", "fineTuning.delete"],
  ["POST", "fine_tuning/jobs/:job_id/cancel", "fineTuning.cancel"],
  ["POST", "fine_tuning/jobs/:job_id/pause", "fineTuning.pause"],
  ["POST", "fine_tuning/jobs/:job_id/resume", "fineTuning.resume"],
  ["GET", "fine_tuning/jobs/:job_id/events", "fineTuning.events"],
  ["GET", "fine_tuning/jobs/:job_id/checkpoints", "fineTuning.checkpoints"],

  ["POST", "batches", "batches.create"],
  ["GET", "batches", "batches.list"],
  ["GET", "batches/:batch_id", "batches.retrieve"],
  ["POST", "batches/:batch_id/cancel", "batches.cancel"],

  ["POST", "responses", "responses.create"],
  ["GET", "responses/:response_id", "responses.retrieve"],
  ["DELETE", "responses/:response_id", "responses.delete"],
  ["POST", "responses/:response_id/cancel", "responses.cancel"],
  ["GET", "responses/:response_id/input_items", "responses.inputItems"],

  ["GET", "assistants", "assistants.list"],
  ["POST", "assistants", "assistants.create"],
  ["GET", "assistants/:assistant_id", "assistants.retrieve"],
  ["POST", "assistants/:assistant_id", "assistants.modify"],
  ["DELETE", "assistants/:assistant_id", "assistants.delete"],

  ["POST", "threads", "threads.create"],
  ["POST", "threads/runs", "runs.createThreadAndRun"],
  ["GET", "threads/:thread_id", "threads.retrieve"],
  ["POST", "threads/:thread_id", "threads.modify"],
  ["DELETE", "threads/:thread_id", "threads.delete"],

  ["GET", "threads/:thread_id/messages", "messages.list"],
  ["POST", "threads/:thread_id/messages", "messages.create"],
  ["GET", "threads/:thread_id/messages/:message_id", "messages.retrieve"],
  ["POST", "threads/:thread_id/messages/:message_id", "messages.modify"],
  ["DELETE", "threads/:thread_id/messages/:message_id", "messages.delete"],

  ["GET", "threads/:thread_id/runs", "runs.list"],
  ["POST", "threads/:thread_id/runs", "runs.create"],
  ["GET", "threads/:thread_id/runs/:run_id", "runs.retrieve"],
  ["POST", "threads/:thread_id/runs/:run_id", "runs.modify"],
  ["POST", "threads/:thread_id/runs/:run_id/cancel", "runs.cancel"],
  ["POST", "threads/:thread_id/runs/:run_id/submit_tool_outputs", "runs.submitToolOutputs"],
  ["GET", "threads/:thread_id/runs/:run_id/steps", "runSteps.list"],
  ["GET", "threads/:thread_id/runs/:run_id/steps/:step_id", "runSteps.retrieve"],

  ["GET", "vector_stores", "vectorStores.list"],
  ["POST", "vector_stores", "vectorStores.create"],
  ["GET", "vector_stores/:vector_store_id", "vectorStores.retrieve"],
  ["POST", "vector_stores/:vector_store_id", "vectorStores.modify"],
  ["DELETE", "vector_stores/:vector_store_id", "vectorStores.delete"],
  ["POST", "vector_stores/:vector_store_id/search", "vectorStores.search"],
  ["GET", "vector_stores/:vector_store_id/files", "vectorStoreFiles.list"],
  ["POST", "vector_stores/:vector_store_id/files", "vectorStoreFiles.create"],
  ["GET", "vector_stores/:vector_store_id/files/:file_id", "vectorStoreFiles.retrieve"],
  ["POST", "vector_stores/:vector_store_id/files/:file_id", "vectorStoreFiles.update"],
  ["DELETE", "vector_stores/:vector_store_id/files/:file_id", "vectorStoreFiles.delete"],
  ["GET", "vector_stores/:vector_store_id/files/:file_id/content", "vectorStoreFiles.content"],
  ["POST", "vector_stores/:vector_store_id/file_batches", "vectorStoreFileBatches.create"],
  [
    "GET",
    "vector_stores/:vector_store_id/file_batches/:batch_id",
    "vectorStoreFileBatches.retrieve",
  ],
  [
    "POST",
    "vector_stores/:vector_store_id/file_batches/:batch_id/cancel",
    "vectorStoreFileBatches.cancel",
  ],
  [
    "GET",
    "vector_stores/:vector_store_id/file_batches/:batch_id/files",
    "vectorStoreFileBatches.listFiles",
  ],
] as const;

export type ResourceOp = (typeof ROUTES)[number][2];

export interface ResourceMatch {
  op: ResourceOp;
  /** Path parameters by name, decoded. */
  params: Record<string, string>;
}

/** Operations whose JSON body names a deployment in `model` (a base model for fine-tuning does not). */
export const MODEL_IS_DEPLOYMENT: ReadonlySet<ResourceOp> = new Set<ResourceOp>([
  "responses.create",
  "assistants.create",
  "assistants.modify",
  "runs.create",
  "runs.createThreadAndRun",
]);

/** Operations that keep an uploaded multipart file, by the field that carries it. */
export const KEEPS_FILE_FIELD: Partial<Record<ResourceOp, string>> = {
  "files.create": "file",
  "uploads.addPart": "data",
};

const COMPILED = ROUTES.map(([method, pattern, op]) => ({
  method,
  segments: pattern.split("/"),
  op,
}));

function decodeSegment(segment: string): string | undefined {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded === "" ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/** Matches the path below `/openai/` (or `/openai/v1/`), split on "/". */
export function matchResourceRoute(
  method: string,
  segments: readonly string[],
): ResourceMatch | undefined {
  for (const route of COMPILED) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = route.segments.every((part, index) => {
      const segment = segments[index] ?? "";
      if (!part.startsWith(":")) return part === segment;
      const value = decodeSegment(segment);
      if (value === undefined) return false;
      params[part.slice(1)] = value;
      return true;
    });
    if (matches) return { op: route.op, params };
  }
  return undefined;
}
