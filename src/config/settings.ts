/**
 * Every environment setting, once: its name, default, parser, one-line doc and group. The
 * environment reader (`readSettings`), `--help` and the README's configuration table
 * (`npm run docs:settings`) are all made from this table.
 */

import { parseAdminKey } from "./admin-key.ts";
import { DEFAULT_API_VERSION } from "./api-versions.ts";
import { parseAzureEndpoint, parseEndpoint } from "./endpoint.ts";
import { parseForwardHosts, parseOnOff, parseTunnelTargets } from "./forward.ts";
import { parseMetricsSetting } from "./metrics-setting.ts";
import type { Parsed } from "./parsed.ts";
import {
  parseAddress,
  parseAzureApiVersion,
  parseBoolean,
  parseChoice,
  parseCorsOrigins,
  parseDuration,
  parseList,
  parseModelMapper,
  parsePlainDate,
  parseRedisUrl,
  parseSize,
  parseStudioDeployments,
  parseText,
  parseWholeNumber,
  parseWorkers,
} from "./setting-parsers.ts";

export const SETTING_GROUPS = {
  azure: "Azure",
  clients: "Listening and clients",
  limits: "Limits and timeouts",
  pools: "Several resources",
  output: "Streams and logs",
  observe: "Metrics and the status page",
  forward: "HTTPS_PROXY mode (docs/https-proxy.md)",
} as const;
export type SettingGroup = keyof typeof SETTING_GROUPS;

export interface Setting<T> {
  /** The variable; for a family (`prefix` set), how it is written in the docs. */
  readonly name: string;
  /** A second name read when `name` is not set (the Go proxy's synonyms). */
  readonly alias?: string;
  readonly group: SettingGroup;
  /** The default, as a user would write it; parsed by `parse` like a set value. */
  readonly default?: string;
  /** Shown instead of `default` where the default depends on other settings. */
  readonly defaultText?: string;
  /** One line for README and --help (Markdown code spans allowed). */
  readonly doc: string;
  readonly parse: (raw: string) => Parsed<T>;
  /** Set but empty is a mistake for this setting, not "unset": the problem to report. */
  readonly emptyProblem?: string;
  /** A family of variables sharing this prefix, one per model (`AZURE_OPENAI_KEY_<MODEL>`). */
  readonly prefix?: string;
}

type Defaulted<T> = Setting<T> & { readonly default: string };
type Family<T> = Setting<T> & { readonly prefix: string };

const optional = <T>(s: Setting<T> & { default?: undefined; prefix?: undefined }): Setting<T> => s;
const defaulted = <T>(s: Defaulted<T>): Defaulted<T> => s;
const family = <T>(s: Family<T>): Family<T> => s;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const SETTINGS = {
  endpoint: optional({
    name: "AZURE_OPENAI_ENDPOINT",
    group: "azure",
    defaultText: "— (the built-in emulator; required with `NODE_ENV=production`)",
    doc: "Your resource, e.g. `https://my-resource.openai.azure.com`. A trailing `/` or `/openai` is ignored; `http://` is allowed for local emulators. A deployment's URL (`…/openai/deployments/…`) or a query (`?api-version=…`) is refused, naming the endpoint to use. Unset (outside production), the built-in emulator stands in; set but empty is an error.",
    parse: parseAzureEndpoint,
    emptyProblem:
      "set but empty: set it to your resource's endpoint (e.g. https://my-resource.openai.azure.com), or unset it to use the built-in emulator",
  }),
  apiVersion: defaulted({
    name: "AZURE_OPENAI_APIVERSION",
    group: "azure",
    default: DEFAULT_API_VERSION,
    doc: "The `api-version` sent to Azure in the dated style. `v1` selects Azure's v1 API (`/openai/v1/…`, no api-version); `preview` selects v1 with `api-version=preview`. The default is the newest dated version whose spec has every operation the proxy routes.",
    parse: parseAzureApiVersion,
  }),
  responsesApiVersion: optional({
    name: "AZURE_OPENAI_RESPONSES_APIVERSION",
    group: "azure",
    defaultText: "`AZURE_OPENAI_APIVERSION`",
    doc: "The api-version of the Responses API (`/openai/responses`), which needs a newer version than some deployments' chat; same forms as `AZURE_OPENAI_APIVERSION`.",
    parse: parseAzureApiVersion,
  }),
  modelsApiVersion: defaulted({
    name: "AZURE_OPENAI_MODELS_APIVERSION",
    group: "azure",
    default: "2024-10-21",
    doc: "The api-version of Azure's model list (`GET /openai/models`); same forms as `AZURE_OPENAI_APIVERSION`.",
    parse: parseAzureApiVersion,
  }),
  anthropicVersion: defaulted({
    name: "ANTHROPIC_APIVERSION",
    group: "azure",
    default: "2023-06-01",
    doc: "The `anthropic-version` header sent with Claude models deployed in Azure AI Foundry (`YYYY-MM-DD`).",
    parse: parsePlainDate,
  }),
  modelMapper: optional({
    name: "AZURE_OPENAI_MODEL_MAPPER",
    group: "azure",
    doc: "`model=deployment` pairs, comma-separated, e.g. `gpt-3.5-turbo=dev-g35-turbo,gpt-4=gpt-4ooo`. Spaces are trimmed; model names match case-insensitively; a model listed twice is an error.",
    parse: parseModelMapper,
  }),
  apiKey: optional({
    name: "AZURE_OPENAI_API_KEY",
    alias: "AZURE_OPENAI_TOKEN",
    group: "azure",
    doc: "A server-held Azure key. When set, the client's key is not needed and not forwarded.",
    parse: parseText,
  }),
  auth: defaulted({
    name: "AZURE_OPENAI_AUTH",
    group: "azure",
    default: "key",
    doc: "`entra`: reach Azure with a Microsoft Entra ID token (managed identity, workload identity, service principal, Azure CLI) instead of a key; see docs/identity.md.",
    parse: parseChoice(["key", "entra"]),
  }),
  entraCredential: defaulted({
    name: "AZURE_OPENAI_ENTRA_CREDENTIAL",
    group: "azure",
    default: "default",
    doc: "With `AZURE_OPENAI_AUTH=entra`: `default` (the chain), `managed-identity`, `workload-identity`, `client-secret` or `cli`.",
    parse: parseChoice([
      "default",
      "managed-identity",
      "workload-identity",
      "client-secret",
      "cli",
    ]),
  }),
  entraScope: optional({
    name: "AZURE_OPENAI_ENTRA_SCOPE",
    group: "azure",
    defaultText:
      "`https://cognitiveservices.azure.com/.default` (`https://ai.azure.com/.default` for `*.services.ai.azure.com`)",
    doc: "The scope of the Entra ID token.",
    parse: parseText,
  }),
  tlsCert: optional({
    name: "AZURE_OPENAI_PROXY_TLS_CERT",
    group: "clients",
    doc: "PEM certificate (chain): the proxy serves HTTPS and WSS on its address; reloaded when the file changes. Needs `AZURE_OPENAI_PROXY_TLS_KEY`.",
    parse: parseText,
  }),
  tlsKey: optional({
    name: "AZURE_OPENAI_PROXY_TLS_KEY",
    group: "clients",
    doc: "PEM private key of `AZURE_OPENAI_PROXY_TLS_CERT`.",
    parse: parseText,
  }),
  studioDeployments: optional({
    name: "AZURE_AI_STUDIO_DEPLOYMENTS",
    group: "azure",
    doc: "Serverless (Azure AI Studio / Foundry) deployments, `model=Deployment:region` comma-separated, e.g. `mistral-large-2407=Mistral-large2:swedencentral`; model names match case-insensitively, each once.",
    parse: parseStudioDeployments,
  }),
  modelKeys: family({
    name: "AZURE_OPENAI_KEY_<MODEL>",
    prefix: "AZURE_OPENAI_KEY_",
    group: "azure",
    doc: "The key of one serverless deployment of `AZURE_AI_STUDIO_DEPLOYMENTS`, `<MODEL>` being its model name in upper case (`AZURE_OPENAI_KEY_MISTRAL-LARGE-2407`, or with `_` for every character other than letters and digits: `AZURE_OPENAI_KEY_MISTRAL_LARGE_2407`). A key for no listed model is warned about.",
    parse: parseText,
  }),
  address: optional({
    name: "AZURE_OPENAI_PROXY_ADDRESS",
    group: "clients",
    defaultText: "`0.0.0.0:11437`; `127.0.0.1:11437` while the emulator stands in",
    doc: "Listen address: `host:port`, `[ipv6]:port`, or a bare port (`11437`: all interfaces). Without an endpoint the emulator's fake answers stay on this machine unless an address is set.",
    parse: parseAddress,
  }),
  clientKeys: optional({
    name: "AZURE_OPENAI_PROXY_API_KEYS",
    group: "clients",
    doc: "Comma-separated keys clients must present (`Authorization: Bearer …` or `api-key`) before anything is forwarded. Needs a server-held Azure key (for every resource of the configuration file too).",
    parse: parseList,
  }),
  redisUrl: optional({
    name: "AZURE_OPENAI_PROXY_REDIS_URL",
    group: "clients",
    defaultText: "— (in memory)",
    doc: "`redis://…` or `rediss://…`: the limits and usage of the configuration file's `clients` live in Redis, shared by every replica and worker (docs/clients.md).",
    parse: parseRedisUrl,
  }),
  redisFail: defaulted({
    name: "AZURE_OPENAI_PROXY_REDIS_FAIL",
    group: "clients",
    default: "open",
    doc: "While Redis is unreachable: `open` serves without client limits, `closed` answers 503 to clients with limits.",
    parse: parseChoice(["open", "closed"]),
  }),
  corsOrigins: defaulted({
    name: "AZURE_OPENAI_PROXY_CORS_ORIGINS",
    group: "clients",
    default: "*",
    doc: "Allowed browser origins (`scheme://host[:port]`), comma-separated, or `*`. A trailing `/` is dropped; anything else that is not an origin is an error.",
    parse: parseCorsOrigins,
  }),
  mode: defaulted({
    name: "AZURE_OPENAI_PROXY_MODE",
    group: "clients",
    default: "azure",
    doc: "`azure`, or `openai` to forward everything unchanged to `OPENAI_API_ENDPOINT`.",
    parse: parseChoice(["azure", "openai"]),
  }),
  anthropicEndpoint: optional({
    name: "AZURE_ANTHROPIC_ENDPOINT",
    group: "azure",
    defaultText: "the resource's `https://{name}.services.ai.azure.com`",
    doc: "Where Claude deployments are called (Anthropic's Messages API); derived from `AZURE_OPENAI_ENDPOINT` when unset. A trailing `/anthropic` or `/anthropic/v1` is ignored.",
    parse: (raw: string) => parseEndpoint(raw, /\/anthropic(\/v1)?$/),
  }),
  openaiEndpoint: defaulted({
    name: "OPENAI_API_ENDPOINT",
    group: "clients",
    default: "https://api.openai.com",
    doc: "The upstream in `openai` mode. A trailing `/` or `/v1` is ignored.",
    parse: (raw: string) => parseEndpoint(raw, /\/v1$/),
  }),
  maxBodySize: defaulted({
    name: "AZURE_OPENAI_PROXY_MAX_BODY_SIZE",
    group: "limits",
    default: "64mb",
    doc: "Largest JSON body (these are read into memory to find `model`). Over it: 413.",
    parse: parseSize,
  }),
  maxUploadSize: defaulted({
    name: "AZURE_OPENAI_PROXY_MAX_UPLOAD_SIZE",
    group: "limits",
    default: "512mb",
    doc: "Largest streamed body (multipart uploads, files, any other non-JSON body), chunked bodies counted as they arrive. Over it: 413, and the upstream request is aborted.",
    parse: parseSize,
  }),
  // ws alone allows 100 MiB: four sessions sending one 99 MB frame each took the proxy from 105 to
  // 918 MB RSS. 16 MiB holds minutes of base64 PCM16 audio in one input_audio_buffer.append.
  realtimeMaxMessage: defaulted({
    name: "AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE",
    group: "limits",
    default: "16mb",
    doc: "Largest realtime WebSocket message, from the client or from Azure. Over it, the session closes with 1009 (message too big).",
    parse: parseSize,
  }),
  connectTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_CONNECT_TIMEOUT",
    group: "limits",
    default: "10s",
    doc: "Connecting to Azure. Over it: failover, or 504.",
    parse: parseDuration,
  }),
  responseTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT",
    group: "limits",
    default: "10m",
    doc: "Until Azure starts a non-streamed answer (it comes whole, so this is long). Over it: failover, or 504.",
    parse: parseDuration,
  }),
  streamFirstByteTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_STREAM_FIRST_BYTE_TIMEOUT",
    group: "limits",
    default: "2m",
    doc: 'Until Azure starts a streamed answer (`"stream": true`). Over it: failover, or 504.',
    parse: parseDuration,
  }),
  idleTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_IDLE_TIMEOUT",
    group: "limits",
    default: "5m",
    doc: "Silence between two chunks of an answer. Over it, a stream ends with an error event.",
    parse: parseDuration,
  }),
  totalTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_TOTAL_TIMEOUT",
    group: "limits",
    default: "30m",
    doc: "A whole request, retries and streaming included. Over it: 504, or an error event mid-stream.",
    parse: parseDuration,
  }),
  shutdownTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_SHUTDOWN_TIMEOUT",
    group: "limits",
    default: "30s",
    doc: "After SIGTERM/SIGINT, how long in-flight requests and streams may finish.",
    parse: parseDuration,
  }),
  bodyIdleTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_BODY_IDLE_TIMEOUT",
    group: "limits",
    default: "30s",
    doc: "A request body that sends nothing for this long is answered 408 and its connection closed.",
    parse: parseDuration,
  }),
  requestTimeout: defaulted({
    name: "AZURE_OPENAI_PROXY_REQUEST_TIMEOUT",
    group: "limits",
    default: "5m",
    doc: "Headers and body of a request must have arrived within this (408).",
    parse: parseDuration,
  }),
  workers: defaulted({
    name: "AZURE_OPENAI_PROXY_WORKERS",
    group: "clients",
    default: "1",
    doc: "Worker processes serving the port (node:cluster), 1 to 256, or `auto`: one per core this process may use.",
    parse: parseWorkers,
  }),
  configFile: optional({
    name: "AZURE_OPENAI_PROXY_CONFIG",
    group: "pools",
    doc: "A YAML file of resources and model pools (fields below; docs/multiple-resources.md). `--config FILE` wins over it.",
    parse: parseText,
  }),
  maxAttempts: defaulted({
    name: "AZURE_OPENAI_PROXY_MAX_ATTEMPTS",
    group: "pools",
    default: "3",
    doc: "Targets tried at most for one request of a pool (failover before the first byte), 1 to 20.",
    parse: parseWholeNumber(1, 20),
  }),
  targetHeader: defaulted({
    name: "AZURE_OPENAI_PROXY_TARGET_HEADER",
    group: "pools",
    default: "false",
    doc: "`true` adds `x-azure-oai-proxy-target: RESOURCE/DEPLOYMENT` to every response.",
    parse: parseBoolean,
  }),
  adaptParams: defaulted({
    name: "AZURE_OPENAI_PROXY_ADAPT_PARAMS",
    group: "azure",
    default: "on",
    doc: '`off` sends chat parameters as the client gave them: no `max_tokens` → `max_completion_tokens` or removed sampling parameters for reasoning models, no retry of Azure\'s "Unsupported parameter" 400s (docs/model-families.md).',
    parse: parseChoice(["on", "off"]),
  }),
  streamArtefacts: defaulted({
    name: "AZURE_OPENAI_PROXY_STREAM_ARTEFACTS",
    group: "output",
    default: "strip",
    doc: "`keep` passes Azure's prompt-filter and annotation-only stream chunks to clients.",
    parse: parseChoice(["strip", "keep"]),
  }),
  logLevel: defaulted({
    name: "LOG_LEVEL",
    group: "output",
    default: "info",
    doc: "`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.",
    parse: parseChoice(LOG_LEVELS),
  }),
  metrics: defaulted({
    name: "AZURE_OPENAI_PROXY_METRICS",
    group: "observe",
    default: "on",
    doc: "Prometheus `/metrics`: `on` (on the main port), `off`, or `host:port` for a listener of its own, e.g. `127.0.0.1:9464` (docs/operations.md).",
    parse: parseMetricsSetting,
  }),
  adminKey: optional({
    name: "AZURE_OPENAI_PROXY_ADMIN_KEY",
    group: "observe",
    doc: "The operators' key for `/status`, `/status.json` and `/usage` (at least 16 characters): `Authorization: Bearer KEY`, or the password a browser asks for. Needed once client keys are configured; without it the page is then closed (403).",
    parse: parseAdminKey,
  }),
  nodeEnv: optional({
    name: "NODE_ENV",
    group: "output",
    doc: "`production` makes a missing endpoint a start-up error (the Docker image sets it).",
    parse: parseText,
  }),
  forward: defaulted({
    name: "AZURE_OPENAI_PROXY_FORWARD",
    group: "forward",
    default: "off",
    doc: "`on`: the listener is also an HTTP forward proxy, so apps that call `https://api.openai.com` and cannot be reconfigured reach Azure with `HTTPS_PROXY` set to the proxy and its CA trusted.",
    parse: parseOnOff,
  }),
  forwardHosts: defaulted({
    name: "AZURE_OPENAI_PROXY_FORWARD_HOSTS",
    group: "forward",
    default: "api.openai.com",
    doc: "Comma-separated host names the proxy answers for itself inside CONNECT tunnels (no ports, no wildcards); the proxy never connects to them.",
    parse: parseForwardHosts,
  }),
  forwardTunnels: optional({
    name: "AZURE_OPENAI_PROXY_FORWARD_TUNNEL",
    group: "forward",
    doc: "Comma-separated `host:port` the proxy may open blind tunnels to, for other hosts the app needs; CONNECT to anything else is refused (403).",
    parse: parseTunnelTargets,
  }),
  caDir: defaulted({
    name: "AZURE_OPENAI_PROXY_CA_DIR",
    group: "forward",
    default: ".azure-oai-proxy",
    doc: "Folder (relative to the working directory) of the local CA, `ca.pem` and `ca-key.pem` (mode 0600): made at the first start, or your own.",
    parse: parseText,
  }),
} satisfies Record<string, Setting<unknown>>;

export type Settings = typeof SETTINGS;

/** The parsed value of each setting: a family is a map of suffix to value; no default: maybe unset. */
export type SettingValues = {
  readonly [K in keyof Settings]: Settings[K] extends Family<infer T>
    ? ReadonlyMap<string, T>
    : Settings[K] extends Defaulted<infer T>
      ? T
      : Settings[K] extends Setting<infer T>
        ? T | undefined
        : never;
};
