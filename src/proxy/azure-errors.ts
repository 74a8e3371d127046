import { errorTypeForStatus, type OpenAIErrorBody } from "../openai/errors.ts";

/**
 * Turns an Azure error answer into OpenAI's shape, keeping Azure's status and code and any
 * details beside the four OpenAI fields (a content filter's `innererror`, for one).
 * Azure answers in several shapes: `{"error":{"code","message"}}`, OpenAI's own shape,
 * API Management's `{"statusCode","message"}`, or plain text from a gateway.
 */
export function translateAzureError(status: number, body: Buffer): OpenAIErrorBody {
  const text = body.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const source = errorObject(parsed);
  if (source === undefined) {
    const message = text.trim().slice(0, 2000) || `Azure OpenAI answered with status ${status}.`;
    return {
      error: { message, type: errorTypeForStatus(status), param: null, code: String(status) },
    };
  }
  const { message, type, param, code, ...extra } = source;
  return {
    error: {
      message:
        typeof message === "string" && message !== ""
          ? message
          : `Azure OpenAI answered with status ${status}.`,
      type: typeof type === "string" && type !== "" ? type : errorTypeForStatus(status),
      param: typeof param === "string" ? param : null,
      code: typeof code === "string" || typeof code === "number" ? String(code) : null,
      ...extra,
    },
  };
}

function errorObject(parsed: unknown): Record<string, unknown> | undefined {
  if (parsed === null || typeof parsed !== "object") return undefined;
  const record = parsed as Record<string, unknown>;
  const inner = record.error;
  if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
    return inner as Record<string, unknown>;
  }
  if (typeof record.message === "string") {
    // API Management and some gateways: {"statusCode": 401, "message": "..."}
    const { statusCode, message, ...rest } = record;
    return { message, code: statusCode ?? null, ...rest };
  }
  return undefined;
}
