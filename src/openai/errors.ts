/**
 * OpenAI's error shape and every error the proxy itself can produce.
 * Each error has a name, an HTTP status and an OpenAI-shaped body.
 */

export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  /** Azure's extra details (content filter results, inner errors) are kept beside the four fields. */
  [extra: string]: unknown;
}

export interface OpenAIErrorBody {
  error: OpenAIErrorObject;
}

/** An error the proxy answers with; `headers` are added to the response (e.g. retry-after). */
export class ProxyError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message: string,
    options: {
      type?: string;
      param?: string | null;
      code?: string | null;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProxyError";
    this.status = status;
    this.type = options.type ?? errorTypeForStatus(status);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): OpenAIErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

/** The `type` OpenAI uses for a status. */
export function errorTypeForStatus(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "invalid_request_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

// The proxy's own errors, by name. Each is a function so messages can name what to fix.

export const invalidJson = (detail: string) =>
  new ProxyError(400, `We could not parse the JSON body of your request. (${detail})`, {
    code: "invalid_json",
  });

export const jsonBodyNotObject = () =>
  new ProxyError(400, "The request body must be a JSON object.", { code: "invalid_json" });

export const duplicateModel = () =>
  new ProxyError(
    400,
    "The request body names `model` more than once (possibly spelt with escapes); send it once.",
    { param: "model", code: "duplicate_model" },
  );

export const missingModel = () =>
  new ProxyError(400, "You must provide a model parameter.", {
    param: "model",
    code: "missing_model",
  });

export const invalidModelName = (model: string) =>
  new ProxyError(
    400,
    `The model name ${JSON.stringify(model.slice(0, 200))} is not valid: it must not contain "/", "\\", "?", "#", "%", "..", or control characters, and must not be only dots.`,
    { param: "model", code: "invalid_model" },
  );

export const invalidPathParameter = (name: string, value: string) =>
  new ProxyError(400, `The path parameter ${name} may not be ${JSON.stringify(value)}.`, {
    param: name,
    code: "invalid_path_parameter",
  });

export const modelNotFound = (model: string) =>
  new ProxyError(404, `The model '${model}' does not exist or you do not have access to it.`, {
    param: "model",
    code: "model_not_found",
  });

export const missingCredentials = () =>
  new ProxyError(
    401,
    "You didn't provide an API key. Send your key in an Authorization header (Authorization: Bearer YOUR_KEY) or an api-key header.",
    { code: "missing_api_key" },
  );

export const invalidProxyKey = () =>
  new ProxyError(401, "Incorrect API key provided for this proxy.", { code: "invalid_api_key" });

export const bodyTooLarge = (limit: number) =>
  new ProxyError(413, `The request body is larger than this proxy accepts (${limit} bytes).`, {
    code: "request_too_large",
  });

export const unsupportedMediaType = (contentType: string, expected: string) =>
  new ProxyError(
    415,
    `Unsupported Content-Type ${JSON.stringify(contentType)}: this endpoint expects ${expected}.`,
    { code: "unsupported_media_type" },
  );

export const invalidMultipart = (detail: string) =>
  new ProxyError(400, `We could not parse the multipart body of your request. (${detail})`, {
    code: "invalid_multipart",
  });

export const unknownRoute = (method: string, path: string) =>
  new ProxyError(404, `Invalid URL (${method} ${path})`, { code: "unknown_url" });

export const invalidUrl = (path: string) =>
  new ProxyError(400, `'${path}' is not a valid URL: its percent-encoding cannot be decoded.`, {
    code: "invalid_url",
  });

export const invalidRequestTarget = (target: string) =>
  new ProxyError(
    400,
    `The request target ${JSON.stringify(target.slice(0, 200))} is not a path this proxy serves: send a path such as /v1/models (no scheme or host, no fragment, no backslash).`,
    { code: "invalid_request_target" },
  );

export const legacyFineTunesRemoved = () =>
  new ProxyError(
    410,
    "The legacy fine-tunes API (/v1/fine_tunes) no longer exists at OpenAI or Azure OpenAI. Use /v1/fine_tuning/jobs instead.",
    { code: "endpoint_removed" },
  );

export const allTargetsCooling = (waitMs: number) =>
  new ProxyError(
    429,
    `Every Azure deployment serving this model is rate-limited or failing; retry after ${Math.ceil(waitMs / 1000)} s.`,
    {
      code: "rate_limit_exceeded",
      headers: retryHeaders(waitMs),
    },
  );

/** Retry-After in seconds (at least 1) and the precise retry-after-ms Azure also sends. */
function retryHeaders(waitMs: number): Record<string, string> {
  return {
    "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))),
    "retry-after-ms": String(Math.max(1, Math.ceil(waitMs))),
  };
}

export const modelNotAllowed = (model: string, client: string) =>
  new ProxyError(
    403,
    `The model '${model.slice(0, 200)}' is not allowed for client ${client}; ask the proxy's operator to add it to the client's models.`,
    { param: "model", code: "model_not_allowed" },
  );

/** Over a client's rpm or tpm. `type` is what OpenAI sends: "requests" or "tokens". */
export const clientRateLimited = (
  client: string,
  limit: "requests" | "tokens",
  value: number,
  waitMs: number,
  headers: Readonly<Record<string, string>>,
) =>
  new ProxyError(
    429,
    `Rate limit reached for client ${client} on ${limit === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)"}: Limit ${value}. Please try again in ${Math.max(1, Math.ceil(waitMs / 1000))}s.`,
    { type: limit, code: "rate_limit_exceeded", headers: { ...headers, ...retryHeaders(waitMs) } },
  );

/** Over a client's daily token budget: OpenAI's code for an exhausted quota. */
export const clientBudgetExhausted = (
  client: string,
  budget: number,
  waitMs: number,
  headers: Readonly<Record<string, string>>,
) =>
  new ProxyError(
    429,
    `Client ${client} has used its budget of ${budget} tokens for today (UTC); it renews at midnight UTC.`,
    {
      type: "insufficient_quota",
      code: "insufficient_quota",
      headers: { ...headers, ...retryHeaders(waitMs) },
    },
  );

/** The limits store (Redis) cannot be reached and AZURE_OPENAI_PROXY_REDIS_FAIL=closed. */
export const limitsUnavailable = (cause?: unknown) =>
  new ProxyError(503, "The proxy cannot reach its limits store (Redis) right now; retry shortly.", {
    code: "limits_unavailable",
    headers: { "retry-after": "1" },
    cause,
  });

export const upstreamUnreachable = (detail: string) =>
  new ProxyError(502, `The proxy could not reach Azure OpenAI: ${detail}`, {
    code: "upstream_unreachable",
  });

export const requestTimeout = () =>
  new ProxyError(408, "The request body stopped arriving; send it without long pauses.", {
    code: "request_timeout",
  });

/**
 * A credential the proxy holds (a server-held key, a Microsoft Entra ID credential) was refused
 * by Azure or could not give a token: the operator's problem, so not a 401 that would blame the
 * client's own key. `credential` names it (`managed-identity`, `api-key (resource "main")`);
 * `detail` is what went wrong, already free of secrets.
 */
export const upstreamAuthFailed = (credential: string, detail: string) =>
  new ProxyError(
    502,
    `The proxy's Azure credential was refused or could not be had; your own key is not at fault. Its ${credential} credential: ${detail}`,
    { code: "upstream_auth_failed" },
  );

/** /readyz before every Entra ID token is had; `detail` is the last failure, if any. */
export const upstreamAuthNotReady = (detail: string | null) =>
  new ProxyError(
    503,
    `The proxy has no Microsoft Entra ID token for Azure yet${detail === null ? "" : `: ${detail}`}`,
    { code: "upstream_auth_not_ready" },
  );

export const clientKeyRefused = (detail: string) =>
  new ProxyError(401, `Azure OpenAI refused the API key you sent (${detail}).`, {
    code: "invalid_api_key",
  });

export const modelListUnavailable = (resource: string, cause: string) =>
  new ProxyError(
    502,
    `The proxy could not list the models of Azure resource "${resource}" (${cause}) and has no configured model names to offer instead.`,
    { code: "model_list_unavailable" },
  );

export const upstreamTimeout = (what: string) =>
  new ProxyError(504, `Azure OpenAI did not answer in time (${what}).`, {
    code: "upstream_timeout",
  });

export const upstreamInterrupted = (detail: string) =>
  new ProxyError(502, `Azure OpenAI stopped in the middle of the answer (${detail}).`, {
    code: "upstream_interrupted",
  });

export const serviceStopping = () =>
  new ProxyError(503, "The proxy is shutting down; retry the request.", {
    code: "service_unavailable",
  });

export const internalError = () =>
  new ProxyError(500, "The proxy had an unexpected error while processing your request.", {
    code: "internal_error",
  });

/** The operator's pages (status, usage) asked for without the admin key, or with a wrong one. */
export const adminKeyRequired = () =>
  new ProxyError(
    401,
    "This page is for the proxy's operators: send the admin key (AZURE_OPENAI_PROXY_ADMIN_KEY) as Authorization: Bearer KEY, or as the password when the browser asks.",
    {
      code: "admin_key_required",
      headers: { "www-authenticate": 'Basic realm="azure-oai-proxy", charset="UTF-8"' },
    },
  );

/** Clients are configured but no admin key is: the operator's pages stay closed. */
export const adminKeyNotSet = () =>
  new ProxyError(
    403,
    "This page is closed: clients are configured, so it needs an admin key. Set AZURE_OPENAI_PROXY_ADMIN_KEY on the proxy.",
    { code: "admin_key_not_set" },
  );

// HTTPS_PROXY mode (src/forward/).

const PROXY_AUTHENTICATE = { "proxy-authenticate": 'Basic realm="azure-oai-proxy"' };

export const proxyKeyMissing = () =>
  new ProxyError(
    407,
    "This proxy needs a key: put it in the proxy URL as the password (HTTPS_PROXY=http://user:KEY@host:port) or send it as your API key.",
    {
      type: "authentication_error",
      code: "proxy_authentication_required",
      headers: PROXY_AUTHENTICATE,
    },
  );

export const proxyKeyInvalid = () =>
  new ProxyError(
    407,
    "The key in Proxy-Authorization is not one of this proxy's keys (send Basic with the key as the password, or Bearer KEY).",
    { type: "authentication_error", code: "invalid_proxy_key", headers: PROXY_AUTHENTICATE },
  );

export const forwardHostRefused = (target: string) =>
  new ProxyError(
    403,
    `This proxy does not connect to ${JSON.stringify(target.slice(0, 300))}: it answers only for its intercepted hosts (AZURE_OPENAI_PROXY_FORWARD_HOSTS) and tunnels only to AZURE_OPENAI_PROXY_FORWARD_TUNNEL.`,
    { code: "forward_host_not_allowed" },
  );

export const invalidConnectTarget = (target: string) =>
  new ProxyError(400, `CONNECT needs host:port, got ${JSON.stringify(target.slice(0, 300))}.`, {
    code: "invalid_connect_target",
  });

export const tunnelUnreachable = (target: string, detail: string) =>
  new ProxyError(502, `The proxy could not open a tunnel to ${target}: ${detail}`, {
    code: "tunnel_unreachable",
  });

export const parameterNotTranslatable = (param: string, api: string, why: string) =>
  new ProxyError(
    400,
    `'${param}' cannot be used with this model: it is served through ${api}, which ${why}.`,
    { param, code: "unsupported_parameter" },
  );

export const invalidChatRequest = (param: string, detail: string) =>
  new ProxyError(400, `Invalid '${param}': ${detail}`, { param, code: "invalid_value" });

export const upstreamAnswerFailed = (detail: string, code: string | null) =>
  new ProxyError(500, `The model failed to answer: ${detail}`, { code: code ?? "server_error" });

export const upstreamAnswerUnreadable = (api: string) =>
  new ProxyError(502, `The proxy could not read the answer from ${api}.`, {
    code: "upstream_unreadable",
  });
