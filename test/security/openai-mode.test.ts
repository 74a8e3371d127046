import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ProxyError } from "../../src/openai/errors.ts";
import { buildOpenAIUrl } from "../../src/proxy/openai-url.ts";
import {
  type FakeUpstream,
  rawRequest,
  startFakeUpstream,
  startTestProxy,
  type TestProxy,
} from "./harness.ts";

const get = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer sk-client\r\nConnection: close\r\n\r\n`;

describe("buildOpenAIUrl", () => {
  const refused = (endpoint: string, target: string) =>
    assert.throws(
      () => buildOpenAIUrl(endpoint, target),
      (e: ProxyError) => e instanceof ProxyError && e.status === 400,
      target,
    );

  it("joins an origin-form path and query to the endpoint", () => {
    assert.equal(
      buildOpenAIUrl("https://api.openai.com", "/v1/models?limit=2"),
      "https://api.openai.com/v1/models?limit=2",
    );
    assert.equal(
      buildOpenAIUrl("https://gw.example/openai", "/v1/files/a%2Fb"),
      "https://gw.example/openai/v1/files/a%2Fb",
    );
  });

  it("refuses targets that could leave the endpoint or be read differently upstream", () => {
    for (const target of [
      "https://x/v1/models",
      "x/v1/models",
      "@evil.example/v1/models",
      "/v1/../../etc/passwd",
      "/v1/%2e%2e/%2E%2E/etc/passwd",
      "/v1/./models",
      "/v1/models\\..\\..\\admin",
      "/v1/models%5c..%5cadmin",
      "/v1/models#fragment",
      "/v1/%zz",
    ]) {
      refused("https://api.openai.com", target);
    }
  });
});

describe("openai mode over raw sockets", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_PROXY_MODE: "openai",
      OPENAI_API_ENDPOINT: upstream.url,
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  for (const target of [
    "https://x/v1/models",
    "http://127.0.0.1:1/v1/models",
    "/v1/../../etc/passwd",
    "/v1/%2e%2e/%2e%2e/etc/passwd",
    "/v1/models\\..\\..\\etc",
  ]) {
    it(`refuses ${target} with 400 before anything goes upstream`, async () => {
      const before = upstream.received.length;
      const answer = await rawRequest(proxy.port, get(target));
      assert.equal(answer.status, 400, answer.raw);
      assert.equal(upstream.received.length, before, "nothing reached the upstream");
    });
  }

  it("forwards an ordinary request to the configured endpoint, path and query as sent", async () => {
    const answer = await rawRequest(proxy.port, get("/v1/models?limit=2"));
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(upstream.received.at(-1)?.url, "/v1/models?limit=2");
    assert.equal(upstream.received.at(-1)?.headers.authorization, "Bearer sk-client");
  });
});

describe("absolute-form targets in azure mode", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "k",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("answers 400 invalid_request_target", async () => {
    const before = upstream.received.length;
    const answer = await rawRequest(proxy.port, get("https://evil.example/v1/models"));
    assert.equal(answer.status, 400, answer.raw);
    assert.equal(JSON.parse(answer.body).error.code, "invalid_request_target");
    const sent = upstream.received.slice(before).map((r) => r.url);
    assert.deepEqual(
      sent.filter((url) => !url.startsWith("/openai/deployments?")),
      [],
      "only the start-up deployment listing reached Azure",
    );
  });
});
