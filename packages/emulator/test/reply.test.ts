import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { sendReply } from "../src/reply.ts";
import { sseEvent } from "../src/sse.ts";

/** Just enough of a ServerResponse to watch what sendReply writes. */
class RecordingResponse extends EventEmitter {
  writes: string[] = [];
  status = 0;
  ended = false;
  writeHead(status: number) {
    this.status = status;
    return this;
  }
  write(chunk: Buffer, callback?: () => void) {
    this.writes.push(chunk.toString());
    callback?.();
    return true;
  }
  end() {
    this.ended = true;
  }
}

describe("sendReply", () => {
  it("writes nothing more once the client has gone away", async () => {
    const res = new RecordingResponse();
    const controller = new AbortController();
    const events = Array.from({ length: 20 }, (_, i) => sseEvent({ i }));
    const sending = sendReply(
      res as unknown as ServerResponse,
      { kind: "sse", events },
      {
        chunkDelayMs: 10,
        signal: controller.signal,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 35));
    controller.abort();
    const writtenAtAbort = res.writes.length;
    await sending;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(writtenAtAbort > 0 && writtenAtAbort < events.length);
    assert.equal(res.writes.length, writtenAtAbort);
    assert.equal(res.ended, false);
  });

  it("writes every event in order, then ends", async () => {
    const res = new RecordingResponse();
    const events = ["a", "b", "c"].map(sseEvent);
    await sendReply(
      res as unknown as ServerResponse,
      { kind: "sse", events },
      {
        chunkDelayMs: 0,
        signal: new AbortController().signal,
      },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.writes, events);
    assert.equal(res.ended, true);
  });
});
