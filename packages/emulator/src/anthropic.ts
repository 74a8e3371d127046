/**
 * Claude on Azure AI Foundry: Anthropic's Messages API at `/anthropic/v1/messages`, with
 * Anthropic's strict request rules, its event sequence and its error shape
 * (`{"type":"error","error":{"type","message"}}`). Answers are deterministic, like chat's: a
 * greeting, or a `tool_use` block when tools are offered and the user asks about the weather (or
 * a tool is forced). Pure apart from the ids and clock it is handed.
 */
import type { IncomingHttpHeaders } from "node:http";
import { countWords, greeting, numberedWords, planText, sampleOf } from "./answers.ts";
import type { CredentialCheck } from "./auth.ts";
import { ENTRA_TOKEN_PREFIX } from "./auth.ts";
import type { ReceivedBody } from "./body.ts";
import { servingFamilyOf } from "./catalog.ts";
import type { Reply } from "./reply.ts";
import type { EmulatorDeployment } from "./types.ts";

export const ANTHROPIC_MESSAGES_PATH = "/anthropic/v1/messages";

type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "api_error";

const STATUS: Record<AnthropicErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  not_found_error: 404,
  api_error: 500,
};

/** An error answer in Anthropic's shape. */
export function anthropicError(type: AnthropicErrorType, message: string): Reply {
  return {
    kind: "json",
    status: STATUS[type],
    body: { type: "error", error: { type, message } },
  };
}

class Refusal extends Error {
  readonly reply: Reply;
  constructor(type: AnthropicErrorType, message: string) {
    super(message);
    this.reply = anthropicError(type, message);
  }
}

function invalid(message: string): never {
  throw new Refusal("invalid_request_error", message);
}

/** The top-level fields Anthropic accepts; any other is "Extra inputs are not permitted". */
const FIELDS = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "stop_sequences",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "tools",
  "tool_choice",
  "metadata",
  "thinking",
  "service_tier",
]);

const MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const BLOCK_TYPES = ["text", "image", "tool_use", "tool_result", "document", "thinking"];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What a checked request asks for. */
export interface AnthropicCall {
  deployment: EmulatorDeployment;
  json: Json;
}

/**
 * Anthropic's checks in its order: key (`x-api-key`, or an `Authorization: Bearer` key or Entra
 * token), `anthropic-version`, body, model (a Claude deployment), then the fields.
 */
export function checkAnthropicRequest(
  headers: IncomingHttpHeaders,
  body: ReceivedBody,
  deployments: ReadonlyMap<string, EmulatorDeployment>,
  credentials: CredentialCheck,
): AnthropicCall | Reply {
  try {
    if (!isClaudeCaller(headers, credentials)) {
      throw new Refusal("authentication_error", "invalid x-api-key");
    }
    if (headers["anthropic-version"] === undefined)
      invalid("anthropic-version: header is required");
    if (body.jsonError !== undefined || !isObject(body.json)) {
      invalid("There was an error parsing the body of your request.");
    }
    const json = body.json;
    for (const name of Object.keys(json)) {
      if (!FIELDS.has(name)) invalid(`${name}: Extra inputs are not permitted`);
    }
    if (typeof json.model !== "string") invalid("model: Field required");
    const deployment = deployments.get(json.model);
    if (deployment === undefined || servingFamilyOf(deployment.model) !== "anthropic") {
      throw new Refusal("not_found_error", `model: ${json.model}`);
    }
    checkFields(json);
    return { deployment, json };
  } catch (error) {
    if (error instanceof Refusal) return error.reply;
    throw error;
  }
}

/** A key as `x-api-key` (unless keys are disabled), or as a Bearer token; or an Entra token. */
function isClaudeCaller(headers: IncomingHttpHeaders, credentials: CredentialCheck): boolean {
  const apiKey = headers["x-api-key"];
  if (apiKey !== undefined) {
    return !credentials.keyless && typeof apiKey === "string" && credentials.isKey(apiKey);
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "")?.[1]?.trim();
  if (bearer === undefined) return false;
  if (credentials.isEntraToken(bearer)) return true;
  if (credentials.keyless) return false;
  const key = bearer.startsWith(ENTRA_TOKEN_PREFIX)
    ? bearer.slice(ENTRA_TOKEN_PREFIX.length)
    : bearer;
  return credentials.isKey(key);
}

function checkFields(json: Json): void {
  const maxTokens = json.max_tokens;
  if (maxTokens === undefined) invalid("max_tokens: Field required");
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens)) {
    invalid("max_tokens: Input should be a valid integer");
  }
  if (maxTokens < 1) invalid("max_tokens: Input should be greater than or equal to 1");
  for (const [name, max] of [
    ["temperature", 1],
    ["top_p", 1],
  ] as const) {
    const value = json[name];
    if (value === undefined) continue;
    if (typeof value !== "number") invalid(`${name}: Input should be a valid number`);
    if (value < 0) invalid(`${name}: Input should be greater than or equal to 0`);
    if (value > max) invalid(`${name}: Input should be less than or equal to ${max}`);
  }
  if (json.system !== undefined && typeof json.system !== "string" && !Array.isArray(json.system)) {
    invalid("system: Input should be a valid string");
  }
  if (json.stop_sequences !== undefined && !Array.isArray(json.stop_sequences)) {
    invalid("stop_sequences: Input should be a valid list");
  }
  const tools = checkTools(json.tools);
  checkToolChoice(json.tool_choice, tools);
  checkMessages(json.messages);
}

function checkTools(tools: unknown): string[] {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) invalid("tools: Input should be a valid list");
  return tools.map((tool, i) => {
    if (!isObject(tool)) invalid(`tools.${i}: Input should be a valid dictionary`);
    if (typeof tool.name !== "string") invalid(`tools.${i}.name: Field required`);
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
      invalid(`tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    }
    if (!isObject(tool.input_schema)) invalid(`tools.${i}.input_schema: Field required`);
    for (const name of Object.keys(tool)) {
      if (!["name", "description", "input_schema", "type", "cache_control"].includes(name)) {
        invalid(`tools.${i}.${name}: Extra inputs are not permitted`);
      }
    }
    return tool.name;
  });
}

function checkToolChoice(choice: unknown, tools: readonly string[]): void {
  if (choice === undefined) return;
  if (!isObject(choice) || !["auto", "any", "tool", "none"].includes(String(choice.type))) {
    invalid(
      "tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
    );
  }
  if (choice.type === "tool") {
    if (typeof choice.name !== "string") invalid("tool_choice.tool.name: Field required");
    if (!tools.includes(choice.name)) invalid(`Tool '${choice.name}' not found in provided tools`);
  }
  if (choice.type !== "none" && tools.length === 0) {
    invalid("tool_choice may only be specified while providing tools.");
  }
}

function checkMessages(messages: unknown): void {
  if (messages === undefined) invalid("messages: Field required");
  if (!Array.isArray(messages)) invalid("messages: Input should be a valid list");
  if (messages.length === 0) invalid("messages: at least one message is required");
  let pendingToolUses: string[] = [];
  messages.forEach((message, i) => {
    if (!isObject(message)) invalid(`messages.${i}: Input should be a valid dictionary`);
    if (message.role === "system") {
      invalid(
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
      );
    }
    if (message.role !== "user" && message.role !== "assistant") {
      invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    const blocks = checkContent(message.content, i, message.role, messages.length);
    const results = blocks
      .filter((b) => b.type === "tool_result")
      .map((b) => String(b.tool_use_id));
    if (pendingToolUses.length > 0) {
      const missing = pendingToolUses.filter((id) => !results.includes(id));
      if (missing.length > 0) {
        invalid(
          `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    blocks.forEach((block, j) => {
      if (block.type === "tool_result" && !pendingToolUses.includes(String(block.tool_use_id))) {
        invalid(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    });
    pendingToolUses = blocks.filter((b) => b.type === "tool_use").map((b) => String(b.id));
  });
  if (pendingToolUses.length > 0) {
    invalid(
      `messages.${messages.length - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${pendingToolUses.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    );
  }
}

function checkContent(content: unknown, i: number, role: string, count: number): Json[] {
  const finalAssistant = role === "assistant" && i === count - 1;
  if (typeof content === "string") {
    if (content === "" && !finalAssistant) {
      invalid(
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
    return [{ type: "text", text: content }];
  }
  if (!Array.isArray(content)) invalid(`messages.${i}.content: Input should be a valid list`);
  if (content.length === 0 && !finalAssistant) {
    invalid(
      `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
    );
  }
  return content.map((block, j) => {
    const at = `messages.${i}.content.${j}`;
    if (!isObject(block) || !BLOCK_TYPES.includes(String(block.type))) {
      invalid(
        `${at}: Input tag '${String(isObject(block) ? block.type : "")}' found using 'type' does not match any of the expected tags: ${BLOCK_TYPES.map((t) => `'${t}'`).join(", ")}`,
      );
    }
    switch (block.type) {
      case "text":
        if (typeof block.text !== "string") invalid(`${at}.text: Field required`);
        if (block.text === "") invalid("messages: text content blocks must be non-empty");
        break;
      case "image":
        checkImage(block.source, at);
        break;
      case "tool_use":
        if (role !== "assistant")
          invalid(`${at}: tool_use blocks may only appear in assistant messages`);
        if (typeof block.id !== "string") invalid(`${at}.id: Field required`);
        if (typeof block.name !== "string") invalid(`${at}.name: Field required`);
        if (!isObject(block.input)) invalid(`${at}.input: Input should be a valid dictionary`);
        break;
      case "tool_result":
        if (role !== "user") invalid(`${at}: tool_result blocks may only appear in user messages`);
        if (typeof block.tool_use_id !== "string") invalid(`${at}.tool_use_id: Field required`);
        break;
    }
    return block;
  });
}

function checkImage(source: unknown, at: string): void {
  if (!isObject(source)) invalid(`${at}.source: Field required`);
  if (source.type === "base64") {
    if (!MEDIA_TYPES.includes(String(source.media_type))) {
      invalid(
        `${at}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
      );
    }
    if (typeof source.data !== "string" || source.data === "") {
      invalid(`${at}.source.base64.data: Field required`);
    }
  } else if (source.type === "url") {
    if (typeof source.url !== "string" || !/^https?:\/\//.test(source.url)) {
      invalid(`${at}.source.url.url: Input should be a valid URL`);
    }
  } else {
    invalid(
      `${at}.source: Input tag '${String(source.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url'`,
    );
  }
}

// ---- the answer ----

function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => (isObject(b) && b.type === "text" ? String(b.text) : ""))
    .filter((t) => t !== "")
    .join(" ");
}

/** The tool Claude calls, if any: forced, or offered while the user asks about the weather. */
function toolToUse(json: Json): { name: string; schema: unknown } | undefined {
  const tools = (Array.isArray(json.tools) ? json.tools : []) as Json[];
  const choice = isObject(json.tool_choice) ? json.tool_choice : { type: "auto" };
  if (tools.length === 0 || choice.type === "none") return undefined;
  const messages = json.messages as Json[];
  const last = messages.at(-1);
  const answersTool =
    Array.isArray(last?.content) &&
    last.content.some((b) => isObject(b) && b.type === "tool_result");
  if (choice.type === "tool") {
    const tool = tools.find((t) => t.name === choice.name);
    return tool === undefined ? undefined : { name: String(tool.name), schema: tool.input_schema };
  }
  if (answersTool) return undefined;
  const said = blockText(last?.content);
  if (choice.type !== "any" && !/weather/i.test(said)) return undefined;
  const tool = tools[0];
  return tool === undefined ? undefined : { name: String(tool.name), schema: tool.input_schema };
}

export interface AnthropicContext {
  forcedWords?: number;
  newId: () => string;
}

/** Claude's deterministic answer: JSON, or the event sequence when `stream` is true. */
export function answerAnthropic(call: AnthropicCall, context: AnthropicContext): Reply {
  const { json, deployment } = call;
  const messages = json.messages as Json[];
  const said = blockText(messages.findLast((m) => m.role === "user")?.content);
  const inputTokens = Math.max(
    1,
    messages.reduce((sum, m) => sum + countWords(blockText(m.content)), 0) +
      countWords(blockText(json.system)),
  );
  const id = `msg_${context.newId()}`;
  const tool = toolToUse(json);
  const text =
    context.forcedWords === undefined
      ? greeting(deployment.id, said)
      : numberedWords(context.forcedWords);
  const plan = planText(text, json.max_tokens as number);
  const toolUse =
    tool === undefined
      ? undefined
      : {
          type: "tool_use",
          id: `toolu_${context.newId()}`,
          name: tool.name,
          input: sampleOf(tool.schema) ?? {},
        };
  const content =
    toolUse === undefined ? [{ type: "text", text: plan.pieces.join("") }] : [toolUse];
  const stopReason =
    toolUse !== undefined ? "tool_use" : plan.finishReason === "length" ? "max_tokens" : "end_turn";
  const outputTokens = toolUse === undefined ? plan.pieces.length : 10;
  const usage = {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
  };
  const message = {
    id,
    type: "message",
    role: "assistant",
    model: deployment.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
  if (json.stream !== true) return { kind: "json", status: 200, body: message };

  const events: string[] = [];
  const emit = (type: string, data: Json) =>
    events.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  emit("message_start", {
    message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
  });
  if (toolUse === undefined) {
    emit("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
    emit("ping", {});
    for (const piece of plan.pieces) {
      emit("content_block_delta", { index: 0, delta: { type: "text_delta", text: piece } });
    }
  } else {
    emit("content_block_start", { index: 0, content_block: { ...toolUse, input: {} } });
    emit("ping", {});
    const input = JSON.stringify(toolUse.input);
    const half = Math.ceil(input.length / 2);
    for (const partial of ["", input.slice(0, half), input.slice(half)]) {
      emit("content_block_delta", {
        index: 0,
        delta: { type: "input_json_delta", partial_json: partial },
      });
    }
  }
  emit("content_block_stop", { index: 0 });
  emit("message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  emit("message_stop", {});
  return { kind: "sse", events };
}
