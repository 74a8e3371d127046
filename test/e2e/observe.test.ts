import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@azure-oai-proxy/emulator";
import OpenAI from "openai";
import { readConfig } from "../../src/config/env.ts";
import type { ModelStatus, StatusSnapshot } from "../../src/observe/status.ts";
import { createLogger, type RunningProxy, startProxy } from "../../src/server/start.ts";
import { noChromium, startBrowser } from "../helpers/browser.ts";
import { sample } from "../helpers/prometheus.ts";
import { EMULATOR_KEY } from "../helpers/stack.ts";

const ADMIN_KEY = "admin-0123456789abcdef0123";

/** A loopback OTLP/HTTP receiver collecting span names and attributes. */
async function startReceiver() {
  const spans: { name: string; attributes: Record<string, unknown> }[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    for (const rs of body.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const a of span.attributes ?? []) {
            const v = a.value ?? {};
            attributes[a.key] = "intValue" in v ? Number(v.intValue) : Object.values(v)[0];
          }
          spans.push({ name: span.name, attributes });
        }
      }
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

async function start(emulator: Emulator, env: Record<string, string>): Promise<RunningProxy> {
  const all = {
    AZURE_OPENAI_ENDPOINT: emulator.url,
    AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
    LOG_LEVEL: "silent",
    ...env,
  };
  const config = readConfig(all);
  return startProxy(config, { logger: createLogger("silent"), env: all });
}

describe("metrics, status page and traces after real traffic", () => {
  let emulator: Emulator;
  let proxy: RunningProxy;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  /** Azure's (the emulator's) usage of the three gpt-4o answers, added up. */
  const usage = { prompt: 0, completion: 0 };
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 2 });
    receiver = await startReceiver();
    proxy = await start(emulator, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: EMULATOR_KEY });
    for (let i = 0; i < 3; i++) {
      const answer = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: `hello ${i}` }],
      });
      usage.prompt += answer.usage?.prompt_tokens ?? 0;
      usage.completion += answer.usage?.completion_tokens ?? 0;
    }
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // drain
    }
    await client.embeddings.create({ model: "text-embedding-3-small", input: "x" });
  });
  after(async () => {
    await proxy.close(1000);
    await emulator.close();
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
  });

  it("counts exact requests per model and client on /metrics", async () => {
    const response = await fetch(`${proxy.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const requests = (operation: string, model: string) =>
      sample(text, "azure_oai_proxy_requests_total", {
        operation,
        model,
        client: "anonymous",
        status: "200",
      });
    assert.equal(requests("chat.completions", "gpt-4o"), 3);
    assert.equal(requests("chat.completions", "gpt-4o-mini"), 1);
    assert.equal(requests("embeddings", "text-embedding-3-small"), 1);
    assert.equal(
      sample(text, "azure_oai_proxy_upstream_requests_total", {
        resource: "default",
        deployment: "gpt-4o",
        status: "200",
      }),
      3,
    );
    assert.equal(
      sample(text, "azure_oai_proxy_request_duration_seconds_count", {
        operation: "chat.completions",
        model: "gpt-4o",
      }),
      3,
    );
    assert.equal(
      sample(text, "azure_oai_proxy_time_to_first_byte_seconds_count", {
        operation: "chat.completions",
        model: "gpt-4o-mini",
      }),
      1,
    );
    assert.equal(
      sample(text, "azure_oai_proxy_target_available", {
        resource: "default",
        deployment: "gpt-4o",
      }),
      1,
    );
    assert.equal(sample(text, "azure_oai_proxy_active_streams"), 0);
    assert.ok(sample(text, "process_resident_memory_bytes") !== undefined);
  });

  it("counts exact tokens per model and client from Azure's usage", async () => {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    const tokens = (type: string) =>
      sample(text, "azure_oai_proxy_tokens_total", {
        model: "gpt-4o",
        deployment: "gpt-4o",
        client: "anonymous",
        type,
      });
    assert.ok(usage.prompt > 0);
    assert.equal(tokens("prompt"), usage.prompt);
    assert.equal(tokens("completion"), usage.completion);
  });

  it("shows the same figures on /status.json and serves the page", async () => {
    const status = (await (await fetch(`${proxy.url}/status.json`)).json()) as StatusSnapshot;
    const gpt4o = status.models.find((m) => m.model === "gpt-4o") as ModelStatus;
    assert.equal(gpt4o.requests, 3);
    assert.equal(gpt4o.errors, 0);
    assert.equal(gpt4o.targets[0]?.id, "default/gpt-4o");
    assert.equal(gpt4o.targets[0]?.state, "serving");
    assert.equal(status.overall.requests, 5);
    assert.equal(status.configuration?.source, "environment");
    const page = await fetch(`${proxy.url}/status`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'sha256-/);
    assert.match(await page.text(), /<title>azure-oai-proxy status<\/title>/);
  });

  it("renders those figures on the status page in Chromium", { skip: noChromium }, async () => {
    const browser = await startBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${proxy.url}/status`);
      const gpt4o = page.locator('[data-model="gpt-4o"]');
      await gpt4o.waitFor();
      assert.equal(await gpt4o.locator('[data-figure="requests"]').textContent(), "3");
      assert.equal(await gpt4o.locator('[data-figure="error-rate"]').textContent(), "0 %");
      assert.equal(
        await gpt4o.locator('[data-target="default/gpt-4o"] .state').textContent(),
        "serving",
      );
      assert.equal(await page.locator('#overall [data-figure="streams"]').textContent(), "0");
    } finally {
      await browser.close();
    }
  });

  it("passes a traceparent to Azure and sends the spans to the OTLP endpoint", async () => {
    const sent = emulator.requests.find((r) => r.deployment === "gpt-4o");
    assert.match(String(sent?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await proxy.close(1000); // flushes the traces
    const chat = receiver.spans.filter((s) => s.name === "chat gpt-4o");
    assert.equal(chat.length, 3);
    assert.equal(chat[0]?.attributes["gen_ai.operation.name"], "chat");
    assert.equal(chat[0]?.attributes["gen_ai.request.model"], "gpt-4o");
    assert.equal(chat[0]?.attributes["gen_ai.response.model"], "gpt-4o");
    const attempts = receiver.spans.filter((s) => s.name === "attempt default/gpt-4o");
    assert.equal(attempts.length, 3);
    assert.equal(attempts[0]?.attributes["http.response.status_code"], 200);
  });
});

describe("operator access and the metrics setting", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  it("puts the status page behind the admin key when client keys are configured", async () => {
    const proxy = await start(emulator, {
      AZURE_OPENAI_API_KEY: EMULATOR_KEY,
      AZURE_OPENAI_PROXY_API_KEYS: "client-key-1",
      AZURE_OPENAI_PROXY_ADMIN_KEY: ADMIN_KEY,
    });
    try {
      const denied = await fetch(`${proxy.url}/status.json`);
      assert.equal(denied.status, 401);
      assert.match(denied.headers.get("www-authenticate") ?? "", /^Basic/);
      const body = (await denied.json()) as { error: { code: string } };
      assert.equal(body.error.code, "admin_key_required");
      const withClientKey = await fetch(`${proxy.url}/status`, {
        headers: { authorization: "Bearer client-key-1" },
      });
      assert.equal(withClientKey.status, 401);
      const basic = `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString("base64")}`;
      const page = await fetch(`${proxy.url}/status`, { headers: { authorization: basic } });
      assert.equal(page.status, 200);
      const json = await fetch(`${proxy.url}/status.json`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      assert.equal(json.status, 200);
    } finally {
      await proxy.close(1000);
    }
  });

  it("serves /metrics on a separate listener, and not on the main port, when given host:port", async () => {
    const proxy = await start(emulator, { AZURE_OPENAI_PROXY_METRICS: "127.0.0.1:0" });
    try {
      assert.equal((await fetch(`${proxy.url}/metrics`)).status, 404);
      const url = proxy.metricsUrl;
      assert.ok(url);
      const metrics = await fetch(`${url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /# TYPE azure_oai_proxy_requests_total counter/);
    } finally {
      await proxy.close(1000);
    }
  });

  it("serves no /metrics when turned off", async () => {
    const proxy = await start(emulator, { AZURE_OPENAI_PROXY_METRICS: "off" });
    try {
      assert.equal((await fetch(`${proxy.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${proxy.url}/status.json`)).status, 200);
    } finally {
      await proxy.close(1000);
    }
  });
});

describe("open streams", () => {
  it("counts a stream as open while it is being sent, and not after", async () => {
    const emulator = await startEmulator({ chunkDelayMs: 100 });
    const proxy = await start(emulator, {});
    try {
      const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: EMULATOR_KEY });
      const stream = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "a slow stream" }],
        stream: true,
      });
      const chunks = stream[Symbol.asyncIterator]();
      await chunks.next();
      const during = await (await fetch(`${proxy.url}/metrics`)).text();
      assert.equal(sample(during, "azure_oai_proxy_active_streams"), 1);
      const status = (await (await fetch(`${proxy.url}/status.json`)).json()) as StatusSnapshot;
      assert.equal(status.streamsOpen, 1);
      while (!(await chunks.next()).done) {
        // drain
      }
      // The response's close event comes just after the client has read the end.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const after = await (await fetch(`${proxy.url}/metrics`)).text();
      assert.equal(sample(after, "azure_oai_proxy_active_streams"), 0);
    } finally {
      await proxy.close(1000);
      await emulator.close();
    }
  });
});
