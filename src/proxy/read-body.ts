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
  const declared = declaredLength(request);
  return new Promise((resolve, reject) => {
    // With a declared length the body goes straight into one buffer of that size, so a big body
    // is in memory once, not once in chunks and again concatenated.
    const whole =
      declared !== undefined && declared > 64 * 1024 ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (
        size + chunk.length <= limit &&
        (whole === undefined || size + chunk.length <= whole.length)
      ) {
        if (whole !== undefined) chunk.copy(whole, size);
        else chunks.push(chunk);
        size += chunk.length;
        return;
      }
      request.off("data", onData);
      request.off("end", onEnd);
      request.resume();
      reject(bodyTooLarge(limit));
    };
    const onEnd = () => {
      if (whole !== undefined) resolve(whole.subarray(0, size));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("error", reject);
  });
}
