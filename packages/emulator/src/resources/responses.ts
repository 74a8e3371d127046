/**
 * The Responses API: `model` is a deployment name in both styles. Answers are deterministic
 * (the same greeting as chat completions), stored unless `store: false`, streamed as named SSE
 * events with `sequence_number`, and `background: true` responses move queued → in_progress →
 * completed like the other asynchronous objects.
 */
import {
  countWords,
  greeting,
  numberedWords,
  planText,
  sampleOf,
  type TextPlan,
} from "../answers.ts";
import { servingFamilyOf } from "../catalog.ts";
import type { ResourceCall } from "../dispatch.ts";
import { azureErrors } from "../errors.ts";
import { FORBIDDEN_WORD } from "../handlers.ts";
import type { Reply } from "../reply.ts";
import type { EmulatorDeployment } from "../types.ts";
import {
  json,
  type ModelCall,
  type ResourceContext,
  type ResourceHandler,
  seconds,
} from "./context.ts";
import type { Built, InputItem, ResponseEntry, ResponseObject, ResponseStatus } from "./entries.ts";
import { Fields, isObject, jsonObject, Refusal, refuse } from "./fields.ts";
import { Lifecycle } from "./lifecycle.ts";
import { OPENAI_LIST, paginate } from "./lists.ts";
import { chatDeployment } from "./models.ts";

/** Azure's minimum for `max_output_tokens`. */
const MIN_OUTPUT_TOKENS = 16;
const INPUT_ROLES = ["user", "assistant", "system", "developer"];

function responseOf(context: ResourceContext, id: string): ResponseEntry {
  return (
    context.state.responses.get(id) ??
    refuse(azureErrors.objectNotFound(`Response with id '${id}' not found.`))
  );
}

/** The text of a message's content: a string, or the text of its text parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => {
      if (!isObject(part)) return "";
      if (typeof part.text === "string") return part.text;
      // Assistants' message parts: {type: "text", text: {value}}.
      if (isObject(part.text) && typeof part.text.value === "string") return part.text.value;
      return "";
    })
    .filter((t) => t !== "")
    .join(" ");
}

function inputItems(fields: Fields, context: ResourceContext): InputItem[] {
  fields.required("input");
  const { input } = fields.json;
  if (typeof input === "string") {
    return [
      {
        id: `msg_${context.newId()}`,
        type: "message",
        role: "user",
        status: "completed",
        content: [{ type: "input_text", text: input }],
      },
    ];
  }
  if (!Array.isArray(input)) {
    fields.fail("Invalid type for 'input': expected a string or an array of items.", "input");
  }
  return input.map((item, index) => {
    if (!isObject(item)) fields.fail(`Invalid 'input[${index}]': expected an object.`, "input");
    const type = item.type ?? "message";
    if (type !== "message") return { ...item, id: String(item.id ?? `item_${context.newId()}`) };
    if (typeof item.role !== "string" || !INPUT_ROLES.includes(item.role)) {
      fields.fail(
        `Invalid 'input[${index}].role': expected one of ${INPUT_ROLES.join(", ")}.`,
        `input[${index}].role`,
      );
    }
    const content =
      typeof item.content === "string"
        ? [{ type: item.role === "assistant" ? "output_text" : "input_text", text: item.content }]
        : item.content;
    if (!Array.isArray(content)) {
      fields.fail(`Invalid 'input[${index}].content'.`, `input[${index}].content`);
    }
    return {
      id: String(item.id ?? `msg_${context.newId()}`),
      type: "message",
      role: item.role,
      status: "completed",
      content,
    };
  });
}

function lastUserText(items: readonly InputItem[]): string {
  const user = items.findLast((i) => i.type === "message" && i.role === "user");
  return user === undefined ? "" : contentText(user.content);
}

/** Checks a create request's fields and builds the finished response. */
function buildResponse(
  fields: Fields,
  deployment: EmulatorDeployment,
  context: ResourceContext,
): Built {
  const items = inputItems(fields, context);
  const instructions = fields.string("instructions") ?? null;
  const stream = fields.boolean("stream") ?? false;
  const background = fields.boolean("background") ?? false;
  const store = fields.boolean("store") ?? true;
  const maxOutputTokens = fields.integer("max_output_tokens", MIN_OUTPUT_TOKENS, 1_000_000) ?? null;
  const temperature = fields.number("temperature", 0, 2) ?? 1;
  const topP = fields.number("top_p", 0, 1) ?? 1;
  const metadata = fields.metadata() ?? {};
  const tools = fields.array("tools") ?? [];
  const user = fields.string("user") ?? null;
  const previous = fields.string("previous_response_id") ?? null;
  if (previous !== null && !context.state.responses.has(previous)) {
    refuse(azureErrors.objectNotFound(`Previous response with id '${previous}' not found.`));
  }
  if (background && !store) {
    fields.fail("Background responses must be stored: set 'store' to true.", "store");
  }
  checkReasoningSampling(fields, deployment);
  checkToolOutputs(fields, items);
  const said = lastUserText(items);
  if (said.includes(FORBIDDEN_WORD) || instructions?.includes(FORBIDDEN_WORD)) {
    refuse(azureErrors.contentFiltered());
  }

  const textOptions = isObject(fields.json.text) ? fields.json.text : {};
  const format = isObject(textOptions.format) ? textOptions.format : { type: "text" };
  const greetingText =
    context.forcedWords === undefined
      ? greeting(deployment.id, said)
      : numberedWords(context.forcedWords);
  const text =
    format.type === "json_schema"
      ? JSON.stringify(sampleOf(format.schema))
      : format.type === "json_object"
        ? JSON.stringify({ answer: greetingText })
        : greetingText;
  const call = functionToCall(fields, items, said);
  const plan = planText(text, maxOutputTokens ?? undefined);
  const incomplete = plan.finishReason === "length";
  const inputTokens = Math.max(
    1,
    items.reduce((sum, i) => sum + countWords(contentText(i.content)), 0) +
      countWords(instructions ?? ""),
  );
  const final: ResponseObject = {
    id: `resp_${context.newId()}`,
    object: "response",
    created_at: seconds(context.now),
    status: incomplete ? "incomplete" : "completed",
    background,
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    instructions,
    max_output_tokens: maxOutputTokens,
    model: deployment.model,
    output: [
      call === undefined
        ? {
            id: `msg_${context.newId()}`,
            type: "message",
            status: incomplete ? "incomplete" : "completed",
            role: "assistant",
            content: [{ type: "output_text", text: plan.pieces.join(""), annotations: [] }],
          }
        : {
            id: `fc_${context.newId()}`,
            type: "function_call",
            status: "completed",
            call_id: `call_${context.newId()}`,
            name: call.name,
            arguments: JSON.stringify(sampleOf(call.parameters)),
          },
    ],
    parallel_tool_calls: fields.boolean("parallel_tool_calls") ?? true,
    previous_response_id: previous,
    reasoning: { effort: null, summary: null },
    store,
    temperature,
    text: { ...textOptions, format },
    tool_choice: fields.json.tool_choice ?? "auto",
    tools,
    top_p: topP,
    truncation: fields.string("truncation") ?? "disabled",
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: plan.pieces.length,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + plan.pieces.length,
    },
    user,
    metadata,
  };
  return { final, plan, inputItems: items, background, stream };
}

/** Reasoning models (and the Responses-only ones, all reasoning) take no sampling controls. */
function checkReasoningSampling(fields: Fields, deployment: EmulatorDeployment): void {
  const family = servingFamilyOf(deployment.model);
  if (family !== "reasoning" && family !== "responses-only") return;
  for (const name of ["temperature", "top_p"]) {
    const value = fields.json[name];
    if (value != null && value !== 1) refuse(azureErrors.unsupportedParameter(name));
  }
}

/** A function_call_output must answer a function_call given earlier in the same input. */
function checkToolOutputs(fields: Fields, items: readonly InputItem[]): void {
  if (fields.json.previous_response_id != null) return;
  const calls = new Set(items.filter((i) => i.type === "function_call").map((i) => i.call_id));
  for (const item of items) {
    if (item.type === "function_call_output" && !calls.has(item.call_id)) {
      fields.fail(
        `No tool call found for function call output with call_id ${String(item.call_id)}.`,
        "input",
      );
    }
  }
}

/**
 * The function the model calls: with function tools offered and not refused, when the user asks
 * about the weather or a function is forced, unless the input already ends with a tool's output.
 */
function functionToCall(
  fields: Fields,
  items: readonly InputItem[],
  said: string,
): { name: string; parameters: unknown } | undefined {
  const tools = (fields.json.tools ?? []) as unknown[];
  const functions = tools.filter(
    (t): t is Record<string, unknown> => isObject(t) && t.type === "function",
  );
  const choice = fields.json.tool_choice;
  if (functions.length === 0 || choice === "none") return undefined;
  if (items.at(-1)?.type === "function_call_output") return undefined;
  const forced = isObject(choice) && typeof choice.name === "string" ? choice.name : undefined;
  if (forced === undefined && choice !== "required" && !/weather/i.test(said)) return undefined;
  const tool = functions.find((f) => f.name === forced) ?? functions[0];
  return tool === undefined ? undefined : { name: String(tool.name), parameters: tool.parameters };
}

function namedEvent(type: string, sequence: number, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...data })}\n\n`;
}

/** The SSE sequence of a finished response, as OpenAI and Azure stream it. */
export function responseStreamEvents(final: ResponseObject, plan: TextPlan): string[] {
  const events: string[] = [];
  const emit = (type: string, data: Record<string, unknown>) => {
    events.push(namedEvent(type, events.length, data));
  };
  const opening = {
    ...final,
    status: "in_progress",
    output: [],
    usage: null,
    incomplete_details: null,
  };
  emit("response.created", { response: opening });
  emit("response.in_progress", { response: opening });
  final.output.forEach((message, outputIndex) => {
    if (message.type === "function_call") {
      const at = { item_id: message.id, output_index: outputIndex };
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...message, status: "in_progress", arguments: "" },
      });
      const half = Math.ceil(message.arguments.length / 2);
      for (const delta of [message.arguments.slice(0, half), message.arguments.slice(half)]) {
        if (delta !== "") emit("response.function_call_arguments.delta", { ...at, delta });
      }
      emit("response.function_call_arguments.done", { ...at, arguments: message.arguments });
      emit("response.output_item.done", { output_index: outputIndex, item: message });
      return;
    }
    const at = { item_id: message.id, output_index: outputIndex, content_index: 0 };
    const part = message.content[0] ?? { type: "output_text", text: "", annotations: [] };
    emit("response.output_item.added", {
      output_index: outputIndex,
      item: { ...message, status: "in_progress", content: [] },
    });
    emit("response.content_part.added", { ...at, part: { ...part, text: "" } });
    for (const delta of plan.pieces)
      emit("response.output_text.delta", { ...at, delta, logprobs: [] });
    emit("response.output_text.done", { ...at, text: part.text, logprobs: [] });
    emit("response.content_part.done", { ...at, part });
    emit("response.output_item.done", { output_index: outputIndex, item: message });
  });
  emit(final.status === "incomplete" ? "response.incomplete" : "response.completed", {
    response: final,
  });
  return events;
}

/** A non-streamed response body for a batch line (never stored). */
export function batchResponse(
  body: Record<string, unknown>,
  deployment: EmulatorDeployment,
  context: ResourceContext,
): Reply {
  const fields = new Fields({ ...body, store: false, stream: false }, "openai");
  return json(buildResponse(fields, deployment, context).final);
}

function store(context: ResourceContext, built: Built): ResponseEntry {
  const entry: ResponseEntry = {
    object: built.final,
    final: built.final,
    plan: built.plan,
    inputItems: built.inputItems,
  };
  if (built.background && !built.stream) {
    const pending = (status: ResponseStatus): ResponseObject => ({
      ...built.final,
      status,
      output: [],
      usage: null,
      incomplete_details: null,
    });
    entry.object = pending("queued");
    entry.lifecycle = context.lifecycles.track(
      new Lifecycle<ResponseStatus>(
        ["queued", "in_progress", built.final.status],
        context.now,
        context.jobDurationMs,
        (status) => {
          entry.object = status === built.final.status ? built.final : pending(status);
        },
      ),
    );
  }
  if (built.final.store) context.state.responses.set(built.final.id, entry);
  return entry;
}

const createResponse: ResourceHandler = (call, context): ModelCall => {
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const deployment = chatDeployment(fields, context, "responses", "notFound");
  return {
    kind: "model-call",
    deployment,
    operationId: "Responses_Create",
    answer: () => {
      try {
        const built = buildResponse(fields, deployment, context);
        const entry = store(context, built);
        return built.stream
          ? { kind: "sse", events: responseStreamEvents(built.final, built.plan) }
          : json(entry.object);
      } catch (error) {
        if (error instanceof Refusal) return errorReplyOf(error);
        throw error;
      }
    },
  };
};

function errorReplyOf(refusal: Refusal): Reply {
  const { status, body, headers } = refusal.error;
  return { kind: "json", status, body, headers };
}

const retrieveResponse: ResourceHandler = (call: ResourceCall, context) => {
  const entry = responseOf(context, call.params.response_id ?? "");
  entry.lifecycle?.poke(context.now);
  if (call.query.stream === "true") {
    if (entry.object !== entry.final) {
      refuse(
        azureErrors.invalidRequest(
          `Response '${entry.final.id}' is still ${entry.object.status}; stream it once it is done.`,
          "stream",
        ),
      );
    }
    return { kind: "sse", events: responseStreamEvents(entry.final, entry.plan) };
  }
  return json(entry.object);
};

const deleteResponse: ResourceHandler = (call, context) => {
  const entry = responseOf(context, call.params.response_id ?? "");
  context.state.responses.delete(entry.final.id);
  entry.lifecycle?.freeze();
  return json({ id: entry.final.id, object: "response", deleted: true });
};

const cancelResponse: ResourceHandler = (call, context) => {
  const entry = responseOf(context, call.params.response_id ?? "");
  if (!entry.final.background) {
    refuse(
      azureErrors.invalidRequest(
        "Only responses created with 'background' set to true can be cancelled.",
        null,
      ),
    );
  }
  entry.lifecycle?.tick(context.now);
  if (entry.object.status === "queued" || entry.object.status === "in_progress") {
    entry.lifecycle?.freeze();
    entry.object = { ...entry.object, status: "cancelled" };
  }
  return json(entry.object);
};

const listInputItems: ResourceHandler = (call, context) => {
  const entry = responseOf(context, call.params.response_id ?? "");
  return json(paginate(entry.inputItems, (i) => i.id, call.query, OPENAI_LIST));
};

export const RESPONSE_HANDLERS = {
  "responses.create": createResponse,
  "responses.retrieve": retrieveResponse,
  "responses.delete": deleteResponse,
  "responses.cancel": cancelResponse,
  "responses.inputItems": listInputItems,
} satisfies Record<string, ResourceHandler>;
