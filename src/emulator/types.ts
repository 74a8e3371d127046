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

export interface Emulator {
  /** Base URL without a trailing slash, e.g. "http://127.0.0.1:43210". */
  url: string;
  port: number;
  /** Every request received, in order (pushed once its body is fully read). */
  requests: RecordedRequest[];
  /** Queues a fault for the next matching inference request(s). */
  injectFault(f: Fault): void;
  clearFaults(): void;
  /** Closes the server and destroys open sockets, hung requests included. */
  close(): Promise<void>;
}
