import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type FakeUpstream,
  logLines,
  startFakeUpstream,
  startTestProxy,
  type TestProxy,
} from "./harness.ts";

/** Sends the head and part of the body, then closes the connection. */
async function abortMidBody(port: number, head: string[], part: string): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(`${head.join("\r\n")}\r\n\r\n${part}`);
  await sleep(100);
  socket.destroy();
}

const JSON_PART = `{"model":"gpt-4o","messages":[{"role":"user","content":"${"a".repeat(20_000)}`;
const MULTIPART_PART = `------abort\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n${"a".repeat(20_000)}`;

describe("a client that disconnects mid-body", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=gpt-4o,whisper-1=whisper",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  for (const [label, head, part] of [
    [
      "JSON",
      [
        "POST /v1/chat/completions HTTP/1.1",
        "Host: p",
        "Content-Type: application/json",
        "Content-Length: 100000",
      ],
      JSON_PART,
    ],
    [
      "multipart",
      [
        "POST /v1/audio/transcriptions HTTP/1.1",
        "Host: p",
        "Content-Type: multipart/form-data; boundary=----abort",
        "Content-Length: 100000",
      ],
      MULTIPART_PART,
    ],
    [
      "multipart, chunked",
      [
        "POST /v1/audio/transcriptions HTTP/1.1",
        "Host: p",
        "Content-Type: multipart/form-data; boundary=----abort",
        "Transfer-Encoding: chunked",
      ],
      `${Buffer.byteLength(MULTIPART_PART).toString(16)}\r\n${MULTIPART_PART}\r\n`,
    ],
    [
      "streamed (a file upload)",
      [
        "POST /v1/files HTTP/1.1",
        "Host: p",
        "Content-Type: multipart/form-data; boundary=----abort",
        "Content-Length: 100000",
      ],
      MULTIPART_PART,
    ],
    [
      "streamed, chunked (a generic path)",
      [
        "PUT /v1/containers/c1 HTTP/1.1",
        "Host: p",
        "Content-Type: application/octet-stream",
        "Transfer-Encoding: chunked",
      ],
      `4e20\r\n${"b".repeat(20_000)}\r\n`,
    ],
  ] as const) {
    it(`is logged as a client close, not an unexpected error (${label})`, async () => {
      const from = proxy.logs.length;
      await abortMidBody(proxy.port, [...head], part);
      await sleep(300);
      const lines = logLines(proxy.logs.slice(from));
      const errors = lines.filter((l) => (l.level as number) >= 50);
      assert.deepEqual(
        errors.map((l) => l.msg),
        [],
        "no error-level line (no 'unexpected error' with a stack)",
      );
      const request = lines.find((l) => l.msg === "request");
      assert.ok(request, "the request is logged");
      assert.equal(request.error, "client closed the connection");
    });
  }
});
