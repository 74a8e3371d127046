import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readBody } from "../../src/proxy/read-body.ts";
import { type FakeUpstream, startFakeUpstream, startTestProxy, type TestProxy } from "./harness.ts";

describe("/healthz", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  let file: string;
  before(async () => {
    upstream = await startFakeUpstream();
    const dir = await mkdtemp(join(tmpdir(), "aop-secret-place-"));
    file = join(dir, "proxy.yaml");
    await writeFile(
      file,
      `resources:\n  main: { endpoint: ${upstream.url}, apiKey: k }\nmodels:\n  gpt-4o:\n    targets:\n      - { resource: main, deployment: gpt-4o }\n`,
    );
    proxy = await startTestProxy({ AZURE_OPENAI_PROXY_CONFIG: file });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("says a configuration file is in use without saying where it lies", async () => {
    const text = await (await fetch(`${proxy.url}/healthz`)).text();
    assert.doesNotMatch(text, /aop-secret-place|proxy\.yaml/);
    assert.equal(JSON.parse(text).config, "file");
  });
});

/** A request that declares `length` bytes and sends `sent` of them, then stalls. */
function stalledRequest(length: number, sent: number): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.headers = { "content-length": String(length) };
  request.push(Buffer.alloc(sent, 0x20));
  return request;
}

describe("the JSON body reader", () => {
  it("does not reserve the declared length before the bytes arrive", async () => {
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    const requests = Array.from({ length: 8 }, () => stalledRequest(32 * 1024 * 1024, 10));
    for (const request of requests) readBody(request, 64 * 1024 * 1024).catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    const grown = process.memoryUsage().arrayBuffers - before;
    // Eight 32 MB reservations would be 256 MB; what arrived is 80 bytes.
    assert.ok(grown < 16 * 1024 * 1024, `${(grown / 2 ** 20).toFixed(1)} MB reserved`);
    for (const request of requests) request.destroy();
  });

  it("reads a large declared body whole and byte for byte", async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const request = new IncomingMessage(new Socket());
    request.headers = { "content-length": String(body.length) };
    for (let at = 0; at < body.length; at += 65_000) request.push(body.subarray(at, at + 65_000));
    request.push(null);
    const read = await readBody(request, 64 * 1024 * 1024);
    assert.ok(read.equals(body));
  });
});
