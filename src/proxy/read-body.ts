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

/** The first buffer of a body with a declared length; it doubles as data arrives. */
const FIRST_CAPACITY = 64 * 1024;

/**
 * Reads a whole body into memory, refusing it as soon as it passes `limit` bytes. The rest of a
 * refused body is drained, not read into memory, so the 413 still reaches the client.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(request, limit);
  const declared = declaredLength(request);
  return new Promise((resolve, reject) => {
    // With a declared length the body goes into one buffer that doubles as data arrives, capped
    // at that length: a big body is copied about once more in all instead of concatenated at the
    // end, and a client that declares 32 MB and sends nothing reserves 64 KB, not 32 MB.
    let whole: Buffer | undefined =
      declared !== undefined && declared > FIRST_CAPACITY
        ? Buffer.allocUnsafe(FIRST_CAPACITY)
        : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      const next = size + chunk.length;
      if (next <= limit && (declared === undefined || whole === undefined || next <= declared)) {
        if (whole !== undefined) {
          if (next > whole.length) {
            const grown = Buffer.allocUnsafe(
              Math.min(declared as number, Math.max(next, whole.length * 2)),
            );
            whole.copy(grown, 0, 0, size);
            whole = grown;
          }
          chunk.copy(whole, size);
        } else chunks.push(chunk);
        size = next;
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
