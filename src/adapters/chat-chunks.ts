import type { ChatToolCall, ChatUsage, FinishReason } from "./chat-types.ts";
import { sseData } from "./sse-events.ts";

/** The delta of one tool call in a chunk: the first carries id and name, the rest only arguments. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

/**
 * Writes `chat.completion.chunk` events for one streamed answer, with the id, model and creation
 * time every chunk repeats.
 */
export class ChatChunkWriter {
  id = "";
  model = "";
  created = 0;

  role(): string {
    return this.chunk({ role: "assistant", content: "", refusal: null });
  }

  content(text: string): string {
    return this.chunk({ content: text });
  }

  refusal(text: string): string {
    return this.chunk({ refusal: text });
  }

  toolCall(delta: ToolCallDelta): string {
    return this.chunk({ tool_calls: [delta] });
  }

  finish(reason: FinishReason): string {
    return sseData({ ...this.head(), choices: [{ index: 0, delta: {}, finish_reason: reason }] });
  }

  /** The last chunk when the client asked for `stream_options.include_usage`. */
  usage(usage: ChatUsage): string {
    return sseData({ ...this.head(), choices: [], usage });
  }

  private chunk(delta: Record<string, unknown>): string {
    return sseData({
      ...this.head(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
    });
  }

  private head() {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
    };
  }
}

/** A whole tool call in a chat answer. */
export function toolCall(id: string, name: string, args: string): ChatToolCall {
  return { id, type: "function", function: { name, arguments: args } };
}
