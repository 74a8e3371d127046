import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeUpstream, logLines, startFakeUpstream, startTestProxy } from "./harness.ts";

const AZURE_401 =
  '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}';
const chat = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

const post = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: chat,
  });

describe("Azure refusing a credential", () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream((request) => ({
      status: request.url?.includes("403") ? 403 : 401,
      body: AZURE_401,
    }));
  });
  after(() => upstream.close());

  for (const [label, env, headers] of [
    ["a server-held key", {}, {}],
    [
      "a server-held key behind client keys",
      { AZURE_OPENAI_PROXY_API_KEYS: "client-1" },
      { authorization: "Bearer client-1" },
    ],
  ] as const) {
    it(`answers 502 upstream_auth_failed and warns when it is ${label}`, async () => {
      const proxy = await startTestProxy({
        AZURE_OPENAI_ENDPOINT: upstream.url,
        AZURE_OPENAI_API_KEY: "server-key-that-azure-refuses",
        AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=gpt-4o",
        ...env,
      });
      try {
        const response = await post(proxy.url, headers);
        assert.equal(response.status, 502);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, "upstream_auth_failed");
        assert.match(body.error.message, /proxy's Azure credential was refused/);
        assert.doesNotMatch(body.error.message, /server-key-that-azure-refuses/);
        // (The start-up check warns too; this is the request's own warning.)
        const warning = logLines(proxy.logs).find(
          (l) => l.level === 40 && String(l.msg).startsWith("Azure refused the proxy's"),
        );
        assert.ok(warning, "a warning names the refused credential");
        assert.match(
          String(warning.msg),
          /Azure refused the proxy's api-key \(resource "\w+"\) credential/,
        );
        assert.ok(!proxy.logs.join("\n").includes("server-key-that-azure-refuses"));
      } finally {
        await proxy.close();
      }
    });
  }

  it("answers a realtime handshake 502 upstream_auth_failed when it is a server-held key", async () => {
    const proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key-that-azure-refuses",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o-realtime-preview=rt",
    });
    try {
      const { WebSocket } = await import("ws");
      const socket = new WebSocket(
        `${proxy.url.replace("http", "ws")}/v1/realtime?model=gpt-4o-realtime-preview`,
      );
      const status = await new Promise<number>((resolve, reject) => {
        socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
        socket.on("open", () => reject(new Error("the handshake succeeded")));
        socket.on("error", () => {});
      });
      socket.terminate();
      assert.equal(status, 502);
    } finally {
      await proxy.close();
    }
  });

  it("keeps a 401 a 401 when the client's own key is passed through", async () => {
    const proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=gpt-4o",
    });
    try {
      const response = await post(proxy.url, { "api-key": "clients-own-wrong-key" });
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, "401");
    } finally {
      await proxy.close();
    }
  });
});
