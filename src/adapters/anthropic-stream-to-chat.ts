import type { AnthropicUsage } from "./anthropic-to-chat.ts";
import { chatUsage, finishReason, openAIErrorType } from "./anthropic-to-chat.ts";
import { ChatChunkWriter } from "./chat-chunks.ts";
import { EventStreamToChat, errorEvent } from "./chat-stream.ts";
import { isObject } from "./chat-types.ts";
import { SSE_DONE } from "./sse-events.ts";

const API = "Anthropic's Messages API";

/** What a content block of the answer becomes in the chat stream. */
type BlockKind =
  | { kind: "text" }
  | { kind: "tool"; index: number }
  | { kind: "json" }
  | { kind: "skip" };

/**
 * Anthropic stream events → `chat.completion.chunk`s: message_start gives the role chunk,
 * text_delta the content deltas, a tool_use block a tool-call delta (id and name first) followed
 * by its input_json_delta pieces as arguments, message_delta the stop reason and usage,
 * message_stop the finish chunk, usage chunk (if asked) and `[DONE]`. Pings are dropped.
 */
export class AnthropicStreamToChat extends EventStreamToChat {
  private readonly writer = new ChatChunkWriter();
  private readonly includeUsage: boolean;
  private readonly jsonTool: string | undefined;
  private readonly blocks = new Map<number, BlockKind>();
  private tools = 0;
  private usage: AnthropicUsage = {};
  private stopReason: unknown;
  private started = false;

  constructor(options: { includeUsage: boolean; jsonTool: string | undefined; created?: number }) {
    super(API);
    this.includeUsage = options.includeUsage;
    this.jsonTool = options.jsonTool;
    this.writer.created = options.created ?? Math.floor(Date.now() / 1000);
  }

  protected override onEvent(event: Record<string, unknown>, out: string[]): void {
    switch (event.type) {
      case "message_start": {
        const message = isObject(event.message) ? event.message : {};
        this.writer.id = String(message.id ?? "");
        this.writer.model = String(message.model ?? "");
        if (isObject(message.usage)) this.usage = { ...(message.usage as AnthropicUsage) };
        this.start(out);
        return;
      }
      case "content_block_start":
        this.startBlock(Number(event.index), event.content_block, out);
        return;
      case "content_block_delta":
        this.delta(Number(event.index), event.delta, out);
        return;
      case "message_delta":
        if (isObject(event.delta) && event.delta.stop_reason != null) {
          this.stopReason = event.delta.stop_reason;
        }
        if (isObject(event.usage)) {
          for (const [key, value] of Object.entries(event.usage)) {
            if (value != null) (this.usage as Record<string, unknown>)[key] = value;
          }
        }
        return;
      case "message_stop":
        this.start(out);
        out.push(this.writer.finish(finishReason(this.stopReason, this.jsonTool)));
        if (this.includeUsage) out.push(this.writer.usage(chatUsage(this.usage)));
        out.push(SSE_DONE);
        this.finished = true;
        return;
      case "error": {
        const error = isObject(event.error) ? event.error : {};
        const type = String(error.type ?? "api_error");
        out.push(
          errorEvent(
            String(error.message ?? "the stream failed"),
            openAIErrorType(type, 500),
            type,
          ),
        );
        this.finished = true;
        return;
      }
    }
  }

  private start(out: string[]): void {
    if (this.started) return;
    this.started = true;
    out.push(this.writer.role());
  }

  private startBlock(index: number, block: unknown, out: string[]): void {
    if (!isObject(block)) return;
    this.start(out);
    if (block.type === "text") {
      this.blocks.set(index, { kind: "text" });
      if (typeof block.text === "string" && block.text !== "")
        out.push(this.writer.content(block.text));
    } else if (block.type === "tool_use" && block.name === this.jsonTool) {
      this.blocks.set(index, { kind: "json" });
    } else if (block.type === "tool_use") {
      const tool = this.tools++;
      this.blocks.set(index, { kind: "tool", index: tool });
      out.push(
        this.writer.toolCall({
          index: tool,
          id: String(block.id ?? ""),
          type: "function",
          function: { name: String(block.name ?? ""), arguments: "" },
        }),
      );
    } else {
      this.blocks.set(index, { kind: "skip" }); // thinking and server-tool blocks have no chat form
    }
  }

  private delta(index: number, delta: unknown, out: string[]): void {
    const block = this.blocks.get(index);
    if (block === undefined || !isObject(delta)) return;
    if (block.kind === "text" && delta.type === "text_delta") {
      out.push(this.writer.content(String(delta.text ?? "")));
    } else if (delta.type === "input_json_delta" && typeof delta.partial_json === "string") {
      if (delta.partial_json === "") return;
      if (block.kind === "json") out.push(this.writer.content(delta.partial_json));
      else if (block.kind === "tool") {
        out.push(
          this.writer.toolCall({ index: block.index, function: { arguments: delta.partial_json } }),
        );
      }
    }
  }
}
