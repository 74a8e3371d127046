import type { IncomingMessage } from "node:http";
import { bodyTooLarge } from "../openai/errors.ts";

/** The declared Content-Length, if the client sent a valid one. */
export function declaredLength(request: IncomingMessage): number | undefined {
  const raw = request.headers["content-length"];
  if (raw === undefined) return undefined;
  const length = Number(raw);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** Refuses a body whose declared length is over the limit before reading a byte of it. */
export function checkDeclaredLength(request: IncomingMessage, limit: number): void {
  const length = declaredLength(request);
  if (length !== undefined && length > limit) throw bodyTooLarge(limit);
}

/**
 * Reads a whole body into memory, refusing it as soon as it passes `limit` bytes. The rest of a
 * refused body is drained, not read into memory, so the 413 still reaches the client.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(request, limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off("data", onData);
      request.off("end", onEnd);
      request.resume();
      reject(bodyTooLarge(limit));
    };
    const onEnd = () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("error", reject);
  });
}
