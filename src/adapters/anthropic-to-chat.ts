import type { OpenAIErrorBody } from "../openai/errors.ts";
import { errorTypeForStatus, upstreamAnswerUnreadable } from "../openai/errors.ts";
import { toolCall } from "./chat-chunks.ts";
import type { ChatCompletion, ChatToolCall, ChatUsage, FinishReason } from "./chat-types.ts";
import { isObject } from "./chat-types.ts";

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

interface AnthropicBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

const FINISH: Readonly<Record<string, FinishReason>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** Anthropic's stop reason as a chat finish reason; a JSON answer given as a tool ends with stop. */
export function finishReason(stopReason: unknown, jsonTool: string | undefined): FinishReason {
  const reason = FINISH[String(stopReason)] ?? "stop";
  return reason === "tool_calls" && jsonTool !== undefined ? "stop" : reason;
}

/** Cache reads and writes are prompt tokens too; OpenAI counts them in prompt_tokens. */
export function chatUsage(usage: AnthropicUsage): ChatUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + cacheRead;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

/**
 * An Anthropic Messages answer as a `chat.completion`: text blocks → content, tool_use blocks →
 * tool_calls with the input as a JSON string (or, for the JSON-answer tool, as the content).
 */
export function anthropicToChat(
  body: unknown,
  options: { jsonTool: string | undefined; created?: number },
): ChatCompletion {
  if (!isObject(body) || !Array.isArray(body.content)) {
    throw upstreamAnswerUnreadable("Anthropic's Messages API");
  }
  let text: string | null = null;
  const calls: ChatToolCall[] = [];
  for (const block of body.content as AnthropicBlock[]) {
    if (block.type === "text") text = (text ?? "") + (block.text ?? "");
    else if (block.type === "tool_use" && block.name === options.jsonTool) {
      text = (text ?? "") + JSON.stringify(block.input ?? {});
    } else if (block.type === "tool_use") {
      calls.push(toolCall(block.id ?? "", block.name ?? "", JSON.stringify(block.input ?? {})));
    }
  }
  const message: ChatCompletion["choices"][number]["message"] = {
    role: "assistant",
    content: text,
    refusal: null,
  };
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: String(body.id ?? ""),
    object: "chat.completion",
    created: options.created ?? Math.floor(Date.now() / 1000),
    model: String(body.model ?? ""),
    choices: [
      {
        index: 0,
        message,
        finish_reason: finishReason(body.stop_reason, options.jsonTool),
        logprobs: null,
      },
    ],
    usage: chatUsage(isObject(body.usage) ? (body.usage as AnthropicUsage) : {}),
  };
}

const ERROR_TYPES: Readonly<Record<string, string>> = {
  invalid_request_error: "invalid_request_error",
  authentication_error: "authentication_error",
  permission_error: "permission_error",
  not_found_error: "invalid_request_error",
  request_too_large: "invalid_request_error",
  rate_limit_error: "rate_limit_error",
  api_error: "server_error",
  overloaded_error: "server_error",
};

/** The OpenAI type for an Anthropic error type (Anthropic's own type is kept as the code). */
export function openAIErrorType(anthropicType: string, status: number): string {
  return ERROR_TYPES[anthropicType] ?? errorTypeForStatus(status);
}

/**
 * An Anthropic error body (`{"type":"error","error":{"type","message"}}`) as an OpenAI error
 * body; the HTTP status is kept by the caller. Azure's own errors in front of Anthropic (an
 * OpenAI-like `{"error":{"code","message"}}`) keep their message and code.
 */
export function anthropicErrorToOpenAI(status: number, body: unknown): OpenAIErrorBody {
  const error = isObject(body) && isObject(body.error) ? body.error : {};
  const anthropicType = typeof error.type === "string" ? error.type : undefined;
  const message =
    typeof error.message === "string"
      ? error.message
      : `Anthropic's Messages API answered ${status}.`;
  const code = anthropicType ?? (typeof error.code === "string" ? error.code : null);
  return {
    error: {
      message,
      type: openAIErrorType(anthropicType ?? "", status),
      param: null,
      code,
    },
  };
}
