import type { EntraSettings } from "./entra.ts";
import type { ForwardSettings } from "./forward.ts";
import type { MetricsSetting } from "./metrics-setting.ts";
import type { TlsFiles } from "./tls.ts";

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
  /** AZURE_ANTHROPIC_ENDPOINT: Claude's host, when not derived from the endpoint. */
  readonly anthropicEndpoint?: string | undefined;
  /** A server-held Azure key; when set, clients need not send one. */
  readonly apiKey: string | undefined;
  /** Key or Microsoft Entra ID; absent means key (AZURE_OPENAI_AUTH). */
  readonly entra?: EntraSettings;
  /** True when the endpoint is the built-in emulator started because none was configured. */
  readonly emulator: boolean;
}

/** An api-version setting: the style it selects and the query value. */
export interface ApiVersionSetting {
  readonly apiStyle: AzureApiStyle;
  /** A dated version, or "preview"/"" in the v1 style. */
  readonly apiVersion: string;
}

/** A serverless (Azure AI Studio / Foundry) deployment (`AZURE_AI_STUDIO_DEPLOYMENTS`). */
export interface StudioDeployment {
  /** The name clients send, as written. */
  readonly model: string;
  readonly deployment: string;
  /** Azure region, lower case, e.g. `swedencentral`. */
  readonly region: string;
  /** From `AZURE_OPENAI_KEY_<MODEL>`; undefined when none is set. */
  readonly apiKey: string | undefined;
}

export interface Config {
  /** Where `/metrics` is served (AZURE_OPENAI_PROXY_METRICS). */
  readonly metrics: MetricsSetting;
  /** Key of the operator's pages (AZURE_OPENAI_PROXY_ADMIN_KEY). */
  readonly adminKey: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Processes serving the port (node:cluster); 1 serves from this process. */
  readonly workers: number;
  readonly mode: ProxyMode;
  readonly azure: AzureConfig;
  /** Upstream in openai mode. */
  readonly openaiEndpoint: string;
  /** Responses API (`AZURE_OPENAI_RESPONSES_APIVERSION`, default: the main api-version). */
  readonly responsesApiVersion: ApiVersionSetting;
  /** Azure's model list, `GET /openai/models` (`AZURE_OPENAI_MODELS_APIVERSION`). */
  readonly modelsApiVersion: ApiVersionSetting;
  /** The `anthropic-version` header for Claude deployments (`ANTHROPIC_APIVERSION`). */
  readonly anthropicVersion: string;
  /** Lower-cased model name -> its serverless deployment. */
  readonly studioDeployments: ReadonlyMap<string, StudioDeployment>;
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
    /** A request body that sends nothing for this long is refused (408). */
    readonly bodyIdleMs: number;
    /** The whole request, headers and body, must arrive within this (408). */
    readonly requestBodyMs: number;
  };
  /** Keep Azure's prompt-filter and annotation-only SSE chunks instead of dropping them. */
  readonly keepAzureStreamArtefacts: boolean;
  /**
   * Adapt chat requests to what the deployment's model accepts (reasoning parameters, chat over
   * the Responses API or Anthropic's API). AZURE_OPENAI_PROXY_ADAPT_PARAMS=off turns it off.
   */
  readonly adaptParams: boolean;
  /** "*" or the allowed origins. */
  readonly corsOrigins: "*" | readonly string[];
  readonly logLevel: string;
  /** Serve HTTPS/WSS with these PEM files (AZURE_OPENAI_PROXY_TLS_CERT/_KEY); absent means HTTP. */
  readonly tls?: TlsFiles | undefined;
  readonly production: boolean;
  /** HTTPS_PROXY mode: CONNECT and absolute-form requests for api.openai.com (src/forward/). */
  readonly forward: ForwardSettings;
  /** Client counters in Redis (AZURE_OPENAI_PROXY_REDIS_URL); undefined keeps them in memory. */
  readonly redisUrl: string | undefined;
  /** AZURE_OPENAI_PROXY_REDIS_FAIL=closed: 503 for clients with limits while Redis is away. */
  readonly redisFailClosed: boolean;
}
