/** An error answer exactly as Azure OpenAI sends it: status, JSON body and extra headers. */
export interface AzureError {
  status: number;
  body: { error: Record<string, unknown> };
  headers?: Record<string, string>;
}

const SAFE = { filtered: false, severity: "safe" } as const;

function codeAndMessage(status: number, code: string, message: string): AzureError {
  return { status, body: { error: { code, message } } };
}

/** The shape Azure uses for request validation failures (mirrors OpenAI's). */
function invalidRequest(message: string, param: string | null = null): AzureError {
  return {
    status: 400,
    body: { error: { message, type: "invalid_request_error", param, code: null } },
  };
}

/** The authoring API's error shape (files, uploads, fine-tuning, batches): `code` from its enum. */
function authoring(status: number, code: string, message: string, target?: string): AzureError {
  const error: Record<string, unknown> = { code, message };
  if (target !== undefined) error.target = target;
  return { status, body: { error } };
}

export const azureErrors = {
  resourceNotFound: () => codeAndMessage(404, "404", "Resource not found"),

  apiVersionNotSupported: () => codeAndMessage(400, "BadRequest", "API version not supported"),

  accessDenied: () =>
    codeAndMessage(
      401,
      "401",
      "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    ),

  /** A key sent to a resource with local (key) authentication disabled. */
  keyAuthDisabled: () =>
    codeAndMessage(
      403,
      "AuthenticationTypeDisabled",
      "Key based authentication is disabled for this resource.",
    ),

  deploymentNotFound: () =>
    codeAndMessage(
      404,
      "DeploymentNotFound",
      "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
    ),

  badRequest: (message: string) => codeAndMessage(400, "BadRequest", message),

  invalidRequest,

  operationNotSupported: (azureName: string, model: string) =>
    codeAndMessage(
      400,
      "OperationNotSupported",
      `The ${azureName} operation does not work with the specified model, ${model}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
    ),

  rateLimited: (azureOperationId: string, apiVersion: string, retryAfterMs: number) => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const error = codeAndMessage(
      429,
      "429",
      `Requests to the ${azureOperationId} Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} second${seconds === 1 ? "" : "s"}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    );
    error.headers = {
      "retry-after-ms": String(retryAfterMs),
      "retry-after": String(Math.ceil(retryAfterMs / 1000)),
      "x-ratelimit-remaining-requests": "0",
    };
    return error;
  },

  /** Authoring API: no such file, upload, fine-tuning job or batch. */
  notFound: (message: string) => authoring(404, "notFound", message),

  /** Authoring API: a field of the request is wrong. */
  invalidPayload: (message: string, target?: string) =>
    authoring(400, "invalidPayload", message, target),

  /** Authoring API: the object is not in a state that allows the operation. */
  unexpectedEntityState: (message: string) => authoring(409, "unexpectedEntityState", message),

  /** Assistants, threads, vector stores, responses: OpenAI's not-found shape. */
  objectNotFound: (message: string): AzureError => ({
    status: 404,
    body: { error: { message, type: "invalid_request_error", param: null, code: null } },
  }),

  /**
   * Assistants and runs name a deployment in `model`; Azure refuses an unknown one with a 400
   * (not the 404 DeploymentNotFound of inference routes).
   */
  modelNotFound: (name: string): AzureError => ({
    status: 400,
    body: {
      error: {
        message: `The requested model '${name}' was not found: 'model' must be the name of a deployment of this resource.`,
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    },
  }),

  /** What reasoning models answer for a parameter they do not take (Azure's text, word for word). */
  unsupportedParameter: (name: string, replacement?: string): AzureError => ({
    status: 400,
    body: {
      error: {
        message:
          replacement === undefined
            ? `Unsupported parameter: '${name}' is not supported with this model.`
            : `Unsupported parameter: '${name}' is not supported with this model. Use '${replacement}' instead.`,
        type: "invalid_request_error",
        param: name,
        code: "unsupported_parameter",
      },
    },
  }),

  /** What reasoning models answer for a sampling parameter away from its default. */
  unsupportedValue: (name: string, value: unknown, fallback: number): AzureError => ({
    status: 400,
    body: {
      error: {
        message: `Unsupported value: '${name}' does not support ${String(value)} with this model. Only the default (${fallback}) value is supported.`,
        type: "invalid_request_error",
        param: name,
        code: "unsupported_value",
      },
    },
  }),

  internalServerError: () =>
    codeAndMessage(
      500,
      "InternalServerError",
      "The server had an error while processing your request.",
    ),

  contentFiltered: (): AzureError => ({
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
        innererror: {
          code: "ResponsibleAIPolicyViolation",
          content_filter_result: {
            hate: { filtered: true, severity: "high" },
            self_harm: SAFE,
            sexual: SAFE,
            violence: SAFE,
          },
        },
      },
    },
  }),
} as const satisfies Record<string, (...args: never[]) => AzureError>;
