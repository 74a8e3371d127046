/**
 * Assistants v2 runs and run steps. A run goes queued → in_progress → completed (or
 * requires_action when the user asks about the weather and function tools are offered, then
 * completed after `submit_tool_outputs`); on completion it appends the assistant's message to the
 * thread. `stream: true` answers the whole run at once as Assistants SSE events.
 */
import { countWords, greeting, numberedWords, planText, type TextPlan } from "../answers.ts";
import type { ResourceCall } from "../dispatch.ts";
import { azureErrors } from "../errors.ts";
import type { Reply } from "../reply.ts";
import type { EmulatorDeployment } from "../types.ts";
import {
  assistantOf,
  messagesFrom,
  newThread,
  refuseWhileActive,
  responseFormatOf,
  runOf,
  threadOf,
  toolsOf,
} from "./assistants.ts";
import { json, type ResourceContext, type ResourceHandler, seconds } from "./context.ts";
import type {
  MessageObject,
  RunEntry,
  RunRequest,
  RunStatus,
  StepObject,
  ThreadEntry,
  ToolCall,
} from "./entries.ts";
import { Fields, isObject, jsonObject, refuse } from "./fields.ts";
import { Lifecycle } from "./lifecycle.ts";
import { OPENAI_LIST, paginate } from "./lists.ts";
import { chatDeployment } from "./models.ts";
import { contentText } from "./responses.ts";

const RUN_LIFETIME_S = 10 * 60;

const ignore = () => {};

// ---- runs ----

function streamEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

function functionToCall(tools: readonly unknown[], toolChoice: unknown, said: string) {
  if (toolChoice === "none" || !/weather/i.test(said)) return undefined;
  const named =
    isObject(toolChoice) && isObject(toolChoice.function) ? toolChoice.function.name : undefined;
  if (typeof named === "string") return named;
  for (const tool of tools) {
    if (isObject(tool) && tool.type === "function" && isObject(tool.function)) {
      return String(tool.function.name);
    }
  }
  return undefined;
}

function lastUserText(thread: ThreadEntry): string {
  const message = [...thread.messages.values()].findLast((m) => m.role === "user");
  return message === undefined ? "" : contentText(message.content);
}

function promptTokens(thread: ThreadEntry, instructions: string): number {
  const words = [...thread.messages.values()].reduce(
    (sum, m) => sum + countWords(contentText(m.content)),
    countWords(instructions),
  );
  return Math.max(1, words);
}

function newStep(
  run: RunEntry,
  context: ResourceContext,
  now: number,
  details: StepObject["step_details"],
): StepObject {
  const step: StepObject = {
    id: `step_${context.newId()}`,
    object: "thread.run.step",
    created_at: seconds(now),
    assistant_id: run.object.assistant_id,
    thread_id: run.object.thread_id,
    run_id: run.object.id,
    type: details.type,
    status: "in_progress",
    step_details: details,
    last_error: null,
    expired_at: null,
    cancelled_at: null,
    failed_at: null,
    completed_at: null,
    metadata: {},
    usage: null,
  };
  run.steps.set(step.id, step);
  run.emit("thread.run.step.created", step);
  run.emit("thread.run.step.in_progress", step);
  return step;
}

/** The answer message: created, streamed word by word, completed; then the run finishes. */
function answer(
  run: RunEntry,
  thread: ThreadEntry,
  context: ResourceContext,
  now: number,
  plan: TextPlan,
) {
  const at = seconds(now);
  const message: MessageObject = {
    id: `msg_${context.newId()}`,
    object: "thread.message",
    created_at: at,
    thread_id: thread.object.id,
    status: "in_progress",
    incomplete_details: null,
    completed_at: null,
    incomplete_at: null,
    role: "assistant",
    content: [],
    assistant_id: run.object.assistant_id,
    run_id: run.object.id,
    attachments: [],
    metadata: {},
  };
  const step = newStep(run, context, now, {
    type: "message_creation",
    message_creation: { message_id: message.id },
  });
  thread.messages.set(message.id, message);
  run.emit("thread.message.created", message);
  run.emit("thread.message.in_progress", message);
  for (const piece of plan.pieces) {
    run.emit("thread.message.delta", {
      id: message.id,
      object: "thread.message.delta",
      delta: { content: [{ index: 0, type: "text", text: { value: piece, annotations: [] } }] },
    });
  }
  const incomplete = plan.finishReason === "length";
  message.content = [{ type: "text", text: { value: plan.pieces.join(""), annotations: [] } }];
  message.status = incomplete ? "incomplete" : "completed";
  if (incomplete) {
    message.incomplete_details = { reason: "max_tokens" };
    message.incomplete_at = at;
  } else {
    message.completed_at = at;
  }
  run.emit(incomplete ? "thread.message.incomplete" : "thread.message.completed", message);

  const prompt = promptTokens(thread, run.object.instructions);
  const usage = {
    prompt_tokens: prompt,
    completion_tokens: plan.pieces.length,
    total_tokens: prompt + plan.pieces.length,
  };
  step.status = "completed";
  step.completed_at = at;
  step.usage = usage;
  run.emit("thread.run.step.completed", step);
  run.object.usage = usage;
  run.object.completed_at = at;
  if (incomplete) run.object.incomplete_details = { reason: "max_completion_tokens" };
}

/** The run's answer: the emulator's greeting about what the user (or the tool) said. */
function answerPlan(
  deployment: EmulatorDeployment,
  said: string,
  maxCompletionTokens: number | null,
  context: ResourceContext,
): TextPlan {
  const text =
    context.forcedWords === undefined
      ? greeting(deployment.id, said)
      : numberedWords(context.forcedWords);
  return planText(text, maxCompletionTokens ?? undefined);
}

function finalStatus(
  deployment: EmulatorDeployment,
  said: string,
  maxCompletionTokens: number | null,
  context: ResourceContext,
): RunStatus {
  const plan = answerPlan(deployment, said, maxCompletionTokens, context);
  return plan.finishReason === "length" ? "incomplete" : "completed";
}

function runPlan(run: RunEntry, context: ResourceContext): TextPlan {
  return answerPlan(run.deployment, run.said, run.object.max_completion_tokens, context);
}

function enterRunStatus(
  run: RunEntry,
  thread: ThreadEntry,
  context: ResourceContext,
  status: RunStatus,
  now: number,
) {
  const { object } = run;
  object.status = status;
  const at = seconds(now);
  switch (status) {
    case "in_progress":
      object.started_at ??= at;
      break;
    case "requires_action": {
      const name = functionToCall(object.tools, object.tool_choice, run.said) ?? "function";
      const call: ToolCall = {
        id: `call_${context.newId()}`,
        type: "function",
        function: { name, arguments: "{}" },
      };
      const step = newStep(run, context, now, { type: "tool_calls", tool_calls: [call] });
      run.toolCall = { step, call };
      object.required_action = {
        type: "submit_tool_outputs",
        submit_tool_outputs: { tool_calls: [call] },
      };
      break;
    }
    case "completed":
    case "incomplete":
      answer(run, thread, context, now, runPlan(run, context));
      break;
    case "cancelled":
      object.cancelled_at = at;
      for (const step of run.steps.values()) {
        if (step.status === "in_progress") {
          step.status = "cancelled";
          step.cancelled_at = at;
        }
      }
      break;
  }
  run.emit(`thread.run.${status}`, object);
}

/** Checks a run's fields (create or create-thread-and-run) and starts it. */
function startRun({ assistant, thread, fields }: RunRequest, context: ResourceContext): RunEntry {
  const deployment = chatDeployment(
    fields,
    context,
    "assistants",
    "badRequest",
    fields.string("model") ?? assistant.model,
  );
  const instructions = [
    fields.string("instructions", 256_000) ?? assistant.instructions ?? "",
    fields.string("additional_instructions") ?? "",
  ]
    .filter((t) => t !== "")
    .join("\n");
  const additional = messagesFrom(
    fields.array("additional_messages"),
    "additional_messages",
    thread,
    context,
  );
  const tools = toolsOf(fields) ?? assistant.tools;
  const toolChoice = fields.json.tool_choice ?? "auto";
  const maxCompletion = fields.integer("max_completion_tokens", 1, 1_000_000) ?? null;
  const metadata = fields.metadata() ?? {};
  const temperature = fields.number("temperature", 0, 2) ?? assistant.temperature;
  const topP = fields.number("top_p", 0, 1) ?? assistant.top_p;
  const maxPrompt = fields.integer("max_prompt_tokens", 1, 1_000_000) ?? null;
  const truncation = fields.object("truncation_strategy") ?? { type: "auto", last_messages: null };
  const responseFormat = responseFormatOf(fields) ?? assistant.response_format;
  const parallelToolCalls = fields.boolean("parallel_tool_calls") ?? true;

  refuseWhileActive(thread, "create a run on");
  for (const message of additional) thread.messages.set(message.id, message);
  const said = lastUserText(thread);
  const needsTool = functionToCall(tools, toolChoice, said) !== undefined;
  const last = needsTool
    ? "requires_action"
    : finalStatus(deployment, said, maxCompletion, context);
  const createdAt = seconds(context.now);
  const run: RunEntry = {
    object: {
      id: `run_${context.newId()}`,
      object: "thread.run",
      created_at: createdAt,
      assistant_id: assistant.id,
      thread_id: thread.object.id,
      status: "queued",
      started_at: null,
      expires_at: createdAt + RUN_LIFETIME_S,
      cancelled_at: null,
      failed_at: null,
      completed_at: null,
      required_action: null,
      last_error: null,
      model: deployment.id,
      instructions,
      tools,
      metadata,
      incomplete_details: null,
      usage: null,
      temperature,
      top_p: topP,
      max_prompt_tokens: maxPrompt,
      max_completion_tokens: maxCompletion,
      truncation_strategy: truncation,
      response_format: responseFormat,
      tool_choice: toolChoice,
      parallel_tool_calls: parallelToolCalls,
    },
    lifecycle: context.lifecycles.track(
      new Lifecycle<RunStatus>(
        ["queued", "in_progress", last],
        context.now,
        context.jobDurationMs,
        (status, now) => enterRunStatus(run, thread, context, status, now),
      ),
    ),
    steps: new Map(),
    deployment,
    said,
    emit: ignore,
  };
  thread.runs.set(run.object.id, run);
  return run;
}

/** Collects a run's events while `drive` moves it, then ends with `done`. */
function streamRun(run: RunEntry, opening: string[], drive: () => void): Reply {
  const events = [...opening];
  run.emit = (event, data) => events.push(streamEvent(event, data));
  try {
    drive();
  } finally {
    run.emit = ignore;
  }
  events.push(streamEvent("done", "[DONE]"));
  return { kind: "sse", events };
}

function answerRun(run: RunEntry, stream: boolean, context: ResourceContext, opening: string[]) {
  if (!stream) return json(run.object);
  return streamRun(run, opening, () => {
    run.emit("thread.run.created", run.object);
    run.emit("thread.run.queued", run.object);
    run.lifecycle.finish(context.now);
  });
}

const createRun: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  fields.required("assistant_id");
  const assistant = assistantOf(context, fields.requiredString("assistant_id")).object;
  const stream = fields.boolean("stream") ?? false;
  const run = startRun({ assistant, thread, fields }, context);
  return answerRun(run, stream, context, []);
};

const createThreadAndRun: ResourceHandler = (call, context) => {
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  fields.required("assistant_id");
  const assistant = assistantOf(context, fields.requiredString("assistant_id")).object;
  const stream = fields.boolean("stream") ?? false;
  const thread = newThread(new Fields(fields.object("thread") ?? {}, "openai"), context);
  const run = startRun({ assistant, thread, fields }, context);
  context.state.threads.set(thread.object.id, thread);
  return answerRun(run, stream, context, [streamEvent("thread.created", thread.object)]);
};

const listRuns: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  const runs = [...thread.runs.values()].map((r) => r.object);
  return json(paginate(runs, (r) => r.id, call.query, OPENAI_LIST));
};

const retrieveRun: ResourceHandler = (call, context) => {
  const run = runOf(threadOf(context, call.params.thread_id ?? ""), call.params.run_id ?? "");
  run.lifecycle.poke(context.now);
  return json(run.object);
};

const modifyRun: ResourceHandler = (call, context) => {
  const run = runOf(threadOf(context, call.params.thread_id ?? ""), call.params.run_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  run.object.metadata = fields.metadata() ?? run.object.metadata;
  return json(run.object);
};

const cancelRun: ResourceHandler = (call, context) => {
  const run = runOf(threadOf(context, call.params.thread_id ?? ""), call.params.run_id ?? "");
  const { status } = run.object;
  if (status !== "queued" && status !== "in_progress" && status !== "requires_action") {
    refuse(azureErrors.invalidRequest(`Cannot cancel run with status '${status}'.`));
  }
  run.object.required_action = null;
  run.lifecycle.restart(["cancelling", "cancelled"], context.now);
  context.lifecycles.track(run.lifecycle);
  return json(run.object);
};

function toolOutputs(fields: Fields): { tool_call_id: string; output: string }[] {
  fields.required("tool_outputs");
  const outputs = fields.array("tool_outputs") as unknown[];
  return outputs.map((item, index) => {
    const ok = isObject(item) && typeof item.tool_call_id === "string";
    if (!ok) {
      fields.fail(
        `Missing required parameter: 'tool_outputs[${index}].tool_call_id'.`,
        "tool_outputs",
      );
    }
    return { tool_call_id: String(item.tool_call_id), output: String(item.output ?? "") };
  });
}

const submitToolOutputs: ResourceHandler = (call: ResourceCall, context) => {
  const run = runOf(threadOf(context, call.params.thread_id ?? ""), call.params.run_id ?? "");
  run.lifecycle.tick(context.now);
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const outputs = toolOutputs(fields);
  const stream = fields.boolean("stream") ?? false;
  const pending = run.toolCall;
  if (run.object.status !== "requires_action" || pending === undefined) {
    refuse(
      azureErrors.invalidRequest(
        `Runs in status "${run.object.status}" do not accept tool outputs.`,
        null,
      ),
    );
  }
  const answered = outputs.map((o) => o.tool_call_id);
  if (answered.length !== 1 || answered[0] !== pending.call.id) {
    refuse(
      azureErrors.invalidRequest(
        `Expected tool outputs for call_ids ['${pending.call.id}'], got [${answered.map((a) => `'${a}'`).join(", ")}].`,
        "tool_outputs",
      ),
    );
  }
  const output = outputs[0]?.output ?? "";
  const at = seconds(context.now);
  pending.call.function.output = output;
  pending.step.status = "completed";
  pending.step.completed_at = at;
  run.toolCall = undefined;
  run.said = output;
  run.object.required_action = null;
  const last = finalStatus(run.deployment, output, run.object.max_completion_tokens, context);
  const drive = () => {
    run.emit("thread.run.step.completed", pending.step);
    run.lifecycle.restart(["in_progress", last], context.now);
  };
  if (stream) {
    return streamRun(run, [], () => {
      drive();
      run.lifecycle.finish(context.now);
    });
  }
  drive();
  context.lifecycles.track(run.lifecycle);
  return json(run.object);
};

const listRunSteps: ResourceHandler = (call, context) => {
  const run = runOf(threadOf(context, call.params.thread_id ?? ""), call.params.run_id ?? "");
  return json(paginate([...run.steps.values()], (s) => s.id, call.query, OPENAI_LIST));
};

const retrieveRunStep: ResourceHandler = (call, context) => {
  const run = runOf(threadOf(context, call.params.thread_id ?? ""), call.params.run_id ?? "");
  const step = run.steps.get(call.params.step_id ?? "");
  if (step === undefined) {
    refuse(azureErrors.objectNotFound(`No run step found with id '${call.params.step_id}'.`));
  }
  return json(step);
};

export const RUN_HANDLERS = {
  "runs.create": createRun,
  "runs.createThreadAndRun": createThreadAndRun,
  "runs.list": listRuns,
  "runs.retrieve": retrieveRun,
  "runs.modify": modifyRun,
  "runs.cancel": cancelRun,
  "runs.submitToolOutputs": submitToolOutputs,
  "runSteps.list": listRunSteps,
  "runSteps.retrieve": retrieveRunStep,
} satisfies Record<string, ResourceHandler>;
