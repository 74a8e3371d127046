/**
 * One realtime conversation over an accepted WebSocket: `session.created` first, then a
 * deterministic answer to each client event. The dated style speaks the preview (beta) event
 * names (`response.text.delta`), the v1 style the GA ones (`response.output_text.delta`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { WebSocket } from "ws";
import { countWords, greeting, planText } from "./answers.ts";
import type { ApiStyle } from "./routes.ts";
import type { EmulatorDeployment, RealtimeConnection } from "./types.ts";

export interface SessionOptions {
  style: ApiStyle;
  deployment: EmulatorDeployment;
  chunkDelayMs: number;
  newId: () => string;
  /** Filled in as the session goes: its id and the events sent. */
  record: RealtimeConnection;
  /** Told of every client event (parsed JSON, or the frame's text). */
  heard: (event: unknown) => void;
}

type Event = Record<string, unknown>;

/** The close codes a client may ask the emulator to send (1000, or the 3000–4999 range). */
const MAX_REASON_BYTES = 123;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function itemText(item: Event): string {
  const content = Array.isArray(item.content) ? item.content : [];
  return content
    .map((part) => {
      if (!isObject(part)) return "";
      if (typeof part.text === "string") return part.text;
      if (typeof part.transcript === "string") return part.transcript;
      return "";
    })
    .filter((t) => t !== "")
    .join(" ");
}

export class RealtimeSession {
  readonly #ws: WebSocket;
  readonly #options: SessionOptions;
  #session: Event;
  readonly #items: Event[] = [];
  #audioBytes = 0;
  #active: { id: string; cancelled: boolean } | undefined;
  /** Set when the emulator starts the closing handshake (or drops the connection). */
  closedByEmulator = false;

  constructor(ws: WebSocket, options: SessionOptions) {
    this.#ws = ws;
    this.#options = options;
    const id = `sess_${options.newId()}`;
    options.record.sessionId = id;
    this.#session = {
      id,
      object: "realtime.session",
      ...(options.style === "v1" ? { type: "realtime" } : {}),
      model: options.deployment.model,
      modalities: ["text", "audio"],
      instructions: "",
      voice: "alloy",
      input_audio_format: "pcm16",
      output_audio_format: "pcm16",
      input_audio_transcription: null,
      turn_detection: {
        type: "server_vad",
        threshold: 0.5,
        prefix_padding_ms: 300,
        silence_duration_ms: 200,
        create_response: true,
      },
      tools: [],
      tool_choice: "auto",
      temperature: 0.8,
      max_response_output_tokens: "inf",
    };
  }

  start(): void {
    this.#send({ type: "session.created", session: this.#session });
  }

  /** Sends an event, recording it; false when the socket is no longer open. */
  #send(event: Event): boolean {
    if (this.#ws.readyState !== this.#ws.OPEN) return false;
    const framed = { type: event.type, event_id: `event_${this.#options.newId()}`, ...event };
    this.#options.record.sent.push(framed);
    this.#ws.send(JSON.stringify(framed));
    return true;
  }

  #error(code: string, message: string, param: string | null, clientEvent?: unknown): void {
    const eventId = isObject(clientEvent) && typeof clientEvent.event_id === "string";
    this.#send({
      type: "error",
      error: {
        type: "invalid_request_error",
        code,
        message,
        param,
        event_id: eventId ? (clientEvent as Event).event_id : null,
      },
    });
  }

  /** Handles one frame from the client. */
  receive(data: Buffer, isBinary: boolean): void {
    const text = data.toString("utf8");
    let event: unknown;
    try {
      event = isBinary ? undefined : JSON.parse(text);
    } catch {
      event = undefined;
    }
    this.#options.heard(event ?? text);
    if (!isObject(event)) {
      this.#error("invalid_json", "The event is not a JSON object.", null);
      return;
    }
    const type = String(event.type);
    if (Object.hasOwn(this.#handlers, type)) {
      this.#handlers[type]?.(event);
      return;
    }
    this.#error(
      "invalid_value",
      `Invalid value: '${String(event.type)}'. Supported values are: ${Object.keys(this.#handlers)
        .map((t) => `'${t}'`)
        .join(", ")}.`,
      "type",
      event,
    );
  }

  readonly #handlers: Record<string, (event: Event) => void> = {
    "session.update": (event) => this.#updateSession(event),
    "conversation.item.create": (event) => this.#createItem(event),
    "conversation.item.delete": (event) => this.#deleteItem(event),
    "input_audio_buffer.append": (event) => this.#appendAudio(event),
    "input_audio_buffer.commit": (event) => this.#commitAudio(event),
    "input_audio_buffer.clear": () => {
      this.#audioBytes = 0;
      this.#send({ type: "input_audio_buffer.cleared" });
    },
    "response.create": (event) => {
      void this.#respond(event);
    },
    "response.cancel": (event) => this.#cancel(event),
    "emulator.close": (event) => this.#close(event),
  };

  #updateSession(event: Event): void {
    if (!isObject(event.session)) {
      this.#error(
        "missing_required_parameter",
        "Missing required parameter: 'session'.",
        "session",
        event,
      );
      return;
    }
    const { id, object, ...changes } = event.session;
    this.#session = { ...this.#session, ...changes };
    this.#send({ type: "session.updated", session: this.#session });
  }

  #addItem(item: Event, previousItemId: unknown): void {
    const previous =
      typeof previousItemId === "string" ? previousItemId : (this.#items.at(-1)?.id ?? null);
    this.#items.push(item);
    this.#send({ type: "conversation.item.created", previous_item_id: previous, item });
  }

  #createItem(event: Event): void {
    const { item } = event;
    if (!isObject(item)) {
      this.#error(
        "missing_required_parameter",
        "Missing required parameter: 'item'.",
        "item",
        event,
      );
      return;
    }
    this.#addItem(
      {
        ...item,
        id: typeof item.id === "string" ? item.id : `item_${this.#options.newId()}`,
        object: "realtime.item",
        type: item.type ?? "message",
        status: "completed",
      },
      event.previous_item_id,
    );
  }

  #deleteItem(event: Event): void {
    const index = this.#items.findIndex((i) => i.id === event.item_id);
    if (index === -1) {
      this.#error(
        "item_not_found",
        `Item with item_id '${String(event.item_id)}' not found.`,
        "item_id",
        event,
      );
      return;
    }
    this.#items.splice(index, 1);
    this.#send({ type: "conversation.item.deleted", item_id: event.item_id });
  }

  #appendAudio(event: Event): void {
    if (typeof event.audio !== "string") {
      this.#error(
        "missing_required_parameter",
        "Missing required parameter: 'audio'.",
        "audio",
        event,
      );
      return;
    }
    this.#audioBytes += Buffer.from(event.audio, "base64").length;
  }

  #commitAudio(event: Event): void {
    if (this.#audioBytes === 0) {
      this.#error(
        "input_audio_buffer_commit_empty",
        "Error committing input audio buffer: the buffer is empty.",
        null,
        event,
      );
      return;
    }
    const itemId = `item_${this.#options.newId()}`;
    const previous = this.#items.at(-1)?.id ?? null;
    this.#send({
      type: "input_audio_buffer.committed",
      previous_item_id: previous,
      item_id: itemId,
    });
    const transcript = `${this.#audioBytes} bytes of audio`;
    this.#audioBytes = 0;
    this.#addItem(
      {
        id: itemId,
        object: "realtime.item",
        type: "message",
        status: "completed",
        role: "user",
        content: [{ type: "input_audio", transcript }],
      },
      previous,
    );
  }

  #cancel(event: Event): void {
    if (this.#active === undefined) {
      this.#error(
        "response_cancel_not_active",
        "Cancellation failed: no active response found.",
        null,
        event,
      );
      return;
    }
    this.#active.cancelled = true;
  }

  #close(event: Event): void {
    const { code, reason = "" } = event;
    const validCode =
      typeof code === "number" &&
      Number.isInteger(code) &&
      (code === 1000 || (code >= 3000 && code <= 4999));
    if (!validCode) {
      this.#error("invalid_value", "'code' must be 1000 or from 3000 to 4999.", "code", event);
      return;
    }
    if (typeof reason !== "string" || Buffer.byteLength(reason) > MAX_REASON_BYTES) {
      this.#error(
        "invalid_value",
        `'reason' must be a string of at most ${MAX_REASON_BYTES} bytes.`,
        "reason",
        event,
      );
      return;
    }
    this.closedByEmulator = true;
    this.#ws.close(code, reason);
  }

  async #pause(): Promise<boolean> {
    if (this.#options.chunkDelayMs > 0) await sleep(this.#options.chunkDelayMs);
    return this.#ws.readyState === this.#ws.OPEN;
  }

  async #respond(event: Event): Promise<void> {
    if (this.#active !== undefined) {
      this.#error(
        "conversation_already_has_active_response",
        `Conversation already has an active response in progress: ${this.#active.id}.`,
        null,
        event,
      );
      return;
    }
    const { style, deployment, newId } = this.#options;
    const options = isObject(event.response) ? event.response : {};
    const limit =
      typeof options.max_output_tokens === "number" ? options.max_output_tokens : undefined;
    const lastUser = this.#items.findLast((i) => i.role === "user");
    const said = lastUser === undefined ? "" : itemText(lastUser);
    const plan = planText(greeting(deployment.id, said), limit);
    const active = { id: `resp_${newId()}`, cancelled: false };
    this.#active = active;
    const textType = style === "v1" ? "output_text" : "text";
    const eventPrefix = style === "v1" ? "response.output_text" : "response.text";
    const itemId = `item_${newId()}`;
    const response = {
      id: active.id,
      object: "realtime.response",
      status: "in_progress",
      status_details: null,
      output: [] as Event[],
      conversation_id: `conv_${newId()}`,
      modalities: ["text"],
      max_output_tokens: limit ?? "inf",
      metadata: isObject(options.metadata) ? options.metadata : null,
      usage: null as Event | null,
    };
    const at = { response_id: active.id, item_id: itemId, output_index: 0, content_index: 0 };
    const item: Event = {
      id: itemId,
      object: "realtime.item",
      type: "message",
      status: "in_progress",
      role: "assistant",
      content: [],
    };
    try {
      this.#send({ type: "response.created", response });
      if (!(await this.#pause())) return;
      this.#send({
        type: "response.output_item.added",
        response_id: active.id,
        output_index: 0,
        item,
      });
      this.#addItem(item, undefined);
      this.#send({
        type: "response.content_part.added",
        ...at,
        part: { type: textType, text: "" },
      });
      let sent = "";
      for (const delta of plan.pieces) {
        if (!(await this.#pause())) return;
        if (active.cancelled) break;
        sent += delta;
        this.#send({ type: `${eventPrefix}.delta`, ...at, delta });
      }
      const cancelled = active.cancelled;
      const part = { type: textType, text: sent };
      const finished = {
        ...item,
        status: cancelled ? "incomplete" : "completed",
        content: [part],
      };
      Object.assign(item, finished);
      if (!cancelled) {
        this.#send({ type: `${eventPrefix}.done`, ...at, text: sent });
        this.#send({ type: "response.content_part.done", ...at, part });
        this.#send({
          type: "response.output_item.done",
          response_id: active.id,
          output_index: 0,
          item: finished,
        });
      }
      const inputTokens = Math.max(
        1,
        this.#items.reduce((sum, i) => sum + countWords(itemText(i)), 0),
      );
      const outputTokens = countWords(sent);
      this.#send({
        type: "response.done",
        response: {
          ...response,
          status: cancelled
            ? "cancelled"
            : plan.finishReason === "length"
              ? "incomplete"
              : "completed",
          status_details: cancelled ? { type: "cancelled", reason: "client_cancelled" } : null,
          output: [finished],
          usage: {
            total_tokens: inputTokens + outputTokens,
            input_tokens: inputTokens,
            output_tokens: outputTokens,
            input_token_details: { cached_tokens: 0, text_tokens: inputTokens, audio_tokens: 0 },
            output_token_details: { text_tokens: outputTokens, audio_tokens: 0 },
          },
        },
      });
    } finally {
      this.#active = undefined;
    }
  }
}
