import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { API_VERSION, chatBody, datedUrl, fetchAzure, KEY, postDated, postV1 } from "./client.ts";

const ACCESS_DENIED =
  "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";

describe("emulator routing and auth", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 0 });
  });
  after(() => emulator.close());

  it("answers a dated-style chat request with the api-key header", async () => {
    const res = await postDated(emulator, "gpt-4o", "chat/completions", chatBody("Hi there"));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, "chat.completion");
    assert.equal(
      body.choices[0].message.content,
      "Hello from the Azure OpenAI emulator (deployment gpt-4o). You said: Hi there",
    );
  });

  it("answers a v1-style request with the deployment taken from the body's model", async () => {
    const res = await postV1(
      emulator,
      "chat/completions",
      chatBody("Hi", { model: "gpt-4o-mini" }),
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.model, "gpt-4o-mini");
    assert.match(body.choices[0].message.content, /\(deployment gpt-4o-mini\)/);
  });

  it("accepts api-key on v1 and api-version=preview", async () => {
    const res = await fetchAzure(`${emulator.url}/openai/v1/chat/completions?api-version=preview`, {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify(chatBody("Hi", { model: "gpt-4o" })),
    });
    assert.equal(res.status, 200);
  });

  it("rejects other api-versions on v1", async () => {
    const res = await fetchAzure(
      `${emulator.url}/openai/v1/chat/completions?api-version=2024-10-21`,
      {
        method: "POST",
        headers: { "api-key": KEY, "content-type": "application/json" },
        body: JSON.stringify(chatBody("Hi", { model: "gpt-4o" })),
      },
    );
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: { code: "BadRequest", message: "API version not supported" },
    });
  });

  it("refuses a plain key sent as Bearer on the dated style", async () => {
    const res = await fetchAzure(datedUrl(emulator, "gpt-4o", "chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(chatBody("Hi")),
    });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: { code: "401", message: ACCESS_DENIED } });
  });

  it("accepts an emulated Entra token as Bearer on the dated style", async () => {
    const res = await fetchAzure(datedUrl(emulator, "gpt-4o", "chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer entra:${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(chatBody("Hi")),
    });
    assert.equal(res.status, 200);
  });

  it("refuses missing and wrong keys with 401 before checking anything else", async () => {
    const missing = await fetchAzure(`${emulator.url}/openai/deployments/nope/chat/completions`, {
      method: "POST",
      body: "not json",
    });
    assert.equal(missing.status, 401);
    const wrong = await postDated(emulator, "gpt-4o", "chat/completions", chatBody("Hi"), {
      "api-key": "wrong",
    });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error.code, "401");
  });

  it("answers 404 Resource not found without api-version, 400 for a malformed one", async () => {
    const missing = await fetchAzure(`${emulator.url}/openai/deployments/gpt-4o/chat/completions`, {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify(chatBody("Hi")),
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: { code: "404", message: "Resource not found" },
    });

    const bad = await fetchAzure(datedUrl(emulator, "gpt-4o", "chat/completions", "2024-10"), {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify(chatBody("Hi")),
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: { code: "BadRequest", message: "API version not supported" },
    });
  });

  it("answers DeploymentNotFound for an unknown deployment in either style", async () => {
    const dated = await postDated(emulator, "gpt-5-nope", "chat/completions", chatBody("Hi"));
    assert.equal(dated.status, 404);
    assert.equal((await dated.json()).error.code, "DeploymentNotFound");
    const v1 = await postV1(emulator, "chat/completions", chatBody("Hi", { model: "gpt-5-nope" }));
    assert.equal(v1.status, 404);
    assert.equal((await v1.json()).error.code, "DeploymentNotFound");
  });

  it("answers 404 Resource not found for unknown routes, even without a key", async () => {
    for (const path of ["/v1/chat/completions", "/openai/deployments/gpt-4o/nonsense", "/"]) {
      const res = await fetchAzure(`${emulator.url}${path}?api-version=${API_VERSION}`, {
        method: "POST",
      });
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { error: { code: "404", message: "Resource not found" } });
    }
  });

  it("answers 400 BadRequest for malformed JSON and for a v1 request without model", async () => {
    const malformed = await fetchAzure(datedUrl(emulator, "gpt-4o", "chat/completions"), {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "application/json" },
      body: '{"messages": [',
    });
    assert.equal(malformed.status, 400);
    assert.equal((await malformed.json()).error.code, "BadRequest");

    const noModel = await postV1(emulator, "chat/completions", chatBody("Hi"));
    assert.equal(noModel.status, 400);
    assert.match((await noModel.json()).error.message, /'model'/);
  });

  it("refuses an operation the deployment's model cannot serve", async () => {
    const res = await postDated(
      emulator,
      "text-embedding-ada-002",
      "chat/completions",
      chatBody("Hi"),
    );
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.equal(error.code, "OperationNotSupported");
    assert.match(error.message, /chatCompletion operation does not work .* text-embedding-ada-002/);
  });

  it("puts request ids, region and rate-limit headers on every inference answer", async () => {
    const res = await postDated(emulator, "gpt-4o", "chat/completions", chatBody("Hi"));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    assert.match(res.headers.get("apim-request-id") ?? "", uuid);
    assert.match(res.headers.get("x-request-id") ?? "", uuid);
    assert.equal(res.headers.get("x-ms-region"), "Emulated");
    assert.ok(Number(res.headers.get("x-ratelimit-remaining-requests")) > 0);
    assert.ok(Number(res.headers.get("x-ratelimit-remaining-tokens")) > 0);
    const notFound = await fetchAzure(`${emulator.url}/nowhere`);
    assert.match(notFound.headers.get("apim-request-id") ?? "", uuid);
  });

  it("records each request with style, deployment, query, headers and body", async () => {
    const before = emulator.requests.length;
    await postDated(emulator, "gpt-4o", "chat/completions", chatBody("recorded"), {
      "x-test": "1",
    });
    await postV1(emulator, "embeddings", { model: "text-embedding-ada-002", input: "x" });
    const [dated, v1] = emulator.requests.slice(before);
    assert.ok(dated && v1);
    assert.equal(dated.method, "POST");
    assert.equal(dated.path, "/openai/deployments/gpt-4o/chat/completions");
    assert.deepEqual(dated.query, { "api-version": API_VERSION });
    assert.equal(dated.style, "dated");
    assert.equal(dated.deployment, "gpt-4o");
    assert.equal(dated.headers["x-test"], "1");
    assert.deepEqual(dated.json, chatBody("recorded"));
    assert.equal(dated.bodySize, JSON.stringify(chatBody("recorded")).length);
    assert.equal(dated.aborted, false);
    assert.equal(v1.style, "v1");
    assert.equal(v1.deployment, "text-embedding-ada-002");
    assert.deepEqual(v1.query, {});
  });
});

describe("emulator deployment and model listings", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      deployments: [
        { id: "chat", model: "gpt-4o-2024-11-20" },
        { id: "chat-2", model: "gpt-4o-2024-11-20" },
        { id: "embed", model: "text-embedding-3-small" },
      ],
    });
  });
  after(() => emulator.close());
  const get = (path: string) =>
    fetchAzure(`${emulator.url}${path}`, { headers: { "api-key": KEY } });

  it("lists deployments in the authoring API's shape", async () => {
    const res = await get("/openai/deployments?api-version=2022-12-01");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, "list");
    assert.deepEqual(
      body.data.map((d: { id: string; model: string }) => [d.id, d.model]),
      [
        ["chat", "gpt-4o-2024-11-20"],
        ["chat-2", "gpt-4o-2024-11-20"],
        ["embed", "text-embedding-3-small"],
      ],
    );
    const [first] = body.data;
    assert.equal(first.owner, "organization-owner");
    assert.equal(first.object, "deployment");
    assert.equal(first.status, "succeeded");
    assert.equal(typeof first.created_at, "number");
    assert.equal(typeof first.updated_at, "number");
    assert.deepEqual(first.scale_settings, { scale_type: "standard" });
  });

  it("gets one deployment, and DeploymentNotFound for an unknown one", async () => {
    const one = await get("/openai/deployments/embed?api-version=2022-12-01");
    assert.equal((await one.json()).model, "text-embedding-3-small");
    const unknown = await get("/openai/deployments/nope?api-version=2022-12-01");
    assert.equal(unknown.status, 404);
  });

  it("lists the distinct underlying models on both styles", async () => {
    for (const path of ["/openai/models?api-version=2024-10-21", "/openai/v1/models"]) {
      const body = await (await get(path)).json();
      assert.equal(body.object, "list");
      assert.deepEqual(
        body.data.map((m: { id: string }) => m.id),
        ["gpt-4o-2024-11-20", "text-embedding-3-small"],
      );
      const [chat, embed] = body.data;
      assert.equal(chat.object, "model");
      assert.equal(chat.capabilities.chat_completion, true);
      assert.equal(embed.capabilities.embeddings, true);
      assert.equal(chat.lifecycle_status, "generally-available");
      assert.equal(typeof chat.deprecation.inference, "number");
    }
    const one = await get("/openai/models/text-embedding-3-small?api-version=2024-10-21");
    assert.equal((await one.json()).id, "text-embedding-3-small");
    const unknown = await get("/openai/models/nope?api-version=2024-10-21");
    assert.equal(unknown.status, 404);
  });

  it("answers 404 for deployment listing when listing is retired", async () => {
    const retired = await startEmulator({ listDeployments: false });
    try {
      for (const path of ["/openai/deployments", "/openai/deployments/gpt-4o"]) {
        const res = await fetchAzure(`${retired.url}${path}?api-version=2024-10-21`, {
          headers: { "api-key": KEY },
        });
        assert.equal(res.status, 404, path);
        assert.deepEqual(await res.json(), {
          error: { code: "404", message: "Resource not found" },
        });
      }
      const models = await fetchAzure(`${retired.url}/openai/models?api-version=2024-10-21`, {
        headers: { "api-key": KEY },
      });
      assert.equal(models.status, 200);
    } finally {
      await retired.close();
    }
  });

  it("accepts any non-empty key when apiKeys is empty", async () => {
    const open = await startEmulator({ apiKeys: [] });
    try {
      const ok = await fetchAzure(`${open.url}/openai/v1/models`, {
        headers: { "api-key": "anything" },
      });
      assert.equal(ok.status, 200);
      const none = await fetchAzure(`${open.url}/openai/v1/models`);
      assert.equal(none.status, 401);
    } finally {
      await open.close();
    }
  });
});
