import assert from "node:assert/strict";
import type { ChatStreamTranslator } from "../../src/adapters/chat-stream.ts";

/** Everything a fresh translator writes for `pieces`, then its end. */
export function translateAll(make: () => ChatStreamTranslator, pieces: Buffer[]): string {
  const translator = make();
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const bytes = translator.push(piece);
    if (bytes !== undefined) out.push(bytes);
  }
  const last = translator.end();
  if (last !== undefined) out.push(last);
  return Buffer.concat(out).toString("utf8");
}

/**
 * Translates `stream` whole, then split in two at every byte boundary and one byte at a time,
 * and asserts every way gives the same bytes; returns them.
 */
export function translateSplitEverywhere(make: () => ChatStreamTranslator, stream: string): string {
  const bytes = Buffer.from(stream);
  const whole = translateAll(make, [bytes]);
  for (let i = 1; i < bytes.length; i++) {
    const split = translateAll(make, [bytes.subarray(0, i), bytes.subarray(i)]);
    assert.equal(split, whole, `split at byte ${i}`);
  }
  const oneByOne = [...bytes].map((b) => Buffer.from([b]));
  assert.equal(translateAll(make, oneByOne), whole, "one byte at a time");
  return whole;
}

/** The JSON payloads of the `data:` events a client receives ([DONE] as the string). */
export function dataEvents(sse: string): unknown[] {
  return sse
    .split("\n\n")
    .filter((event) => event.startsWith("data: "))
    .map((event) => {
      const data = event.slice(6);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}
