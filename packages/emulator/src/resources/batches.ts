/**
 * Batches (authoring API `Batch`): the input file's lines are checked and answered when the batch
 * is created (each line by the deployment its body's `model` names, as the inference routes
 * would answer it); the batch then moves validating → in_progress → finalizing → completed and
 * its output and error files appear.
 */
import { operationsOf } from "../catalog.ts";
import type { ResourceCall } from "../dispatch.ts";
import { type AzureError, azureErrors } from "../errors.ts";
import { answerInference } from "../handlers.ts";
import { INFERENCE_OPERATIONS, type InferenceOp } from "../operations.ts";
import type { Reply } from "../reply.ts";
import { json, type ResourceContext, type ResourceHandler, seconds } from "./context.ts";
import type { Answered, BatchEntry, BatchLineError, BatchStatus, LineAnswer } from "./entries.ts";
import { Fields, isObject, jsonObject, Refusal, refuse } from "./fields.ts";
import { addGeneratedFile } from "./files.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type ListDefaults, paginate } from "./lists.ts";
import { batchResponse } from "./responses.ts";

/** The operation each batch endpoint runs (with or without the `/v1` prefix). */
const ENDPOINTS: Record<string, InferenceOp | "responses"> = {
  "/chat/completions": "chat/completions",
  "/completions": "completions",
  "/embeddings": "embeddings",
  "/responses": "responses",
};
const COMPLETION_WINDOWS = ["24h"];
const MAX_REQUESTS = 100_000;
const WINDOW_S = 24 * 60 * 60;
const BATCH_LIST: ListDefaults = { order: "desc", limit: 20, maxLimit: 100 };

function normalizeEndpoint(url: string): string {
  return url.startsWith("/v1/") ? url.slice(3) : url;
}

function batchOf(context: ResourceContext, id: string): BatchEntry {
  return (
    context.state.batches.get(id) ??
    refuse(azureErrors.notFound(`Batch with id '${id}' not found.`))
  );
}

function fromReply(reply: Reply): LineAnswer {
  return reply.kind === "json"
    ? { status: reply.status, body: reply.body }
    : { status: 500, body: azureErrors.internalServerError().body };
}

function fromError({ status, body }: AzureError): LineAnswer {
  return { status, body };
}

/** What the deployment a line names answers it, as the inference routes would. */
function answerLine(
  op: InferenceOp | "responses",
  body: Record<string, unknown>,
  context: ResourceContext,
): LineAnswer {
  const name = body.model;
  const deployment = typeof name === "string" ? context.deployments.get(name) : undefined;
  if (deployment === undefined) return fromError(azureErrors.deploymentNotFound());
  const azureName = op === "responses" ? "responses" : INFERENCE_OPERATIONS[op].azureName;
  const needs = op === "responses" ? "chat/completions" : op;
  if (!operationsOf(deployment.model).includes(needs)) {
    return fromError(azureErrors.operationNotSupported(azureName, deployment.model));
  }
  if (body.stream === true) {
    return fromError(
      azureErrors.invalidRequest("Streaming is not supported in batches.", "stream"),
    );
  }
  if (op === "responses") {
    try {
      return fromReply(batchResponse(body, deployment, context));
    } catch (error) {
      if (error instanceof Refusal) return fromError(error.error);
      throw error;
    }
  }
  return fromReply(
    answerInference(
      { op, deployment, apiVersion: "batch", json: body },
      { now: seconds(context.now), newId: context.newId, forcedWords: context.forcedWords },
    ),
  );
}

/** Reads and answers every line; returns the validation errors instead if any line is wrong. */
async function answerLines(
  fileContent: Parameters<ResourceContext["files"]["lines"]>[0],
  endpoint: string,
  context: ResourceContext,
): Promise<Answered | BatchLineError[]> {
  const op = ENDPOINTS[endpoint] as InferenceOp | "responses";
  const invalid: BatchLineError[] = [];
  const answered: Answered = { output: [], errors: [] };
  const seen = new Set<string>();
  let lineNumber = 0;
  for await (const text of context.files.lines(fileContent)) {
    lineNumber += 1;
    if (text.trim() === "") continue;
    const fail = (code: string, message: string, param: string | null = null) =>
      invalid.push({ code, message, param, line: lineNumber });
    if (seen.size >= MAX_REQUESTS) {
      fail("too_many_requests", `A batch holds at most ${MAX_REQUESTS} requests.`);
      break;
    }
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      fail("invalid_json_line", "This line is not valid JSON.");
      continue;
    }
    if (!isObject(line)) {
      fail("invalid_json_line", "This line is not a JSON object.");
      continue;
    }
    const { custom_id: customId, method, url, body } = line;
    if (typeof customId !== "string" || customId === "") {
      fail("missing_required_parameter", "Each line needs a 'custom_id'.", "custom_id");
      continue;
    }
    if (seen.has(customId)) {
      fail("duplicate_custom_id", `The custom_id '${customId}' is used twice.`, "custom_id");
      continue;
    }
    seen.add(customId);
    if (method !== "POST") fail("invalid_method", "'method' must be POST.", "method");
    else if (typeof url !== "string" || normalizeEndpoint(url) !== endpoint) {
      fail("mismatched_endpoint", `'url' must be the batch's endpoint, ${endpoint}.`, "url");
    } else if (!isObject(body) || typeof body.model !== "string") {
      fail("missing_required_parameter", "'body.model' must name a deployment.", "body.model");
    } else {
      const { status, body: answerBody } = answerLine(op, body, context);
      const answer = JSON.stringify({
        id: `batch_req_${context.newId()}`,
        custom_id: customId,
        response: { status_code: status, request_id: context.newId(), body: answerBody },
        error: null,
      });
      (status === 200 ? answered.output : answered.errors).push(answer);
    }
  }
  if (seen.size === 0 && invalid.length === 0) {
    invalid.push({
      code: "empty_file",
      message: "The input file has no requests.",
      param: null,
      line: null,
    });
  }
  return invalid.length > 0 ? invalid : answered;
}

const createBatch: ResourceHandler = async (call: ResourceCall, context) => {
  const fields: Fields = new Fields(jsonObject(call.body, "authoring"), "authoring");
  const inputFileId = fields.requiredString("input_file_id");
  const endpointRaw = fields.requiredString("endpoint");
  const endpoint = normalizeEndpoint(endpointRaw);
  if (ENDPOINTS[endpoint] === undefined) {
    fields.fail(
      `Invalid value for 'endpoint': expected one of ${Object.keys(ENDPOINTS).join(", ")}, got '${endpointRaw}'.`,
      "endpoint",
    );
  }
  const window = fields.requiredString("completion_window");
  if (!COMPLETION_WINDOWS.includes(window)) {
    fields.fail(
      `Invalid value for 'completion_window': expected 24h, got '${window}'.`,
      "completion_window",
    );
  }
  const metadata = fields.metadata() ?? null;
  const input = context.state.files.get(inputFileId);
  if (input === undefined)
    fields.fail(`Invalid 'input_file_id': file '${inputFileId}' not found.`, "input_file_id");
  if (input.object.purpose !== "batch") {
    fields.fail(
      `Invalid 'input_file_id': file '${inputFileId}' has purpose '${input.object.purpose}', not 'batch'.`,
      "input_file_id",
    );
  }

  const result = await answerLines(input.content, endpoint, context);
  const createdAt = seconds(context.now);
  const id = `batch_${context.newId()}`;
  const batch: BatchEntry = {
    object: {
      object: "batch",
      id,
      endpoint: endpointRaw,
      errors: null,
      input_file_id: inputFileId,
      completion_window: window,
      status: "validating",
      output_file_id: null,
      error_file_id: null,
      created_at: createdAt,
      in_progress_at: null,
      expires_at: createdAt + WINDOW_S,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata,
    },
    lifecycle: new Lifecycle<BatchStatus>(
      Array.isArray(result)
        ? ["validating", "failed"]
        : ["validating", "in_progress", "finalizing", "completed"],
      context.now,
      context.jobDurationMs,
      (status, now) => {
        const { object } = batch;
        const at = seconds(now);
        object.status = status;
        switch (status) {
          case "failed":
            object.failed_at = at;
            if (Array.isArray(result)) object.errors = { object: "list", data: result };
            break;
          case "in_progress":
            object.in_progress_at = at;
            if (!Array.isArray(result)) {
              object.request_counts.total = result.output.length + result.errors.length;
            }
            break;
          case "finalizing":
            object.finalizing_at = at;
            break;
          case "completed":
            if (Array.isArray(result)) break;
            object.completed_at = at;
            object.request_counts.completed = result.output.length;
            object.request_counts.failed = result.errors.length;
            if (result.output.length > 0) {
              const file = `${result.output.join("\n")}\n`;
              object.output_file_id = addGeneratedFile(
                context,
                `${id}_output.jsonl`,
                "batch_output",
                file,
              ).object.id;
            }
            if (result.errors.length > 0) {
              const file = `${result.errors.join("\n")}\n`;
              object.error_file_id = addGeneratedFile(
                context,
                `${id}_error.jsonl`,
                "batch_output",
                file,
              ).object.id;
            }
            break;
          case "cancelling":
            object.cancelling_at = at;
            break;
          case "cancelled":
            object.cancelled_at = at;
            break;
        }
      },
    ),
  };
  context.lifecycles.track(batch.lifecycle);
  context.state.batches.set(id, batch);
  return json(batch.object);
};

const listBatches: ResourceHandler = (call, context) => {
  const batches = [...context.state.batches.values()].map((b) => b.object);
  return json(paginate(batches, (b) => b.id, call.query, BATCH_LIST));
};

const retrieveBatch: ResourceHandler = (call, context) => {
  const batch = batchOf(context, call.params.batch_id ?? "");
  batch.lifecycle.poke(context.now);
  return json(batch.object);
};

const cancelBatch: ResourceHandler = (call, context) => {
  const batch = batchOf(context, call.params.batch_id ?? "");
  const { status } = batch.object;
  if (status !== "validating" && status !== "in_progress" && status !== "finalizing") {
    refuse(
      azureErrors.unexpectedEntityState(
        `Cannot cancel batch '${batch.object.id}' with status '${status}'.`,
      ),
    );
  }
  batch.lifecycle.restart(["cancelling", "cancelled"], context.now);
  context.lifecycles.track(batch.lifecycle);
  return json(batch.object);
};

export const BATCH_HANDLERS = {
  "batches.create": createBatch,
  "batches.list": listBatches,
  "batches.retrieve": retrieveBatch,
  "batches.cancel": cancelBatch,
} satisfies Record<string, ResourceHandler>;
