import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { type FakeUpstream, startFakeUpstream, startTestProxy, type TestProxy } from "./harness.ts";

const LIMIT = 1024 * 1024;
const SENT = 8 * LIMIT;

/**
 * Sends `SENT` bytes chunked (no Content-Length) until the proxy answers; returns the status and
 * how much was written before the answer.
 */
function sendChunked(
  url: string,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number; written: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    let answered = false;
    const request = httpRequest(url, { method, headers }, (response) => {
      answered = true;
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, written }));
      response.on("error", () => resolve({ status: response.statusCode ?? 0, written }));
    });
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && written < SENT) {
        written += chunk.length;
        if (!request.write(chunk)) {
          request.once("drain", pump);
          return;
        }
      }
      if (!answered) request.end();
    };
    pump();
  });
}

const MULTIPART_HEAD =
  '------limit\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n------limit\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n';

describe("the upload limit on streamed bodies", () => {
  let upstream: FakeUpstream;
  let azure: TestProxy;
  let openai: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    const limit = { AZURE_OPENAI_PROXY_MAX_UPLOAD_SIZE: String(LIMIT) };
    azure = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key",
      AZURE_OPENAI_MODEL_MAPPER: "whisper-1=whisper",
      ...limit,
    });
    openai = await startTestProxy({
      AZURE_OPENAI_PROXY_MODE: "openai",
      OPENAI_API_ENDPOINT: upstream.url,
      ...limit,
    });
  });
  after(async () => {
    await azure.close();
    await openai.close();
    await upstream.close();
  });

  const multipart = { "content-type": "multipart/form-data; boundary=----limit" };
  for (const [label, proxy, method, path, headers] of [
    ["a file upload", () => azure, "POST", "/v1/files", multipart],
    ["an upload part", () => azure, "POST", "/v1/uploads/upload_1/parts", multipart],
    ["a generic /v1 path", () => azure, "PUT", "/v1/containers/c1/files", {}],
    [
      "a transcription (multipart with model)",
      () => azure,
      "POST",
      "/v1/audio/transcriptions",
      multipart,
    ],
    [
      "openai mode",
      () => openai,
      "POST",
      "/v1/files",
      { ...multipart, authorization: "Bearer sk-x" },
    ],
  ] as const) {
    it(`answers 413 for a chunked body over the limit on ${label}, and aborts upstream`, async () => {
      const before = upstream.received.length;
      const { status } = await sendChunked(`${proxy().url}${path}`, method, {
        "api-key": "k",
        ...headers,
      });
      assert.equal(status, 413);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const sent of upstream.received.slice(before)) {
        assert.ok(
          sent.aborted || sent.bodySize <= LIMIT,
          `${sent.url}: ${sent.bodySize} bytes reached the upstream whole`,
        );
      }
    });
  }

  it("still streams a chunked body under the limit whole", async () => {
    const body = Buffer.concat([
      Buffer.from(MULTIPART_HEAD),
      Buffer.alloc(200_000, 0x61),
      Buffer.from("\r\n------limit--\r\n"),
    ]);
    const response = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${azure.url}/v1/files`,
        { method: "POST", headers: { ...multipart, "api-key": "k" } },
        (r) => {
          r.resume();
          r.on("end", () => resolve(r.statusCode ?? 0));
        },
      );
      request.on("error", reject);
      request.write(body.subarray(0, 100_000));
      request.end(body.subarray(100_000));
    });
    assert.equal(response, 200);
    assert.equal(upstream.received.at(-1)?.bodySize, body.length);
  });
});
