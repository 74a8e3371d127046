import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type FakeUpstream,
  rawRequest,
  startFakeUpstream,
  startTestProxy,
  type TestProxy,
} from "./harness.ts";

const CHAT = '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}';

/** Headers a hostile or careless upstream sends to override the proxy's own decisions. */
const HOSTILE_UPSTREAM_HEADERS = {
  "access-control-allow-origin": "https://evil.example",
  "access-control-allow-credentials": "true",
  "access-control-expose-headers": "*",
  "set-cookie": "session=stolen; Path=/",
  "proxy-authenticate": 'Basic realm="upstream"',
  connection: "keep-alive, x-upstream-hop",
  "x-upstream-hop": "secret",
  "x-ratelimit-remaining-requests": "99",
};

describe("upstream response headers", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream((request) => ({
      status: request.url?.includes("fail") ? 400 : 200,
      headers: HOSTILE_UPSTREAM_HEADERS,
      body: '{"error":{"message":"no","code":"bad"}}',
    }));
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key",
      AZURE_OPENAI_PROXY_CORS_ORIGINS: "https://app.example",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  for (const [label, path] of [
    ["an answer", "/v1/files"],
    ["an error answer", "/v1/files/fail"],
  ] as const) {
    it(`only the proxy's CORS code decides on ${label}`, async () => {
      const response = await fetch(`${proxy.url}${path}`, {
        headers: { origin: "https://app.example" },
      });
      await response.arrayBuffer();
      assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
      assert.equal(response.headers.get("access-control-allow-credentials"), null);
      assert.notEqual(response.headers.get("access-control-expose-headers"), "*");
      assert.equal(response.headers.get("set-cookie"), null);
      assert.equal(response.headers.get("proxy-authenticate"), null);
      assert.equal(response.headers.get("x-upstream-hop"), null, "named in upstream Connection");
      assert.match(response.headers.get("vary") ?? "", /Origin/);
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "99");
    });
  }

  it("gives an origin the proxy does not allow no CORS grant, whatever the upstream says", async () => {
    const response = await fetch(`${proxy.url}/v1/files`, {
      headers: { origin: "https://evil.example" },
    });
    await response.arrayBuffer();
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    assert.equal(response.headers.get("access-control-allow-credentials"), null);
  });
});

describe("request headers sent to Azure", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=gpt-4o",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("drops hop-by-hop headers the client names and forwarding claims", async () => {
    const answer = await rawRequest(
      proxy.port,
      [
        "POST /v1/chat/completions HTTP/1.1",
        "Host: proxy.example",
        "Content-Type: application/json",
        `Content-Length: ${CHAT.length}`,
        "Connection: close, x-client-hop",
        "X-Client-Hop: secret",
        "Forwarded: for=10.0.0.1;host=evil.example;proto=https",
        "X-Forwarded-For: 10.0.0.1",
        "X-Forwarded-Host: evil.example",
        "X-Forwarded-Proto: https",
        "X-Original-URL: /admin",
        "X-Rewrite-URL: /admin",
        "X-Real-IP: 10.0.0.1",
        "X-Kept: yes",
        "",
        CHAT,
      ].join("\r\n"),
    );
    assert.equal(answer.status, 200);
    const sent = upstream.received.find((r) => r.url.includes("/chat/completions"));
    assert.ok(sent, "the request reached the upstream");
    for (const name of [
      "x-client-hop",
      "forwarded",
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-original-url",
      "x-rewrite-url",
      "x-real-ip",
    ]) {
      assert.equal(sent.headers[name], undefined, `${name} was forwarded`);
    }
    assert.equal(sent.headers["x-kept"], "yes", "other headers still pass");
    assert.equal(sent.headers["api-key"], "server-key");
  });
});
