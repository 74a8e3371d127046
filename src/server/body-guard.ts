import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { requestTimeout } from "../openai/errors.ts";
import { sendError } from "../proxy/respond.ts";

/** After an early answer, how long the rest of a body may still arrive before the socket is cut. */
const LINGER_MS = 2_000;

/**
 * Keeps a slow or abandoned body from holding a connection. While the body arrives, a socket
 * that is quiet for `idleMs` gets a 408 (or is cut if the answer has begun). An answer given
 * before the body was read whole (401, 413…) closes the connection after a short linger, instead
 * of reading a trickling body to its end (nginx's lingering close, for the same reason).
 */
export function guardBody(
  request: IncomingMessage,
  response: ServerResponse,
  idleMs: number,
): void {
  const socket = request.socket as Socket;
  const { headers } = request;
  const hasBody =
    headers["transfer-encoding"] !== undefined ||
    (headers["content-length"] !== undefined && headers["content-length"] !== "0");
  if (!hasBody) return;
  if (!request.complete) {
    socket.setTimeout(idleMs);
    request.once("timeout", () => {
      if (response.headersSent) {
        socket.destroy();
        return;
      }
      sendError(response, requestTimeout());
    });
    request.once("end", () => socket.setTimeout(0));
  }
  response.once("finish", () => {
    if (request.complete) return;
    socket.setTimeout(0);
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
