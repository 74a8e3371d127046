import type { ServerResponse } from "node:http";
import type { ProxyError } from "../openai/errors.ts";

/** Answers with a JSON body (the status, headers and bytes OpenAI clients expect). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string | string[]>>,
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  // Answered before the client finished sending (a refused key, a body over the limit): the
  // rest is not read, so the connection cannot carry another request.
  if (!res.req.complete) res.setHeader("connection", "close");
  if (headers !== undefined)
    for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}

/** Answers with one of the proxy's own errors, in OpenAI's shape. */
export function sendError(res: ServerResponse, error: ProxyError): void {
  sendJson(res, error.status, error.toBody(), error.headers);
}
