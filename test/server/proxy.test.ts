import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { type FormPart, multipartBody } from "../helpers/multipart.ts";
import { EMULATOR_KEY, lastRequest, postJson, type Stack, startStack } from "../helpers/stack.ts";

const chat = { model: "gpt-3.5-turbo", messages: [{ role: "user", content: "hi there" }] };

/** Reads an SSE response, noting when each event arrived. */
async function readEvents(response: Response): Promise<{ data: string; at: number }[]> {
  const events: { data: string; at: number }[] = [];
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let end = pending.indexOf("\n\n");
    while (end !== -1) {
      events.push({ data: pending.slice(0, end).replace(/^data: /, ""), at: performance.now() });
      pending = pending.slice(end + 2);
      end = pending.indexOf("\n\n");
    }
  }
  return events;
}

const multipart = (parts: FormPart[]) => multipartBody(parts, "----proxy-test");

describe("the dated Azure style", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ emulator: { chunkDelayMs: 20 } });
  });
  after(() => stack.close());

  it("sends chat to the mapped deployment with api-version and the original bytes", async () => {
    const raw = `{"model": "gpt-3.5-turbo", "messages": [{"role":"user","content":"hi"}], "temperature": 1.0}`;
    const response = await postJson(`${stack.url}/v1/chat/completions`, raw, {
      authorization: `Bearer ${EMULATOR_KEY}`,
    });
    assert.equal(response.status, 200);
    const received = lastRequest(stack.emulator);
    assert.equal(received.path, "/openai/deployments/gpt-35-turbo/chat/completions");
    assert.equal(received.query["api-version"], DEFAULT_API_VERSION);
    assert.equal(received.headers["api-key"], EMULATOR_KEY, "Bearer became api-key");
    assert.equal(received.headers.authorization, undefined, "never sent as Bearer");
    assert.equal(received.bodySize, Buffer.byteLength(raw));
    assert.ok(response.headers.get("apim-request-id"), "Azure's request id passes through");
  });

  it("streams chunks as they arrive instead of buffering the answer", async () => {
    const response = await postJson(
      `${stack.url}/v1/chat/completions`,
      { ...chat, stream: true },
      {
        "api-key": EMULATOR_KEY,
        "x-emulator-words": "12",
      },
    );
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    const events = await readEvents(response);
    const spread = (events.at(-1)?.at ?? 0) - (events[0]?.at ?? 0);
    // The emulator waits 20 ms between 14+ events; a buffered answer would arrive all at once.
    assert.ok(spread > 100, `events arrived over ${spread.toFixed(0)} ms`);
    assert.equal(events.at(-1)?.data, "[DONE]");
  });

  it("drops Azure's prompt-filter and annotation-only chunks", async () => {
    const response = await postJson(`${stack.url}/v1/chat/completions`, {
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = await readEvents(response);
    const chunks = events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data));
    for (const chunk of chunks) {
      assert.notEqual(chunk.id, "", "no chunk with a blank id");
      assert.equal(chunk.prompt_filter_results, undefined);
      for (const choice of chunk.choices) assert.ok("delta" in choice, "every choice has a delta");
    }
    assert.ok(chunks.at(-1).usage, "the usage chunk passes");
    const received = stack.emulator.requests.at(-1);
    assert.equal(received?.aborted, false);
  });

  it("aborts the upstream request when the client disconnects", async () => {
    const controller = new AbortController();
    const response = await postJson(
      `${stack.url}/v1/chat/completions`,
      { ...chat, stream: true },
      {
        "api-key": EMULATOR_KEY,
        "x-emulator-words": "500",
      },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await reader.cancel();
    const received = lastRequest(stack.emulator);
    for (let i = 0; i < 100 && !received.aborted; i++) await sleep(20);
    assert.equal(received.aborted, true, "the emulator saw the request go away");
  });

  it("sends an upload to the deployment named by its model field, file untouched", async () => {
    const audio = Buffer.alloc(3 * 1024 * 1024, 9);
    const form = multipart([
      { name: "file", value: audio, filename: "speech.wav" },
      { name: "model", value: "whisper-1" },
    ]);
    const response = await fetch(`${stack.url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { "content-type": form.contentType, "api-key": EMULATOR_KEY },
      body: form.body,
    });
    assert.equal(response.status, 200);
    const received = lastRequest(stack.emulator);
    assert.equal(received.path, "/openai/deployments/whisper/audio/transcriptions");
    assert.equal(received.bodySize, form.body.length);
    const file = received.multipart?.files[0];
    assert.equal(file?.size, audio.length);
    assert.equal(file?.sha256, createHash("sha256").update(audio).digest("hex"));
  });

  it("passes a non-ASCII upload filename through byte for byte", async () => {
    const form = new FormData();
    form.append("model", "whisper-1");
    form.append("file", new Blob([Buffer.alloc(1000, 1)]), "réunion-日本.wav");
    const response = await fetch(`${stack.url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { "api-key": EMULATOR_KEY },
      body: form,
    });
    assert.equal(response.status, 200);
    assert.equal(lastRequest(stack.emulator).multipart?.files[0]?.filename, "réunion-日本.wav");
  });

  it("answers an upload without a model field with 400", async () => {
    const form = multipart([{ name: "file", value: "x", filename: "a.wav" }]);
    const response = await fetch(`${stack.url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { "content-type": form.contentType, "api-key": EMULATOR_KEY },
      body: form.body,
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { param: string } };
    assert.equal(body.error.param, "model");
  });

  it("lists the deployments and the names that reach them", async () => {
    const response = await fetch(`${stack.url}/v1/models`, {
      headers: { "api-key": EMULATOR_KEY },
    });
    const body = (await response.json()) as {
      object: string;
      data: { id: string; object: string }[];
    };
    assert.equal(body.object, "list");
    const ids = body.data.map((m) => m.id);
    for (const id of ["gpt-4o", "gpt-35-turbo", "gpt-3.5-turbo", "whisper", "whisper-1"]) {
      assert.ok(ids.includes(id), `${id} in ${ids.join(",")}`);
    }
    assert.ok(body.data.every((m) => m.object === "model"));
    const one = await fetch(`${stack.url}/v1/models/gpt-3.5-turbo`, {
      headers: { "api-key": EMULATOR_KEY },
    });
    assert.equal(((await one.json()) as { id: string }).id, "gpt-3.5-turbo");
    const missing = await fetch(`${stack.url}/v1/models/nope`, {
      headers: { "api-key": EMULATOR_KEY },
    });
    assert.equal(missing.status, 404);
  });

  it("answers CORS preflights and marks real responses", async () => {
    const preflight = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, x-stainless-os, x-evil",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    const allowed = preflight.headers.get("access-control-allow-headers") ?? "";
    for (const h of ["authorization", "api-key", "content-type", "openai-beta", "x-stainless-os"]) {
      assert.ok(allowed.includes(h), `${h} allowed`);
    }
    assert.ok(!allowed.includes("x-evil"));
    const response = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
  });

  it("serves the next request on the same kept-alive connection after a short answer", async () => {
    const { Agent, request } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${stack.url}${path}`, { agent, headers: { "api-key": EMULATOR_KEY } });
        req.setTimeout(3000, () => req.destroy(new Error(`timed out: ${path}`)));
        req.on("response", (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end();
      });
    const form = new FormData();
    form.append("purpose", "fine-tune");
    form.append("file", new Blob(["{}\n"]), "t.jsonl");
    const upload = await fetch(`${stack.url}/v1/files`, {
      method: "POST",
      body: form,
      headers: { "api-key": EMULATOR_KEY },
    });
    const file = (await upload.json()) as { id: string };
    try {
      // A file's content comes whole in one read (headers, body, end): the relay must still end
      // the response, or the connection's next request waits forever.
      const content = `/v1/files/${file.id}/content`;
      assert.deepEqual(
        [await get(content), await get(content), await get(content)],
        [200, 200, 200],
      );
    } finally {
      agent.destroy();
    }
  });

  it("reports its upstream in /healthz", async () => {
    const body = (await (await fetch(`${stack.url}/healthz`)).json()) as Record<string, string>;
    assert.equal(body.status, "ok");
    assert.equal(body.apiStyle, "dated");
  });

  it("writes one log line per request with model, deployment and Azure's id, and no key", async () => {
    const count = stack.logs.length;
    await (await postJson(`${stack.url}/v1/chat/completions`, chat)).text();
    await sleep(20);
    const lines = stack.logs.slice(count).map((l) => JSON.parse(l));
    const line = lines.find((l) => l.msg === "request");
    assert.equal(line.model, "gpt-3.5-turbo");
    assert.equal(line.deployment, "gpt-35-turbo");
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, "number");
    assert.ok(line.azureRequestId);
    assert.ok(!stack.logs.join("\n").includes(EMULATOR_KEY), "the key is in no log line");
  });
});

describe("the v1 Azure style", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { AZURE_OPENAI_APIVERSION: "v1" } });
  });
  after(() => stack.close());

  it("puts the deployment in the body's model and changes no other byte", async () => {
    const raw = `{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"hi"}],"top_p":1.0}`;
    const response = await postJson(`${stack.url}/v1/chat/completions`, raw);
    assert.equal(response.status, 200);
    const received = lastRequest(stack.emulator);
    assert.equal(received.path, "/openai/v1/chat/completions");
    assert.equal(received.query["api-version"], undefined);
    assert.equal(received.deployment, "gpt-35-turbo");
    assert.equal(received.bodySize, Buffer.byteLength(raw) - 1, "only the model's bytes changed");
  });

  it("rewrites the model form field of an upload", async () => {
    const form = multipart([
      { name: "file", value: Buffer.alloc(5 * 1024 * 1024, 1), filename: "a.wav" },
      { name: "model", value: "whisper-1" },
    ]);
    const response = await fetch(`${stack.url}/v1/audio/translations`, {
      method: "POST",
      headers: { "content-type": form.contentType, "api-key": EMULATOR_KEY },
      body: form.body,
    });
    assert.equal(response.status, 200);
    const received = lastRequest(stack.emulator);
    assert.equal(received.path, "/openai/v1/audio/translations");
    assert.equal(received.multipart?.fields.model, "whisper");
    assert.equal(received.multipart?.files[0]?.size, 5 * 1024 * 1024);
  });
});

describe("credentials", () => {
  it("uses the server-held key and ignores the client's", async () => {
    const stack = await startStack({ env: { AZURE_OPENAI_API_KEY: EMULATOR_KEY } });
    try {
      const response = await postJson(`${stack.url}/v1/chat/completions`, chat, {
        authorization: "Bearer whatever",
      });
      assert.equal(response.status, 200);
      assert.equal(lastRequest(stack.emulator).headers["api-key"], EMULATOR_KEY);
    } finally {
      await stack.close();
    }
  });

  it("requires one of the proxy's client keys before forwarding", async () => {
    const stack = await startStack({
      env: { AZURE_OPENAI_API_KEY: EMULATOR_KEY, AZURE_OPENAI_PROXY_API_KEYS: "team-a,team-b" },
    });
    try {
      const url = `${stack.url}/v1/chat/completions`;
      assert.equal((await postJson(url, chat, {})).status, 401);
      assert.equal((await postJson(url, chat, { authorization: "Bearer team-c" })).status, 401);
      assert.equal((await postJson(url, chat, { authorization: EMULATOR_KEY })).status, 401);
      const forwarded = stack.emulator.requests.filter((r) => r.path.endsWith("/chat/completions"));
      assert.equal(forwarded.length, 0, "nothing reached Azure");
      assert.equal((await postJson(url, chat, { authorization: "Bearer team-b" })).status, 200);
      assert.equal((await postJson(url, chat, { "api-key": "team-a" })).status, 200);
      assert.equal(lastRequest(stack.emulator).headers["api-key"], EMULATOR_KEY);
      assert.ok(!stack.logs.join("\n").includes("team-b"));
    } finally {
      await stack.close();
    }
  });
});

describe("openai mode", () => {
  it("forwards the request unchanged, Bearer included", async () => {
    const stack = await startStack();
    const { startStack: second } = await import("../helpers/stack.ts");
    const openai = await second({
      env: { AZURE_OPENAI_PROXY_MODE: "openai", OPENAI_API_ENDPOINT: stack.emulator.url },
    });
    try {
      await postJson(`${openai.url}/v1/chat/completions`, chat, {
        authorization: "Bearer sk-test",
      });
      const received = lastRequest(
        openai.emulator.requests.length ? openai.emulator : stack.emulator,
      );
      assert.equal(received.path, "/v1/chat/completions");
      assert.equal(received.headers.authorization, "Bearer sk-test");
    } finally {
      await openai.close();
      await stack.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("lets an in-flight stream finish, then stops", async () => {
    const stack = await startStack({ emulator: { chunkDelayMs: 20 } });
    const response = await postJson(
      `${stack.url}/v1/chat/completions`,
      { ...chat, stream: true },
      {
        "api-key": EMULATOR_KEY,
        "x-emulator-words": "20",
      },
    );
    const closing = stack.proxy.close(5000);
    const events = await readEvents(response);
    assert.equal(events.at(-1)?.data, "[DONE]");
    await closing;
    await assert.rejects(fetch(`${stack.url}/healthz`));
    await stack.emulator.close();
  });
});
