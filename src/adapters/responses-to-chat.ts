import { upstreamAnswerFailed, upstreamAnswerUnreadable } from "../openai/errors.ts";
import { toolCall } from "./chat-chunks.ts";
import type { ChatCompletion, ChatToolCall, ChatUsage, FinishReason } from "./chat-types.ts";
import { isObject } from "./chat-types.ts";

/** The parts of a Responses API `response` object the translation reads. */
export interface ResponsesAnswer {
  id?: string;
  created_at?: number;
  model?: string;
  status?: string;
  error?: { code?: string; message?: string } | null;
  incomplete_details?: { reason?: string } | null;
  output?: ResponsesOutputItem[];
  usage?: ResponsesUsage | null;
}

export interface ResponsesOutputItem {
  type: string;
  id?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  content?: { type: string; text?: string; refusal?: string }[];
}

export interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number };
  output_tokens_details?: { reasoning_tokens?: number };
}

/** A Responses API answer as a `chat.completion`. */
export function responsesToChat(body: unknown): ChatCompletion {
  if (!isObject(body) || !Array.isArray(body.output)) {
    throw upstreamAnswerUnreadable("the Responses API");
  }
  const answer = body as ResponsesAnswer;
  if (answer.status === "failed") {
    throw upstreamAnswerFailed(
      answer.error?.message ?? "no reason given",
      answer.error?.code ?? null,
    );
  }
  let text: string | null = null;
  let refusal: string | null = null;
  const calls: ChatToolCall[] = [];
  for (const item of answer.output ?? []) {
    if (item.type === "message") {
      for (const part of item.content ?? []) {
        if (part.type === "output_text") text = (text ?? "") + (part.text ?? "");
        else if (part.type === "refusal") refusal = (refusal ?? "") + (part.refusal ?? "");
      }
    } else if (item.type === "function_call") {
      calls.push(toolCall(item.call_id ?? item.id ?? "", item.name ?? "", item.arguments ?? ""));
    }
  }
  const message: ChatCompletion["choices"][number]["message"] = {
    role: "assistant",
    content: text,
    refusal,
  };
  if (calls.length > 0) message.tool_calls = calls;
  const completion: ChatCompletion = {
    id: answer.id ?? "",
    object: "chat.completion",
    created: answer.created_at ?? Math.floor(Date.now() / 1000),
    model: answer.model ?? "",
    choices: [
      { index: 0, message, finish_reason: finishReason(answer, calls.length > 0), logprobs: null },
    ],
  };
  const usage = chatUsage(answer.usage);
  if (usage !== undefined) completion.usage = usage;
  return completion;
}

/** `length` and `content_filter` come from `incomplete_details`; a tool call ends with `tool_calls`. */
export function finishReason(answer: ResponsesAnswer, calledTools: boolean): FinishReason {
  if (answer.status === "incomplete") {
    const reason = answer.incomplete_details?.reason;
    if (reason === "max_output_tokens") return "length";
    if (reason === "content_filter") return "content_filter";
  }
  return calledTools ? "tool_calls" : "stop";
}

export function chatUsage(given: ResponsesUsage | null | undefined): ChatUsage | undefined {
  if (!isObject(given)) return undefined;
  const usage = given as ResponsesUsage;
  const prompt = usage.input_tokens ?? 0;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.total_tokens ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0,
    },
  };
}
