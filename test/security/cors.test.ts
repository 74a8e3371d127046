import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeUpstream, startFakeUpstream, startTestProxy, type TestProxy } from "./harness.ts";

describe("CORS for browser clients", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream(() => ({
      headers: {
        "x-request-id": "req-1",
        "x-ratelimit-remaining-tokens": "10",
        "retry-after": "1",
      },
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

  it("lets a page read the request id, rate-limit and retry headers", async () => {
    const response = await fetch(`${proxy.url}/v1/files`, {
      headers: { origin: "https://app.example" },
    });
    await response.arrayBuffer();
    const exposed = (response.headers.get("access-control-expose-headers") ?? "")
      .split(",")
      .map((h) => h.trim());
    for (const name of [
      "x-request-id",
      "apim-request-id",
      "x-ratelimit-remaining-tokens",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-requests",
      "retry-after",
      "retry-after-ms",
      "openai-processing-ms",
      "x-azure-oai-proxy-target",
    ]) {
      assert.ok(exposed.includes(name), `${name} is exposed`);
    }
  });

  it("exposes nothing to an origin it does not allow", async () => {
    const response = await fetch(`${proxy.url}/v1/files`, {
      headers: { origin: "https://evil.example" },
    });
    await response.arrayBuffer();
    assert.equal(response.headers.get("access-control-expose-headers"), null);
  });

  it("allows PUT and PATCH in preflights, as the routes do", async () => {
    const response = await fetch(`${proxy.url}/v1/things/1`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "PATCH",
      },
    });
    assert.equal(response.status, 204);
    const methods = (response.headers.get("access-control-allow-methods") ?? "")
      .split(",")
      .map((m) => m.trim());
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      assert.ok(methods.includes(method), `${method} allowed`);
    }
  });
});
