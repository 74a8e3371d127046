import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type FakeUpstream,
  rawRequest,
  startFakeUpstream,
  startTestProxy,
  type TestProxy,
} from "./harness.ts";

/**
 * Framing attacks, sent byte for byte over a raw socket: a request whose length two parsers could
 * read differently must be refused whole, and nothing after it on the connection served.
 */
const SMUGGLED = "GET /v1/models HTTP/1.1\r\nHost: p\r\n\r\n";
const BODY = '{"model":"gpt-4o","messages":[]}';

const CASES: readonly [string, string][] = [
  [
    "Content-Length with Transfer-Encoding: chunked",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  ],
  [
    "two different Content-Length headers",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nContent-Length: 0\r\n\r\n${BODY}${SMUGGLED}`,
  ],
  [
    "one Content-Length with two values",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}, 0\r\n\r\n${BODY}${SMUGGLED}`,
  ],
  [
    "an obs-folded header",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nX-Folded: a\r\n b\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
  ],
  [
    "an obs-folded Transfer-Encoding",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
  ],
  [
    "a space before the colon of Content-Length",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length : 0\r\n\r\n${BODY}`,
  ],
  [
    "Transfer-Encoding other than chunked last",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
  ],
  [
    "a chunk size with junk",
    `POST /v1/files HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5;\x00x\r\nhello\r\n0\r\n\r\n`,
  ],
  [
    "a negative Content-Length",
    `POST /v1/chat/completions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n${BODY}`,
  ],
];

describe("request smuggling", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=gpt-4o",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });
  const forwarded = () =>
    upstream.received.filter((r) => !r.url.startsWith("/openai/deployments?")).length;

  for (const [label, bytes] of CASES) {
    it(`refuses ${label} with 400 and serves nothing after it`, async () => {
      const before = forwarded();
      const answer = await rawRequest(proxy.port, bytes, 1000);
      assert.equal(answer.status, 400, answer.raw.slice(0, 300));
      assert.equal(answer.raw.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, "exactly one answer");
      assert.equal(forwarded(), before, "nothing reached Azure");
    });
  }
});
