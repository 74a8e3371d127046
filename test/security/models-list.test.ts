import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { type FakeUpstream, logLines, startFakeUpstream, startTestProxy } from "./harness.ts";

/** A loopback URL nothing listens on. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

async function models(env: Record<string, string>, headers: Record<string, string> = {}) {
  const proxy = await startTestProxy(env);
  try {
    const response = await fetch(`${proxy.url}/v1/models`, { headers });
    const body = (await response.json()) as {
      data?: { id: string }[];
      error?: { code: string; message: string };
    };
    return { status: response.status, body, logs: logLines(proxy.logs) };
  } finally {
    await proxy.close();
  }
}

describe("/v1/models when Azure cannot list deployments", () => {
  let refusing: FakeUpstream;
  let dead: string;
  before(async () => {
    refusing = await startFakeUpstream(() => ({
      status: 401,
      body: '{"error":{"code":"401","message":"Access denied due to invalid subscription key."}}',
    }));
    dead = await deadEndpoint();
  });
  after(() => refusing.close());

  it("answers the configured names and warns when Azure is unreachable", async () => {
    const { status, body, logs } = await models({
      AZURE_OPENAI_ENDPOINT: dead,
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=my-gpt4o",
    });
    assert.equal(status, 200);
    assert.deepEqual(
      body.data?.map((m) => m.id),
      ["gpt-4o"],
    );
    const warning = logs.find((l) => l.level === 40 && /could not list/.test(String(l.msg)));
    assert.ok(warning, "a warning says the list is the configured names only");
    assert.match(String(warning.msg), /ECONNREFUSED/);
  });

  it("answers 502 naming the cause when Azure is unreachable and nothing is configured", async () => {
    const { status, body } = await models({
      AZURE_OPENAI_ENDPOINT: dead,
      AZURE_OPENAI_API_KEY: "k",
    });
    assert.equal(status, 502);
    assert.equal(body.error?.code, "model_list_unavailable");
    assert.match(body.error?.message ?? "", /could not be reached: ECONNREFUSED/);
  });

  it("answers 502 upstream_auth_failed when Azure refuses the proxy's key and nothing is configured", async () => {
    const { status, body } = await models({
      AZURE_OPENAI_ENDPOINT: refusing.url,
      AZURE_OPENAI_API_KEY: "refused-server-key",
    });
    assert.equal(status, 502);
    assert.equal(body.error?.code, "upstream_auth_failed");
    assert.doesNotMatch(body.error?.message ?? "", /refused-server-key/);
  });

  it("answers 401 when Azure refuses the client's own key and nothing is configured", async () => {
    const { status, body } = await models(
      { AZURE_OPENAI_ENDPOINT: refusing.url },
      { "api-key": "wrong-client-key" },
    );
    assert.equal(status, 401);
    assert.equal(body.error?.code, "invalid_api_key");
  });

  it("answers the configured names when Azure refuses the key", async () => {
    const { status, body } = await models({
      AZURE_OPENAI_ENDPOINT: refusing.url,
      AZURE_OPENAI_API_KEY: "refused-server-key",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o=my-gpt4o,o3-mini=o3",
    });
    assert.equal(status, 200);
    assert.deepEqual(body.data?.map((m) => m.id).sort(), ["gpt-4o", "o3-mini"]);
  });
});
