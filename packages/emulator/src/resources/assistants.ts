import { azureErrors } from "../errors.ts";
import { json, type ResourceContext, type ResourceHandler, seconds } from "./context.ts";
import type {
  AssistantEntry,
  AssistantObject,
  MessageObject,
  RunEntry,
  RunStatus,
  ThreadEntry,
} from "./entries.ts";
import { Fields, isObject, jsonObject, refuse } from "./fields.ts";
import { OPENAI_LIST, paginate } from "./lists.ts";
import { chatDeployment } from "./models.ts";

const TOOL_TYPES = ["code_interpreter", "file_search", "function"];
const MAX_TOOLS = 128;

const ACTIVE: readonly RunStatus[] = ["queued", "in_progress", "requires_action", "cancelling"];

// ---- lookups ----

export function assistantOf(context: ResourceContext, id: string): AssistantEntry {
  return (
    context.state.assistants.get(id) ??
    refuse(azureErrors.objectNotFound(`No assistant found with id '${id}'.`))
  );
}

export function threadOf(context: ResourceContext, id: string): ThreadEntry {
  return (
    context.state.threads.get(id) ??
    refuse(azureErrors.objectNotFound(`No thread found with id '${id}'.`))
  );
}

function messageOf(thread: ThreadEntry, id: string): MessageObject {
  return (
    thread.messages.get(id) ??
    refuse(azureErrors.objectNotFound(`No message found with id '${id}'.`))
  );
}

export function runOf(thread: ThreadEntry, id: string): RunEntry {
  return thread.runs.get(id) ?? refuse(azureErrors.objectNotFound(`No run found with id '${id}'.`));
}

function activeRun(thread: ThreadEntry): RunEntry | undefined {
  return [...thread.runs.values()].find((r) => ACTIVE.includes(r.object.status));
}

// ---- assistants ----

export function toolsOf(fields: Fields): unknown[] | undefined {
  const tools = fields.array("tools", MAX_TOOLS);
  tools?.forEach((tool, index) => {
    const type = isObject(tool) ? tool.type : undefined;
    if (typeof type !== "string" || !TOOL_TYPES.includes(type)) {
      fields.fail(
        `Invalid 'tools[${index}].type': expected one of ${TOOL_TYPES.join(", ")}.`,
        `tools[${index}].type`,
      );
    }
    if (type === "function") {
      const fn = (tool as Record<string, unknown>).function;
      if (!isObject(fn) || typeof fn.name !== "string" || fn.name === "") {
        fields.fail(
          `Missing required parameter: 'tools[${index}].function.name'.`,
          `tools[${index}].function.name`,
        );
      }
    }
  });
  return tools;
}

export function responseFormatOf(fields: Fields): unknown {
  const value = fields.json.response_format;
  if (value === undefined || value === null) return undefined;
  if (value !== "auto" && !isObject(value)) {
    fields.fail("Invalid 'response_format': expected 'auto' or an object.", "response_format");
  }
  return value;
}

/** Applies an assistant's fields from a create or modify body. */
function applyAssistantFields(
  assistant: AssistantObject,
  fields: Fields,
  context: ResourceContext,
) {
  if (fields.has("model")) {
    assistant.model = chatDeployment(fields, context, "assistants", "badRequest").id;
  }
  assistant.name = fields.string("name", 256) ?? assistant.name;
  assistant.description = fields.string("description", 512) ?? assistant.description;
  assistant.instructions = fields.string("instructions", 256_000) ?? assistant.instructions;
  assistant.tools = toolsOf(fields) ?? assistant.tools;
  assistant.tool_resources = fields.object("tool_resources") ?? assistant.tool_resources;
  assistant.metadata = fields.metadata() ?? assistant.metadata;
  assistant.temperature = fields.number("temperature", 0, 2) ?? assistant.temperature;
  assistant.top_p = fields.number("top_p", 0, 1) ?? assistant.top_p;
  assistant.response_format = responseFormatOf(fields) ?? assistant.response_format;
}

const createAssistant: ResourceHandler = (call, context) => {
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const model = chatDeployment(fields, context, "assistants", "badRequest").id;
  const assistant: AssistantObject = {
    id: `asst_${context.newId()}`,
    object: "assistant",
    created_at: seconds(context.now),
    name: null,
    description: null,
    model,
    instructions: null,
    tools: [],
    tool_resources: {},
    metadata: {},
    top_p: 1,
    temperature: 1,
    response_format: "auto",
  };
  applyAssistantFields(assistant, fields, context);
  context.state.assistants.set(assistant.id, { object: assistant });
  return json(assistant);
};

const listAssistants: ResourceHandler = (call, context) => {
  const assistants = [...context.state.assistants.values()].map((a) => a.object);
  return json(paginate(assistants, (a) => a.id, call.query, OPENAI_LIST));
};

const retrieveAssistant: ResourceHandler = (call, context) =>
  json(assistantOf(context, call.params.assistant_id ?? "").object);

const modifyAssistant: ResourceHandler = (call, context) => {
  const assistant = assistantOf(context, call.params.assistant_id ?? "").object;
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const draft = { ...assistant };
  applyAssistantFields(draft, fields, context);
  Object.assign(assistant, draft);
  return json(assistant);
};

const deleteAssistant: ResourceHandler = (call, context) => {
  const { id } = assistantOf(context, call.params.assistant_id ?? "").object;
  context.state.assistants.delete(id);
  return json({ id, object: "assistant.deleted", deleted: true });
};

// ---- messages ----

function messageContent(fields: Fields): unknown[] {
  fields.required("content");
  const { content } = fields.json;
  if (typeof content === "string") {
    if (content === "") fields.fail("Invalid 'content': empty string.", "content");
    return [{ type: "text", text: { value: content, annotations: [] } }];
  }
  if (!Array.isArray(content) || content.length === 0) {
    fields.fail("Invalid 'content': expected a string or a non-empty array of parts.", "content");
  }
  return content.map((part, index) => {
    if (!isObject(part)) fields.fail(`Invalid 'content[${index}]'.`, "content");
    if (part.type === "text") {
      if (typeof part.text !== "string") {
        fields.fail(`Invalid 'content[${index}].text': expected a string.`, "content");
      }
      return { type: "text", text: { value: part.text, annotations: [] } };
    }
    if (part.type === "image_file" || part.type === "image_url") return part;
    return fields.fail(
      `Invalid 'content[${index}].type': expected text, image_file or image_url.`,
      "content",
    );
  });
}

/** A user or assistant message from a create body (messages, threads, additional_messages). */
function newMessage(fields: Fields, thread: ThreadEntry, context: ResourceContext): MessageObject {
  fields.required("role");
  const role = fields.choice("role", ["user", "assistant"] as const) as "user" | "assistant";
  return {
    id: `msg_${context.newId()}`,
    object: "thread.message",
    created_at: seconds(context.now),
    thread_id: thread.object.id,
    status: "completed",
    incomplete_details: null,
    completed_at: seconds(context.now),
    incomplete_at: null,
    role,
    content: messageContent(fields),
    assistant_id: null,
    run_id: null,
    attachments: fields.array("attachments") ?? [],
    metadata: fields.metadata() ?? {},
  };
}

export function messagesFrom(
  list: unknown[] | undefined,
  name: string,
  thread: ThreadEntry,
  context: ResourceContext,
): MessageObject[] {
  return (list ?? []).map((item, index) => {
    if (!isObject(item)) refuse(azureErrors.invalidRequest(`Invalid '${name}[${index}]'.`, name));
    return newMessage(new Fields(item, "openai"), thread, context);
  });
}

export function refuseWhileActive(thread: ThreadEntry, what: string): void {
  const run = activeRun(thread);
  if (run !== undefined) {
    refuse(
      azureErrors.invalidRequest(
        `Can't ${what} thread ${thread.object.id} while a run ${run.object.id} is active.`,
      ),
    );
  }
}

const createMessage: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  const message = newMessage(
    new Fields(jsonObject(call.body, "openai"), "openai"),
    thread,
    context,
  );
  refuseWhileActive(thread, "add messages to");
  thread.messages.set(message.id, message);
  return json(message);
};

const listMessages: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  const { run_id: runId } = call.query;
  const messages = [...thread.messages.values()].filter(
    (m) => runId === undefined || m.run_id === runId,
  );
  return json(paginate(messages, (m) => m.id, call.query, OPENAI_LIST));
};

const retrieveMessage: ResourceHandler = (call, context) =>
  json(messageOf(threadOf(context, call.params.thread_id ?? ""), call.params.message_id ?? ""));

const modifyMessage: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  const message = messageOf(thread, call.params.message_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  message.metadata = fields.metadata() ?? message.metadata;
  return json(message);
};

const deleteMessage: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  const { id } = messageOf(thread, call.params.message_id ?? "");
  thread.messages.delete(id);
  return json({ id, object: "thread.message.deleted", deleted: true });
};

// ---- threads ----

export function newThread(fields: Fields, context: ResourceContext): ThreadEntry {
  const thread: ThreadEntry = {
    object: {
      id: `thread_${context.newId()}`,
      object: "thread",
      created_at: seconds(context.now),
      metadata: fields.metadata() ?? {},
      tool_resources: fields.object("tool_resources") ?? {},
    },
    messages: new Map(),
    runs: new Map(),
  };
  for (const message of messagesFrom(fields.array("messages"), "messages", thread, context)) {
    thread.messages.set(message.id, message);
  }
  return thread;
}

const createThread: ResourceHandler = (call, context) => {
  const thread = newThread(new Fields(jsonObject(call.body, "openai"), "openai"), context);
  context.state.threads.set(thread.object.id, thread);
  return json(thread.object);
};

const retrieveThread: ResourceHandler = (call, context) =>
  json(threadOf(context, call.params.thread_id ?? "").object);

const modifyThread: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "").object;
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  thread.metadata = fields.metadata() ?? thread.metadata;
  thread.tool_resources = fields.object("tool_resources") ?? thread.tool_resources;
  return json(thread);
};

const deleteThread: ResourceHandler = (call, context) => {
  const thread = threadOf(context, call.params.thread_id ?? "");
  for (const run of thread.runs.values()) run.lifecycle.freeze();
  context.state.threads.delete(thread.object.id);
  return json({ id: thread.object.id, object: "thread.deleted", deleted: true });
};

export const ASSISTANT_HANDLERS = {
  "assistants.create": createAssistant,
  "assistants.list": listAssistants,
  "assistants.retrieve": retrieveAssistant,
  "assistants.modify": modifyAssistant,
  "assistants.delete": deleteAssistant,
  "threads.create": createThread,
  "threads.retrieve": retrieveThread,
  "threads.modify": modifyThread,
  "threads.delete": deleteThread,
  "messages.create": createMessage,
  "messages.list": listMessages,
  "messages.retrieve": retrieveMessage,
  "messages.modify": modifyMessage,
  "messages.delete": deleteMessage,
} satisfies Record<string, ResourceHandler>;
