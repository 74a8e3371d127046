import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMULATOR_KEY, postJson, startStack } from "../helpers/stack.ts";

const chat = { model: "gpt-4o", stream: true, messages: [{ role: "user", content: "hi" }] };

describe("during the shutdown grace period", () => {
  it("answers probes (readyz 503, healthz 200) and turns new requests away with 503 while a stream finishes", async () => {
    const stack = await startStack({ emulator: { chunkDelayMs: 30 } });
    const stream = await postJson(`${stack.url}/v1/chat/completions`, chat, {
      "api-key": EMULATOR_KEY,
      "x-emulator-words": "30",
    });
    const closing = stack.proxy.close(10_000);

    const ready = await fetch(`${stack.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(
      ((await ready.json()) as { error: { code: string } }).error.code,
      "service_unavailable",
    );
    assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
    const refused = await postJson(`${stack.url}/v1/chat/completions`, { ...chat, stream: false });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("connection"), "close");

    const text = await stream.text();
    assert.match(text, /data: \[DONE\]/);
    await closing;
    await assert.rejects(fetch(`${stack.url}/healthz`));
    await stack.emulator.close();
  });
});
