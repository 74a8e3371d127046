import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { FORWARD_ANY, OPERATIONS } from "../../src/openai/operations.ts";
import { type FakeUpstream, startFakeUpstream, startTestProxy, type TestProxy } from "./harness.ts";

/** Every route the proxy forwards, with its parameters filled in. */
const ROUTES: readonly { method: string; path: string }[] = [
  ...OPERATIONS.filter((o) => !o.websocket).map((o) => ({
    method: o.method,
    path: o.path.replace(/:\w+/g, "x1"),
  })),
  ...["GET", "POST", "PUT", "PATCH", "DELETE"].map((method) => ({
    method,
    path: FORWARD_ANY.path.replace("*", "containers/c1/files"),
  })),
  { method: "GET", path: "/v1/models" },
  { method: "GET", path: "/v1/models/gpt-4o" },
  { method: "GET", path: "/v1/models/gpt-4o/capabilities" },
];

describe("auth coverage with client keys", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key",
      AZURE_OPENAI_PROXY_API_KEYS: "client-key-1,client-key-2",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=gpt-4o",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });
  const forwarded = () =>
    upstream.received.filter((r) => !r.url.startsWith("/openai/deployments?")).length;

  for (const [label, headers] of [
    ["no key", {}],
    ["a wrong key", { authorization: "Bearer client-key-3" }],
    ["a wrong api-key", { "api-key": "client-key-" }],
    ["the server's own Azure key", { "api-key": "server-key" }],
  ] as const) {
    it(`refuses ${label} on every route (${ROUTES.length} routes) with 401, calling nothing`, async () => {
      const before = forwarded();
      const wrong: string[] = [];
      for (const { method, path } of ROUTES) {
        const hasBody = method !== "GET" && method !== "DELETE";
        const response = await fetch(`${proxy.url}${path}`, {
          method,
          headers: { ...headers, ...(hasBody ? { "content-type": "application/json" } : {}) },
          body: hasBody ? '{"model":"gpt-4o","input":"x"}' : undefined,
        });
        await response.arrayBuffer();
        if (response.status !== 401) wrong.push(`${method} ${path}: ${response.status}`);
      }
      assert.deepEqual(wrong, []);
      assert.equal(forwarded(), before, "nothing reached Azure");
    });
  }

  it("refuses a realtime session without a valid key (401)", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }]) {
      const socket = new WebSocket(`${proxy.url.replace("http", "ws")}/v1/realtime?model=gpt-4o`, {
        headers,
      });
      socket.on("error", () => {});
      const status = await new Promise<number>((resolve) => {
        socket.once("unexpected-response", (_q, r) => resolve(r.statusCode ?? 0));
        socket.once("open", () => resolve(101));
      });
      socket.terminate();
      assert.equal(status, 401);
    }
  });

  it("serves a valid client key, with the server's key sent to Azure", async () => {
    const response = await fetch(`${proxy.url}/v1/files`, {
      headers: { authorization: "Bearer client-key-2" },
    });
    assert.equal(response.status, 200);
    const sent = upstream.received.at(-1);
    assert.equal(sent?.headers["api-key"], "server-key");
    assert.equal(sent?.headers.authorization, undefined, "the client key is not forwarded");
  });
});
