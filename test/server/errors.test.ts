import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EMULATOR_KEY, postJson, type Stack, startStack } from "../helpers/stack.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: Record<string, unknown> };
  assert.ok(body.error, "an OpenAI-shaped error");
  for (const field of ["message", "type", "param", "code"]) {
    assert.ok(field in body.error, `error.${field} present`);
  }
  assert.equal(typeof body.error.message, "string");
  return body.error;
}

describe("errors in OpenAI's shape", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: {
        AZURE_OPENAI_PROXY_MAX_BODY_SIZE: "64kb",
        AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT: "300ms",
      },
    });
  });
  after(() => stack.close());

  it("answers malformed JSON with 400 invalid_json", async () => {
    const response = await postJson(`${stack.url}/v1/chat/completions`, '{"model": "gpt-4o",');
    assert.equal(response.status, 400);
    assert.equal((await errorOf(response)).code, "invalid_json");
  });

  it("answers a missing model with 400 naming the param", async () => {
    const response = await postJson(`${stack.url}/v1/chat/completions`, { messages: [] });
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.param, "model");
  });

  it("refuses a model name that would change the upstream path", async () => {
    const before = stack.emulator.requests.length;
    for (const model of ["../../admin", "a/b", "x?y=1", "a#b", "bad\u0001name"]) {
      const response = await postJson(`${stack.url}/v1/chat/completions`, { ...chat, model });
      assert.equal(response.status, 400, model);
      assert.equal((await errorOf(response)).code, "invalid_model");
    }
    assert.equal(stack.emulator.requests.length, before, "nothing was forwarded");
  });

  it("passes Azure's 404 for an unknown deployment with its code", async () => {
    const response = await postJson(`${stack.url}/v1/chat/completions`, { ...chat, model: "nope" });
    assert.equal(response.status, 404);
    assert.equal((await errorOf(response)).code, "DeploymentNotFound");
  });

  it("answers missing credentials with 401 before calling Azure", async () => {
    const before = stack.emulator.requests.length;
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat, {});
    assert.equal(response.status, 401);
    assert.equal((await errorOf(response)).type, "authentication_error");
    assert.equal(stack.emulator.requests.length, before);
  });

  it("passes Azure's 401 for a wrong key", async () => {
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat, {
      authorization: "Bearer wrong",
    });
    assert.equal(response.status, 401);
    await errorOf(response);
  });

  it("answers a body over the limit with 413", async () => {
    const big = { ...chat, messages: [{ role: "user", content: "x".repeat(100_000) }] };
    const response = await postJson(`${stack.url}/v1/chat/completions`, big);
    assert.equal(response.status, 413);
    assert.equal((await errorOf(response)).code, "request_too_large");
  });

  it("answers an unknown route with 404", async () => {
    const response = await fetch(`${stack.url}/v2/whatever`, {
      headers: { "api-key": EMULATOR_KEY },
    });
    assert.equal(response.status, 404);
    assert.equal((await errorOf(response)).code, "unknown_url");
  });

  it("passes 429 with retry-after and retry-after-ms", async () => {
    stack.emulator.injectFault({ kind: "429", retryAfterMs: 2500 });
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after-ms"), "2500");
    assert.equal(response.headers.get("retry-after"), "3");
    assert.equal((await errorOf(response)).type, "rate_limit_error");
  });

  it("keeps the content filter's code and details", async () => {
    stack.emulator.injectFault({ kind: "content-filter" });
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.code, "content_filter");
    assert.ok(error.innererror, "Azure's filter details are kept");
  });

  it("passes Azure's 500 as a server_error", async () => {
    stack.emulator.injectFault({ kind: "500" });
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.status, 500);
    assert.equal((await errorOf(response)).type, "server_error");
  });

  it("answers 504 when Azure is too slow to answer", async () => {
    stack.emulator.injectFault({ kind: "hang" });
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.status, 504);
    assert.equal((await errorOf(response)).code, "upstream_timeout");
  });

  it("answers 502 when Azure drops the connection", async () => {
    stack.emulator.injectFault({ kind: "reset" });
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.status, 502);
    assert.equal((await errorOf(response)).code, "upstream_unreachable");
  });

  it("ends a stream cut by Azure with an error event", async () => {
    stack.emulator.injectFault({ kind: "reset-mid-stream" });
    const response = await postJson(`${stack.url}/v1/chat/completions`, { ...chat, stream: true });
    assert.equal(response.status, 200);
    const text = await response.text();
    const events = text.trim().split("\n\n");
    const last = JSON.parse((events.at(-1) ?? "").replace(/^data: /, ""));
    assert.equal(last.error.type, "server_error");
    assert.equal(last.error.code, "upstream_interrupted");
    assert.ok(events.length > 1, "the chunks before the cut arrived");
  });

  it("keeps serving after all of that", async () => {
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.match(body.choices[0]?.message.content ?? "", /emulator/);
  });
});

describe("an unreachable Azure", () => {
  it("answers 502 naming the failure", async () => {
    const stack = await startStack();
    const closedPort = new URL(stack.emulator.url).port;
    await stack.close();
    const { startStack: again } = await import("../helpers/stack.ts");
    const other = await again({ env: { AZURE_OPENAI_ENDPOINT: `http://127.0.0.1:${closedPort}` } });
    try {
      const response = await postJson(`${other.url}/v1/chat/completions`, chat);
      assert.equal(response.status, 502);
      const error = await errorOf(response);
      assert.equal(error.code, "upstream_unreachable");
      assert.match(String(error.message), /ECONNREFUSED/);
    } finally {
      await other.close();
    }
  });
});
