import { isObject } from "./chat-types.ts";

/**
 * True when Azure refused a chat request because the model only serves the Responses API:
 * 400 `OperationNotSupported` ("The chatCompletion operation does not work with the specified
 * model, …"). The same request can then go over the Responses API, and the deployment be
 * remembered as Responses-only.
 */
export function isChatNotSupported(status: number, errorBody: unknown): boolean {
  if (status !== 400 || !isObject(errorBody) || !isObject(errorBody.error)) return false;
  const { code, message } = errorBody.error;
  return (
    code === "OperationNotSupported" &&
    typeof message === "string" &&
    /chatCompletion operation does not work/i.test(message)
  );
}
