import { invalidChatRequest, parameterNotTranslatable } from "../openai/errors.ts";
import { contentParts, contentText, imageOf, readChatRequest } from "./chat-messages.ts";
import type { ChatFunctionTool, ChatMessage, TranslatedRequest } from "./chat-types.ts";
import { isObject, isSet } from "./chat-types.ts";

const API = "Anthropic's Messages API";

/** Chat parameters Anthropic has no place for; they are dropped and reported. */
const DROPPED = [
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "seed",
  "metadata",
  "service_tier",
  "reasoning_effort",
] as const;

/**
 * The tool a `json_schema` answer is asked through: Anthropic fills a forced tool's input to
 * its schema, so the answer is valid JSON; the answer translators turn that input back into text.
 */
export const JSON_ANSWER_TOOL = "json_answer";

export interface AnthropicRequest extends TranslatedRequest {
  /** Set when the answer comes as this tool's input and must be given to the client as content. */
  readonly jsonTool: string | undefined;
}

type Block = Record<string, unknown>;
interface Turn {
  role: "user" | "assistant";
  content: Block[];
}

/**
 * A Chat Completions request as an Anthropic Messages request for `deployment`. Anthropic needs
 * `max_tokens`: the client's, else `defaultMaxTokens`.
 */
export function chatToAnthropic(
  body: unknown,
  deployment: string,
  defaultMaxTokens: number,
): AnthropicRequest {
  const chat = readChatRequest(body);
  refuseInexpressible(chat);
  const adapted: string[] = [];
  const system: string[] = [];
  const turns: Turn[] = [];
  chat.messages.forEach((message, i) => {
    if (message.role === "system" || message.role === "developer") {
      const text = contentText(message);
      if (text !== "") system.push(text);
      return;
    }
    const turn = anthropicTurn(message, `messages[${i}]`);
    const last = turns.at(-1);
    // Anthropic wants user and assistant turns to alternate: consecutive turns of a role merge.
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content);
    else if (turn.content.length > 0) turns.push(turn);
  });

  const out: Record<string, unknown> = {
    model: deployment,
    max_tokens: chat.max_completion_tokens ?? chat.max_tokens ?? defaultMaxTokens,
  };
  const tools = Array.isArray(chat.tools) ? chat.tools.map(anthropicTool) : [];
  let jsonTool: string | undefined;
  const format = chat.response_format;
  if (isObject(format) && format.type === "json_schema" && tools.length === 0) {
    const spec = isObject(format.json_schema) ? format.json_schema : {};
    jsonTool = JSON_ANSWER_TOOL;
    tools.push({
      name: JSON_ANSWER_TOOL,
      description: "Give the answer as this tool's input.",
      input_schema: isObject(spec.schema) ? spec.schema : { type: "object" },
    });
    out.tool_choice = { type: "tool", name: JSON_ANSWER_TOOL };
  } else if (isObject(format) && (format.type === "json_object" || format.type === "json_schema")) {
    const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
    system.push(
      schema === undefined
        ? "Answer with one JSON object and nothing else."
        : `Answer with one JSON object matching this JSON schema and nothing else: ${JSON.stringify(schema)}`,
    );
  }
  if (system.length > 0) out.system = system.join("\n\n");
  out.messages = turns;
  if (tools.length > 0) {
    out.tools = tools;
    if (jsonTool === undefined) {
      const choice = anthropicToolChoice(chat.tool_choice, chat.parallel_tool_calls);
      if (choice !== undefined) out.tool_choice = choice;
    }
  }
  if (isSet(chat.stop)) {
    out.stop_sequences = Array.isArray(chat.stop) ? chat.stop : [chat.stop];
  }
  if (typeof chat.temperature === "number") {
    // OpenAI's range is 0-2, Anthropic's 0-1.
    out.temperature = Math.min(chat.temperature, 1);
    if (chat.temperature > 1) adapted.push("temperature=1");
  }
  if (isSet(chat.top_p)) out.top_p = chat.top_p;
  if (typeof chat.user === "string") out.metadata = { user_id: chat.user };
  if (chat.stream === true) out.stream = true;
  for (const name of DROPPED) if (isSet(chat[name])) adapted.push(`-${name}`);
  return { body: out, adapted, jsonTool };
}

function refuseInexpressible(chat: Record<string, unknown>): void {
  if (typeof chat.n === "number" && chat.n > 1) {
    throw parameterNotTranslatable("n", API, "returns one answer per request");
  }
  if (chat.logprobs === true || (isSet(chat.top_logprobs) && chat.top_logprobs !== 0)) {
    throw parameterNotTranslatable("logprobs", API, "does not return log probabilities");
  }
  if (isSet(chat.audio) || (Array.isArray(chat.modalities) && chat.modalities.includes("audio"))) {
    throw parameterNotTranslatable("audio", API, "does not answer with audio");
  }
}

function anthropicTurn(message: ChatMessage, param: string): Turn {
  switch (message.role) {
    case "user":
      return { role: "user", content: userBlocks(message, param) };
    case "assistant":
      return { role: "assistant", content: assistantBlocks(message, param) };
    case "tool": {
      if (typeof message.tool_call_id !== "string") {
        throw invalidChatRequest(`${param}.tool_call_id`, "a tool message needs tool_call_id.");
      }
      // Results of one round of tool calls land in one user turn, by the merge above.
      return {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: message.tool_call_id, content: contentText(message) },
        ],
      };
    }
    default:
      throw invalidChatRequest(`${param}.role`, `the role '${message.role}' is not supported.`);
  }
}

function userBlocks(message: ChatMessage, param: string): Block[] {
  const blocks: Block[] = [];
  contentParts(message).forEach((part, j) => {
    const where = `${param}.content[${j}]`;
    if (part.type === "text") {
      if (part.text) blocks.push({ type: "text", text: part.text });
    } else if (part.type === "image_url") {
      blocks.push({ type: "image", source: imageSource(imageOf(part, where).url, where) });
    } else {
      throw parameterNotTranslatable(where, API, `does not take '${part.type}' content parts`);
    }
  });
  return blocks;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageSource(url: string, param: string): Block {
  const data = DATA_URL.exec(url);
  if (data !== null) return { type: "base64", media_type: data[1], data: data[2] };
  if (/^https?:\/\//i.test(url)) return { type: "url", url };
  throw invalidChatRequest(
    `${param}.image_url.url`,
    "an image must be an http(s) URL or a base64 data URL.",
  );
}

function assistantBlocks(message: ChatMessage, param: string): Block[] {
  const blocks: Block[] = [];
  const text = contentText(message);
  if (text !== "") blocks.push({ type: "text", text });
  for (const [j, call] of (message.tool_calls ?? []).entries()) {
    const where = `${param}.tool_calls[${j}]`;
    if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== "string") {
      throw invalidChatRequest(where, "a tool call needs function.name.");
    }
    blocks.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments, `${where}.function.arguments`),
    });
  }
  return blocks;
}

function toolInput(args: unknown, param: string): unknown {
  if (args === undefined || args === null || args === "") return {};
  try {
    const input: unknown = JSON.parse(String(args));
    if (isObject(input)) return input;
  } catch {
    // reported below
  }
  throw invalidChatRequest(param, "tool call arguments must be a JSON object.");
}

function anthropicTool(tool: unknown, i: number): Block {
  const t = tool as ChatFunctionTool;
  if (!isObject(t) || t.type !== "function" || !isObject(t.function)) {
    throw parameterNotTranslatable(
      `tools[${i}]`,
      API,
      "takes function tools only through this proxy",
    );
  }
  const out: Block = { name: t.function.name };
  if (t.function.description !== undefined) out.description = t.function.description;
  out.input_schema = t.function.parameters ?? { type: "object", properties: {} };
  return out;
}

function anthropicToolChoice(choice: unknown, parallel: unknown): Block | undefined {
  let out: Block | undefined;
  if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (choice === "none") out = { type: "none" };
  else if (
    isObject(choice) &&
    isObject(choice.function) &&
    typeof choice.function.name === "string"
  ) {
    out = { type: "tool", name: choice.function.name };
  } else if (isSet(choice)) {
    throw invalidChatRequest("tool_choice", "expected 'none', 'auto', 'required' or a function.");
  }
  if (parallel === false) {
    out ??= { type: "auto" };
    if (out.type !== "none") out.disable_parallel_tool_use = true;
  }
  return out;
}
