import { invalidChatRequest, parameterNotTranslatable } from "../openai/errors.ts";
import { contentParts, contentText, imageOf, readChatRequest } from "./chat-messages.ts";
import type { ChatFunctionTool, ChatMessage, TranslatedRequest } from "./chat-types.ts";
import { isObject, isSet } from "./chat-types.ts";

const API = "the Responses API";

/** Chat parameters the Responses API takes under the same name and meaning. */
const SAME_NAME = [
  "temperature",
  "top_p",
  "parallel_tool_calls",
  "user",
  "metadata",
  "service_tier",
  "prompt_cache_key",
  "safety_identifier",
  "stream",
] as const;

/** Chat parameters the Responses API has no place for; they are dropped and reported. */
const DROPPED = ["stop", "presence_penalty", "frequency_penalty", "logit_bias", "seed"] as const;

/**
 * A Chat Completions request as a Responses API request for `deployment`. What the Responses API
 * cannot express and would change the answer's shape (several choices, log probabilities, audio)
 * is refused with a 400 naming the parameter; sampling controls it lacks (and, for reasoning
 * models, those away from their default) are dropped and listed.
 */
export function chatToResponses(
  body: unknown,
  deployment: string,
  options: { reasoning: boolean } = { reasoning: false },
): TranslatedRequest {
  const chat = readChatRequest(body);
  refuseInexpressible(chat);
  const out: Record<string, unknown> = { model: deployment };
  const adapted: string[] = [];

  const { instructions, input } = responsesInput(chat.messages);
  if (instructions !== undefined) out.instructions = instructions;
  out.input = input;

  for (const name of SAME_NAME) if (isSet(chat[name])) out[name] = chat[name];
  if (options.reasoning) {
    // Reasoning models refuse sampling controls away from their default of 1.
    for (const name of ["temperature", "top_p"] as const) {
      if (isSet(out[name]) && out[name] !== 1) {
        delete out[name];
        adapted.push(`-${name}`);
      }
    }
  }
  for (const name of DROPPED) {
    if (isSet(chat[name])) adapted.push(`-${name}`);
  }

  const maxTokens = chat.max_completion_tokens ?? chat.max_tokens;
  if (isSet(maxTokens)) out.max_output_tokens = maxTokens;
  if (isSet(chat.reasoning_effort)) out.reasoning = { effort: chat.reasoning_effort };
  if (Array.isArray(chat.tools)) out.tools = chat.tools.map(responsesTool);
  if (isSet(chat.tool_choice)) out.tool_choice = responsesToolChoice(chat.tool_choice);

  const text: Record<string, unknown> = {};
  if (isSet(chat.response_format)) text.format = responsesTextFormat(chat.response_format);
  if (isSet(chat.verbosity)) text.verbosity = chat.verbosity;
  if (Object.keys(text).length > 0) out.text = text;

  // Chat Completions does not keep answers unless asked; the Responses API keeps them by default.
  out.store = typeof chat.store === "boolean" ? chat.store : false;
  return { body: out, adapted };
}

function refuseInexpressible(chat: Record<string, unknown>): void {
  if (typeof chat.n === "number" && chat.n > 1) {
    throw parameterNotTranslatable("n", API, "returns one answer per request");
  }
  if (chat.logprobs === true) {
    throw parameterNotTranslatable("logprobs", API, "does not return log probabilities");
  }
  if (isSet(chat.top_logprobs) && chat.top_logprobs !== 0) {
    throw parameterNotTranslatable("top_logprobs", API, "does not return log probabilities");
  }
  if (isSet(chat.audio) || (Array.isArray(chat.modalities) && chat.modalities.includes("audio"))) {
    throw parameterNotTranslatable("audio", API, "does not answer with audio");
  }
}

/** Leading system and developer messages become `instructions`; the rest become input items. */
function responsesInput(messages: ChatMessage[]): {
  instructions: string | undefined;
  input: Record<string, unknown>[];
} {
  const leading: string[] = [];
  let i = 0;
  for (; i < messages.length; i++) {
    const message = messages[i] as ChatMessage;
    if (message.role !== "system" && message.role !== "developer") break;
    leading.push(contentText(message));
  }
  const input: Record<string, unknown>[] = [];
  for (; i < messages.length; i++) {
    input.push(...inputItems(messages[i] as ChatMessage, `messages[${i}]`));
  }
  return { instructions: leading.length > 0 ? leading.join("\n\n") : undefined, input };
}

function inputItems(message: ChatMessage, param: string): Record<string, unknown>[] {
  switch (message.role) {
    case "system":
    case "developer":
      return [{ role: message.role, content: contentText(message) }];
    case "user":
      return [{ role: "user", content: userContent(message, param) }];
    case "assistant":
      return assistantItems(message, param);
    case "tool":
      if (typeof message.tool_call_id !== "string") {
        throw invalidChatRequest(`${param}.tool_call_id`, "a tool message needs tool_call_id.");
      }
      return [
        {
          type: "function_call_output",
          call_id: message.tool_call_id,
          output: contentText(message),
        },
      ];
    default:
      throw invalidChatRequest(`${param}.role`, `the role '${message.role}' is not supported.`);
  }
}

function userContent(message: ChatMessage, param: string): string | Record<string, unknown>[] {
  if (typeof message.content === "string") return message.content;
  return contentParts(message).map((part, j) => {
    const where = `${param}.content[${j}]`;
    switch (part.type) {
      case "text":
        return { type: "input_text", text: part.text ?? "" };
      case "image_url": {
        const image = imageOf(part, where);
        return { type: "input_image", image_url: image.url, detail: image.detail ?? "auto" };
      }
      case "file":
        return { type: "input_file", ...part.file };
      default:
        throw parameterNotTranslatable(where, API, `does not take '${part.type}' content parts`);
    }
  });
}

function assistantItems(message: ChatMessage, param: string): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  const text = contentText(message);
  if (text !== "") items.push({ role: "assistant", content: text });
  for (const [j, call] of (message.tool_calls ?? []).entries()) {
    if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== "string") {
      throw invalidChatRequest(`${param}.tool_calls[${j}]`, "a tool call needs function.name.");
    }
    items.push({
      type: "function_call",
      call_id: call.id,
      name: call.function.name,
      arguments: typeof call.function.arguments === "string" ? call.function.arguments : "{}",
    });
  }
  return items;
}

function responsesTool(tool: unknown, i: number): Record<string, unknown> {
  const t = tool as ChatFunctionTool;
  if (!isObject(t) || t.type !== "function" || !isObject(t.function)) {
    throw parameterNotTranslatable(
      `tools[${i}]`,
      API,
      "takes function tools only through this proxy",
    );
  }
  const fn = t.function;
  const out: Record<string, unknown> = { type: "function", name: fn.name };
  if (fn.description !== undefined) out.description = fn.description;
  out.parameters = fn.parameters ?? { type: "object", properties: {} };
  // Responses tools are strict unless told otherwise; chat tools are not.
  out.strict = fn.strict === true;
  return out;
}

function responsesToolChoice(choice: unknown): unknown {
  if (typeof choice === "string") return choice;
  if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === "string") {
    return { type: "function", name: choice.function.name };
  }
  throw invalidChatRequest("tool_choice", "expected 'none', 'auto', 'required' or a function.");
}

function responsesTextFormat(format: unknown): Record<string, unknown> {
  if (!isObject(format)) throw invalidChatRequest("response_format", "expected an object.");
  if (format.type === "json_schema") {
    const spec = format.json_schema;
    if (!isObject(spec) || typeof spec.name !== "string") {
      throw invalidChatRequest("response_format.json_schema", "needs a name and a schema.");
    }
    return { type: "json_schema", ...spec };
  }
  if (format.type === "json_object" || format.type === "text") return { type: format.type };
  throw invalidChatRequest("response_format.type", `'${String(format.type)}' is not supported.`);
}
