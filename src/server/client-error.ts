import type { Duplex } from "node:stream";
import { ProxyError } from "../openai/errors.ts";

/** Node's codes for requests it could not parse or that took too long, as HTTP statuses. */
const STATUS_FOR_CODE: Readonly<Record<string, [number, string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "The request was not received in time."],
  HPE_HEADER_OVERFLOW: [431, "The request's headers are too large."],
};

/**
 * A request node:http could not parse (or that timed out) is answered with an OpenAI-shaped
 * error and the connection closed, instead of Node's bare status line.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] = STATUS_FOR_CODE[error.code ?? ""] ?? [
    400,
    "The request is not valid HTTP.",
  ];
  const body = JSON.stringify(
    new ProxyError(status, message, {
      code: status === 408 ? "request_timeout" : "bad_request",
    }).toBody(),
  );
  const reason =
    status === 408
      ? "Request Timeout"
      : status === 431
        ? "Request Header Fields Too Large"
        : "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
