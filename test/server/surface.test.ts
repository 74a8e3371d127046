import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { EMULATOR_KEY, lastRequest, postJson, type Stack, startStack } from "../helpers/stack.ts";

const headers = { "api-key": EMULATOR_KEY };

describe("beyond inference", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it("answers the legacy fine-tunes API with 410 naming its replacement", async () => {
    for (const path of ["/v1/fine_tunes", "/v1/fine_tunes/ft-1/events"]) {
      const response = await fetch(`${stack.url}${path}`, { headers });
      assert.equal(response.status, 410);
      const body = (await response.json()) as { error: { message: string; code: string } };
      assert.match(body.error.message, /\/v1\/fine_tuning\/jobs/);
      assert.equal(body.error.code, "endpoint_removed");
    }
  });

  it("forwards any other /v1 path resource-scoped, with api-version, query kept", async () => {
    const response = await fetch(`${stack.url}/v1/evals/ev%201/runs?limit=2`, { headers });
    await response.text();
    const received = lastRequest(stack.emulator);
    assert.equal(received.path, "/openai/evals/ev%201/runs");
    assert.equal(received.query["api-version"], DEFAULT_API_VERSION);
    assert.equal(received.query.limit, "2");
    assert.equal(received.headers["api-key"], EMULATOR_KEY);
  });

  it("never lets a forwarded path climb out of /openai/", async () => {
    await (await fetch(`${stack.url}/v1/a/%2e%2e/%2e%2e/%2e%2e/secret`, { headers })).text();
    const received = lastRequest(stack.emulator);
    assert.ok(received.path.startsWith("/openai/"), received.path);
  });

  it("refuses . and .. as ids instead of letting Azure resolve them", async () => {
    const { request } = await import("node:http");
    const url = new URL(stack.url);
    const before = stack.emulator.requests.length;
    const status = await new Promise<number>((resolve, reject) => {
      // fetch would normalise the path itself; a raw request sends it as written.
      const req = request({ host: url.hostname, port: url.port, path: "/v1/files/..", headers });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 400);
    assert.equal(stack.emulator.requests.length, before, "nothing forwarded");
  });

  it("streams a 40 MB file upload through byte for byte", async () => {
    const { createHash } = await import("node:crypto");
    const bytes = Buffer.alloc(40 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i, i);
    const form = new FormData();
    form.append("purpose", "fine-tune");
    form.append("file", new Blob([bytes]), "big.bin");
    const response = await fetch(`${stack.url}/v1/files`, { method: "POST", body: form, headers });
    assert.ok(response.ok, String(response.status));
    const file = lastRequest(stack.emulator).multipart?.files[0];
    assert.equal(file?.size, bytes.length);
    assert.equal(file?.sha256, createHash("sha256").update(bytes).digest("hex"));
  });

  it("lists the resource's deployments at /deployments, as the original proxy did", async () => {
    const response = await fetch(`${stack.url}/deployments`, { headers });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { data: { id: string }[] };
    assert.ok(body.data.some((d) => d.id === "gpt-4o"));
    assert.equal(lastRequest(stack.emulator).query["api-version"], "2022-12-01");
    const one = await fetch(`${stack.url}/deployments/gpt-4o`, { headers });
    assert.equal(((await one.json()) as { id: string }).id, "gpt-4o");
  });

  it("answers /v1/models/{id}/capabilities from Azure's model object", async () => {
    const response = await fetch(`${stack.url}/v1/models/gpt-4o/capabilities`, { headers });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { id: string; capabilities: Record<string, boolean> };
    assert.equal(body.id, "gpt-4o");
    assert.equal(body.capabilities.chat_completion, true);
  });

  it("maps the model of a Responses request in the body, resource-scoped", async () => {
    await (
      await postJson(`${stack.url}/v1/responses`, { model: "gpt-3.5-turbo", input: "hi" })
    ).text();
    const received = lastRequest(stack.emulator);
    assert.equal(received.path, "/openai/responses");
    assert.equal((received.json as { model: string }).model, "gpt-35-turbo");
  });
});
