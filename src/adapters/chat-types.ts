/**
 * The parts of OpenAI's Chat Completions shapes the translators read and write. Client bodies are
 * untrusted JSON: translators read them through these types after checking the shape they rely on.
 */

export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatContentPart {
  type: string;
  text?: string;
  refusal?: string;
  image_url?: { url: string; detail?: string } | string;
  file?: { file_id?: string; file_data?: string; filename?: string };
  input_audio?: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  name?: string;
  refusal?: string | null;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

export interface ChatFunctionTool {
  type: string;
  function?: { name: string; description?: string; parameters?: unknown; strict?: boolean | null };
}

/** A Chat Completions request body, as far as the translators read it. */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  [param: string]: unknown;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      refusal: string | null;
      tool_calls?: ChatToolCall[];
    };
    finish_reason: FinishReason;
    logprobs: null;
  }[];
  usage?: ChatUsage;
}

/** A translated upstream request: the body to send and the changes made that the client did not ask for. */
export interface TranslatedRequest {
  readonly body: Record<string, unknown>;
  /** e.g. `max_tokens->max_completion_tokens`, `-temperature`; shown in `x-azure-oai-proxy-adapted`. */
  readonly adapted: readonly string[];
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `null` and absent mean the same in OpenAI bodies. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}
