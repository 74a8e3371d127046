/** The one validated, immutable configuration of a running proxy. */

export type ProxyMode = "azure" | "openai";

/** dated: `/openai/deployments/{d}/…?api-version=…`; v1: `/openai/v1/…` with the deployment in `model`. */
export type AzureApiStyle = "dated" | "v1";

export interface AzureConfig {
  /** Origin plus optional base path, no trailing slash. Undefined until an endpoint is known. */
  readonly endpoint: string | undefined;
  readonly apiStyle: AzureApiStyle;
  /** The api-version query value: a dated version, or "preview"/"" in the v1 style. */
  readonly apiVersion: string;
  /** A server-held Azure key; when set, clients need not send one. */
  readonly apiKey: string | undefined;
  /** True when the endpoint is the built-in emulator started because none was configured. */
  readonly emulator: boolean;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly mode: ProxyMode;
  readonly azure: AzureConfig;
  /** Upstream in openai mode. */
  readonly openaiEndpoint: string;
  /** Lower-cased model name -> deployment name. */
  readonly modelMapper: ReadonlyMap<string, string>;
  /** Keys clients must present before anything is forwarded; empty means no check. */
  readonly clientKeys: readonly string[];
  /** Bytes: JSON bodies are read into memory up to this size. */
  readonly maxBodySize: number;
  /** Bytes: streamed bodies (multipart uploads, binary) up to this size. */
  readonly maxUploadSize: number;
  /** Bytes: the largest realtime WebSocket message, either way (default 16 MiB). */
  readonly realtimeMaxMessage: number;
  /** YAML file with resources and model pools (`--config` / AZURE_OPENAI_PROXY_CONFIG). */
  readonly configFile: string | undefined;
  /** Targets tried at most for one request (pools only). */
  readonly maxAttempts: number;
  /** Adds `x-azure-oai-proxy-target` (resource/deployment) to responses. */
  readonly targetHeader: boolean;
  readonly timeouts: {
    readonly connectMs: number;
    /** Until Azure's response headers arrive, for a request that does not stream. */
    readonly responseMs: number;
    /** Until Azure's response headers arrive, for a streaming request. */
    readonly streamFirstByteMs: number;
    /** A whole request, failover and streaming included. */
    readonly totalMs: number;
    /** Between two chunks of a response body. */
    readonly idleMs: number;
    /** How long in-flight requests may run after SIGTERM. */
    readonly shutdownMs: number;
  };
  /** Keep Azure's prompt-filter and annotation-only SSE chunks instead of dropping them. */
  readonly keepAzureStreamArtefacts: boolean;
  /** "*" or the allowed origins. */
  readonly corsOrigins: "*" | readonly string[];
  readonly logLevel: string;
  readonly production: boolean;
}
