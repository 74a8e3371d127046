import type { EmulatedIdentity } from "./identity.ts";

/** A deployment of the emulated resource: the name clients address and the model behind it. */
export interface EmulatorDeployment {
  /** Deployment name, as it appears in `/openai/deployments/{id}/…` or a v1 body's `model`. */
  id: string;
  /** Underlying model, returned as `model` in answers (e.g. "gpt-4o-2024-11-20"). */
  model: string;
}

export interface EmulatorOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port to listen on. Default 0 (a free port). */
  port?: number;
  /** Accepted keys. Default ["emulator-key"]. An empty array accepts any non-empty key. */
  apiKeys?: string[];
  /** Deployments of the emulated resource. Default {@link DEFAULT_DEPLOYMENTS}. */
  deployments?: EmulatorDeployment[];
  /** Delay between SSE chunks (and binary audio chunks), in ms. Default 5. */
  chunkDelayMs?: number;
  /**
   * Whether `GET /openai/deployments` works. Default true; false answers 404 like a resource
   * where listing was retired (api-versions after 2023-03-15-preview).
   */
  listDeployments?: boolean;
  /**
   * How long asynchronous objects take to reach their final status on their own, in ms: assistant
   * runs, background responses, fine-tuning jobs, batches, vector-store files. Each retrieve of
   * one object also moves it one status on. Default 100; 0 finishes them at once.
   */
  jobDurationMs?: number;
  /**
   * Keys disabled, as on a resource with `disableLocalAuth`: an `api-key` is refused with 403
   * AuthenticationTypeDisabled and only Bearer tokens from {@link Emulator.identity} are accepted.
   * Default false (keys, and those tokens, are both accepted).
   */
  keyless?: boolean;
  /**
   * The token issuer whose tokens are accepted: several emulators given the same one behave like
   * resources of one Entra tenant. Default: one of its own.
   */
  identity?: EmulatedIdentity;
  /**
   * The model of the serverless endpoint the emulator also is (`POST /v1/chat/completions` and
   * `/chat/completions`, Bearer key, as `https://{name}.{region}.models.ai.azure.com`).
   * Default null: those paths are 404, as on an Azure OpenAI resource.
   */
  serverlessModel?: string | null;
}

export type RequestStyle = "dated" | "v1" | "other";

export interface RecordedFile {
  field: string;
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export interface RecordedMultipart {
  fields: Record<string, string>;
  files: RecordedFile[];
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** As node gives them (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  style: RequestStyle;
  /** From the path (dated) or the body's `model` (v1). */
  deployment?: string;
  /** Parsed JSON body, when the body was JSON. */
  json?: unknown;
  multipart?: RecordedMultipart;
  bodySize: number;
  /** True if the client went away before the answer was complete. */
  aborted: boolean;
  /** WebSocket handshakes only (realtime): the subprotocols the client offered, in order. */
  subprotocols?: string[];
}

export type FaultKind =
  | "429"
  | "500"
  | "hang"
  | "reset-mid-stream"
  | "content-filter"
  | "slow-first-byte"
  | "reset";

export interface Fault {
  kind: FaultKind;
  /** How many matching requests get it. Default 1. */
  times?: number;
  /** Only requests to this deployment. */
  deployment?: string;
  /** For 429 (default 1000): sets `retry-after-ms` and `retry-after` (ceil seconds). */
  retryAfterMs?: number;
  /** For slow-first-byte (default 2000). */
  delayMs?: number;
}

/** How one realtime WebSocket connection ended, as the emulator saw it. */
export interface RealtimeClose {
  /** The close code received (1005 when the peer sent none, 1006 when the connection dropped). */
  code: number;
  reason: string;
  /** Who closed first: the client, or the emulator (an `emulator.close` event, or shutdown). */
  initiator: "client" | "emulator";
}

/** One accepted realtime connection. */
export interface RealtimeConnection {
  /** The session id announced in `session.created`. */
  sessionId: string;
  style: "dated" | "v1";
  deployment: string;
  /** The subprotocol the emulator selected ("realtime"), if the client offered any. */
  protocol?: string;
  /** Client events in arrival order: parsed JSON, or the text of a frame that was not JSON. */
  received: unknown[];
  /** Server events in send order. */
  sent: unknown[];
  /** Set once the connection has closed. */
  closed?: RealtimeClose;
}

/** What the emulator saw on its realtime WebSockets. */
export interface EmulatorRealtime {
  /** Accepted handshakes so far (refused handshakes are only in `requests`). */
  readonly connections: number;
  /** Connections open right now. */
  readonly open: number;
  /** Client events of every connection, in arrival order. */
  readonly received: unknown[];
  /** Closes of finished connections, in the order they happened. */
  readonly closed: RealtimeClose[];
  /** Every accepted connection, in handshake order. */
  readonly sessions: readonly RealtimeConnection[];
}

export interface Emulator {
  /** Base URL without a trailing slash, e.g. "http://127.0.0.1:43210". */
  url: string;
  port: number;
  /** Every request received, in order (pushed once its body is fully read). */
  requests: RecordedRequest[];
  /** Realtime WebSocket connections and the events that crossed them. */
  realtime: EmulatorRealtime;
  /**
   * The emulated managed identity endpoint (App Service shape): point `@azure/identity` at it
   * with `env()`; `rotate()` revokes every token issued so far.
   */
  identity: EmulatedIdentity & {
    readonly endpoint: string;
    env(): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  };
  /** Queues a fault for the next matching inference request(s). */
  injectFault(f: Fault): void;
  clearFaults(): void;
  /**
   * Closes the server, destroys open sockets (hung requests and WebSockets included) and removes
   * the uploaded files' temporary directory.
   */
  close(): Promise<void>;
}
