import { ChatChunkWriter } from "./chat-chunks.ts";
import { EventStreamToChat, errorEvent } from "./chat-stream.ts";
import { isObject } from "./chat-types.ts";
import type { ResponsesAnswer } from "./responses-to-chat.ts";
import { chatUsage, finishReason } from "./responses-to-chat.ts";
import { SSE_DONE } from "./sse-events.ts";

const API = "the Responses API";

/**
 * Responses API stream events → `chat.completion.chunk`s: the role first, text and refusal
 * deltas, each function call as a tool-call delta (id and name first, then its arguments), a
 * finish chunk, the usage chunk when the client asked for it, then `[DONE]`.
 */
export class ResponsesStreamToChat extends EventStreamToChat {
  private readonly writer = new ChatChunkWriter();
  private readonly includeUsage: boolean;
  /** output_index of each function call → its index among the answer's tool calls */
  private readonly toolIndex = new Map<number, number>();
  private started = false;

  constructor(options: { includeUsage: boolean }) {
    super(API);
    this.includeUsage = options.includeUsage;
  }

  protected override onEvent(event: Record<string, unknown>, out: string[]): void {
    switch (event.type) {
      case "response.created":
      case "response.in_progress":
        this.start(event.response, out);
        return;
      case "response.output_text.delta":
        this.start(undefined, out);
        out.push(this.writer.content(String(event.delta ?? "")));
        return;
      case "response.refusal.delta":
        this.start(undefined, out);
        out.push(this.writer.refusal(String(event.delta ?? "")));
        return;
      case "response.output_item.added":
        this.startToolCall(event, out);
        return;
      case "response.function_call_arguments.delta": {
        const index = this.toolIndex.get(Number(event.output_index));
        if (index === undefined) return;
        out.push(
          this.writer.toolCall({ index, function: { arguments: String(event.delta ?? "") } }),
        );
        return;
      }
      case "response.completed":
      case "response.incomplete":
        this.complete(event.response as ResponsesAnswer, out);
        return;
      case "response.failed": {
        const response = event.response as ResponsesAnswer | undefined;
        this.fail(
          response?.error?.message ?? "the response failed",
          response?.error?.code ?? null,
          out,
        );
        return;
      }
      case "error":
        this.fail(
          String(event.message ?? "the stream failed"),
          (event.code as string) ?? null,
          out,
        );
        return;
    }
  }

  private start(response: unknown, out: string[]): void {
    if (isObject(response) && this.writer.id === "") {
      this.writer.id = String(response.id ?? "");
      this.writer.model = String(response.model ?? "");
      this.writer.created = Number(response.created_at ?? Math.floor(Date.now() / 1000));
    }
    if (this.started) return;
    this.started = true;
    out.push(this.writer.role());
  }

  private startToolCall(event: Record<string, unknown>, out: string[]): void {
    const item = event.item;
    if (!isObject(item) || item.type !== "function_call") return;
    this.start(undefined, out);
    const index = this.toolIndex.size;
    this.toolIndex.set(Number(event.output_index), index);
    out.push(
      this.writer.toolCall({
        index,
        id: String(item.call_id ?? item.id ?? ""),
        type: "function",
        function: { name: String(item.name ?? ""), arguments: String(item.arguments ?? "") },
      }),
    );
  }

  private complete(response: ResponsesAnswer | undefined, out: string[]): void {
    this.start(response, out);
    out.push(this.writer.finish(finishReason(response ?? {}, this.toolIndex.size > 0)));
    const usage = chatUsage(response?.usage);
    if (this.includeUsage && usage !== undefined) out.push(this.writer.usage(usage));
    out.push(SSE_DONE);
    this.finished = true;
  }

  private fail(message: string, code: string | null, out: string[]): void {
    out.push(errorEvent(message, "server_error", code));
    this.finished = true;
  }
}
