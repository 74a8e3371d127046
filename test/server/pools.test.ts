import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  EMULATOR_KEY,
  inferenceRequests,
  type PoolStack,
  postJson,
  startPoolStack,
} from "../helpers/stack.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };
const url = (stack: PoolStack) => `${stack.url}/v1/chat/completions`;
/** The emulator standing in for one resource. */
function resource(stack: PoolStack, name: string) {
  const emulator = stack.emulators[name];
  if (emulator === undefined) throw new Error(`no resource ${name}`);
  return emulator;
}
const served = (response: Response) => response.headers.get("x-azure-oai-proxy-target");

/** Two resources, east preferred (priority 0), west the spill-over. */
function twoTier(urls: Record<string, string>, strategy = "priority"): string {
  return `
resources:
  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }
  west: { endpoint: ${urls.west}, apiKey: "\${EMULATOR_KEY}", apiVersion: v1 }
models:
  gpt-4o:
    strategy: ${strategy}
    targets:
      - { resource: east, deployment: gpt-4o, priority: 0 }
      - { resource: west, deployment: gpt-4o-mini, priority: 1 }
`;
}

describe("failover between resources", () => {
  // A fresh pair of resources per test: health learned in one test must not steer the next.
  let stack: PoolStack;
  beforeEach(async () => {
    stack = await startPoolStack({
      resources: { east: {}, west: {} },
      yaml: (urls) => twoTier(urls),
      env: {
        AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT: "400ms",
        AZURE_OPENAI_PROXY_STREAM_FIRST_BYTE_TIMEOUT: "400ms",
      },
    });
  });
  afterEach(() => stack.close());

  it("serves from the preferred target while it is healthy", async () => {
    const response = await postJson(url(stack), chat, {});
    assert.equal(response.status, 200);
    assert.equal(served(response), "east/gpt-4o");
  });

  it("fails over a 429 to the next target and keeps off the limited one for retry-after", async () => {
    const east = resource(stack, "east");
    east.injectFault({ kind: "429", retryAfterMs: 1500 });
    const first = await postJson(url(stack), chat, {});
    assert.equal(first.status, 200, "the client never sees the 429");
    assert.equal(served(first), "west/gpt-4o-mini");
    const west = inferenceRequests(resource(stack, "west")).at(-1);
    assert.equal(west?.path, "/openai/v1/chat/completions");
    assert.equal(
      west?.deployment,
      "gpt-4o-mini",
      "the v1 resource got its own deployment in model",
    );

    const eastCount = inferenceRequests(east).length;
    const second = await postJson(url(stack), chat, {});
    assert.equal(served(second), "west/gpt-4o-mini");
    assert.equal(inferenceRequests(east).length, eastCount, "nothing sent to the cooling target");

    await sleep(1600);
    const third = await postJson(url(stack), chat, {});
    assert.equal(served(third), "east/gpt-4o", "back to the preferred target once it has cooled");
  });

  it("logs every attempt with its target, status and why it failed over", async () => {
    resource(stack, "east").injectFault({ kind: "500" });
    const before = stack.logs.length;
    await (await postJson(url(stack), chat, {})).text();
    await sleep(20);
    const line = stack.logs
      .slice(before)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === "request");
    assert.equal(line.target, "west/gpt-4o-mini");
    assert.deepEqual(
      line.attempts.map((a: { target: string; status: number; failover?: string }) => [
        a.target,
        a.status,
        a.failover,
      ]),
      [
        ["east/gpt-4o", 500, "azure 500"],
        ["west/gpt-4o-mini", 200, undefined],
      ],
    );
  });

  it("fails over a slow first byte, and a stream until its first byte", async () => {
    resource(stack, "east").injectFault({ kind: "slow-first-byte", delayMs: 2000 });
    const response = await postJson(url(stack), { ...chat, stream: true }, {});
    assert.equal(response.status, 200);
    assert.equal(served(response), "west/gpt-4o-mini");
    assert.match(await response.text(), /data: \[DONE\]/);
  });

  it("ends a stream cut after its first byte cleanly, with an error event", async () => {
    resource(stack, "east").injectFault({ kind: "reset-mid-stream" });
    const response = await postJson(url(stack), { ...chat, stream: true }, {});
    assert.equal(served(response), "east/gpt-4o", "bytes had reached the client: no failover");
    const events = (await response.text()).trim().split("\n\n");
    const last = JSON.parse((events.at(-1) ?? "").replace(/^data: /, ""));
    assert.equal(last.error.code, "upstream_interrupted");
  });

  it("sends a small upload again to the next target, intact", async () => {
    const uploads = await startPoolStack({
      resources: { east: {}, west: { deployments: [{ id: "whisper-west", model: "whisper" }] } },
      yaml: (urls) => `
resources:
  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }
  west: { endpoint: ${urls.west}, apiKey: "\${EMULATOR_KEY}", apiVersion: v1 }
models:
  whisper-1:
    targets:
      - { resource: east, deployment: whisper, priority: 0 }
      - { resource: west, deployment: whisper-west, priority: 1 }
`,
    });
    try {
      resource(uploads, "east").injectFault({ kind: "429", retryAfterMs: 500 });
      const form = new FormData();
      form.append("file", new Blob([Buffer.alloc(300_000, 5)]), "a.wav");
      form.append("model", "whisper-1");
      const response = await fetch(`${uploads.url}/v1/audio/transcriptions`, {
        method: "POST",
        body: form,
      });
      assert.equal(response.status, 200);
      assert.equal(served(response), "west/whisper-west");
      const west = inferenceRequests(resource(uploads, "west")).at(-1);
      assert.equal(west?.multipart?.files[0]?.size, 300_000);
      assert.equal(west?.multipart?.fields.model, "whisper-west");
    } finally {
      await uploads.close();
    }
  });

  it("answers 429 with the soonest Retry-After when every target is cooling", async () => {
    resource(stack, "east").injectFault({ kind: "429", retryAfterMs: 3000 });
    resource(stack, "west").injectFault({ kind: "429", retryAfterMs: 5000 });
    const first = await postJson(url(stack), chat, {});
    assert.equal(first.status, 429, "both targets said 429");
    const counts = [
      inferenceRequests(resource(stack, "east")).length,
      inferenceRequests(resource(stack, "west")).length,
    ];
    const second = await postJson(url(stack), chat, {});
    assert.equal(second.status, 429);
    const retryAfter = Number(second.headers.get("retry-after"));
    assert.ok(retryAfter >= 2 && retryAfter <= 3, `retry-after ${retryAfter}`);
    const body = (await second.json()) as { error: { code: string; type: string } };
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.deepEqual(
      [
        inferenceRequests(resource(stack, "east")).length,
        inferenceRequests(resource(stack, "west")).length,
      ],
      counts,
      "no traffic while every target cools",
    );
  });
});

describe("an outage", () => {
  it("fails no request when one resource stops", async () => {
    const stack = await startPoolStack({
      resources: { east: {}, west: {} },
      yaml: (urls) => twoTier(urls, "round-robin"),
    });
    try {
      await resource(stack, "east").close();
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () => postJson(url(stack), chat, {}).then((r) => r.status)),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
    } finally {
      await stack.proxy.close(1000);
      await resource(stack, "west").close();
    }
  });

  it("answers 504 when the only target is too slow", async () => {
    const stack = await startPoolStack({
      resources: { east: {} },
      yaml: (urls) =>
        `resources:\n  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }\n`,
      env: { AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT: "300ms" },
    });
    try {
      resource(stack, "east").injectFault({ kind: "slow-first-byte", delayMs: 2000 });
      const response = await postJson(url(stack), chat, {});
      assert.equal(response.status, 504);
    } finally {
      await stack.close();
    }
  });
});

describe("selection strategies", () => {
  it("round-robin follows the weights", async () => {
    const stack = await startPoolStack({
      resources: { east: {}, west: {} },
      yaml: (urls) => `
resources:
  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }
  west: { endpoint: ${urls.west}, apiKey: "\${EMULATOR_KEY}" }
models:
  gpt-4o:
    strategy: round-robin
    targets:
      - { resource: east, deployment: gpt-4o, weight: 3 }
      - { resource: west, deployment: gpt-4o, weight: 1 }
`,
    });
    try {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 40; i++) {
        const target = served(await postJson(url(stack), chat, {})) ?? "none";
        counts[target] = (counts[target] ?? 0) + 1;
      }
      assert.deepEqual(counts, { "east/gpt-4o": 30, "west/gpt-4o": 10 });
    } finally {
      await stack.close();
    }
  });

  it("least-busy spreads concurrent slow requests", async () => {
    const stack = await startPoolStack({
      resources: { east: { chunkDelayMs: 20 }, west: { chunkDelayMs: 20 } },
      yaml: (urls) => `
resources:
  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }
  west: { endpoint: ${urls.west}, apiKey: "\${EMULATOR_KEY}" }
models:
  gpt-4o:
    strategy: least-busy
    targets:
      - { resource: east, deployment: gpt-4o }
      - { resource: west, deployment: gpt-4o }
`,
    });
    try {
      const streams = await Promise.all(
        Array.from({ length: 10 }, () =>
          postJson(url(stack), { ...chat, stream: true }, { "x-emulator-words": "10" }),
        ),
      );
      const targets = streams.map(served);
      await Promise.all(streams.map((r) => r.text()));
      const east = targets.filter((t) => t === "east/gpt-4o").length;
      assert.equal(east, 5, `east got ${east} of 10: ${targets.join(", ")}`);
    } finally {
      await stack.close();
    }
  });
});

describe("configuration reload", () => {
  it("switches targets without losing a request in flight, and refuses a bad file", async () => {
    const stack = await startPoolStack({
      resources: { east: { chunkDelayMs: 5 }, west: { chunkDelayMs: 5 } },
      yaml: (urls) => twoTier(urls),
    });
    try {
      const eastOnly = twoTier({
        east: resource(stack, "east").url,
        west: resource(stack, "west").url,
      });
      const westFirst = eastOnly.replace("priority: 0 }", "priority: 5 }");
      let running = true;
      const results: number[] = [];
      const load = (async () => {
        while (running) {
          const batch = await Promise.all(
            Array.from({ length: 5 }, () =>
              postJson(url(stack), { ...chat, stream: true }, {}).then(async (r) => {
                const text = await r.text();
                return r.status === 200 && text.includes("[DONE]") ? 200 : r.status;
              }),
            ),
          );
          results.push(...batch);
        }
      })();
      await sleep(100);
      await writeFile(stack.configFile, westFirst);
      assert.equal(await stack.proxy.reload(), true);
      await sleep(100);
      await writeFile(stack.configFile, "models: [broken");
      assert.equal(await stack.proxy.reload(), false, "a bad file is refused");
      await sleep(100);
      running = false;
      await load;
      assert.ok(results.length >= 10, `${results.length} requests ran`);
      assert.deepEqual(new Set(results), new Set([200]), "no request failed");
      const after = await postJson(url(stack), chat, {});
      assert.equal(served(after), "west/gpt-4o-mini", "the good reload took effect and stayed");
      assert.ok(stack.logs.some((l) => l.includes("configuration reload refused")));
    } finally {
      await stack.close();
    }
  });

  it("lists configured model names in /v1/models", async () => {
    const stack = await startPoolStack({
      resources: { east: {}, west: {} },
      yaml: (urls) => twoTier(urls),
    });
    try {
      const body = (await (
        await fetch(`${stack.url}/v1/models`, { headers: { "api-key": EMULATOR_KEY } })
      ).json()) as {
        data: { id: string }[];
      };
      assert.equal(body.data[0]?.id, "gpt-4o");
    } finally {
      await stack.close();
    }
  });
});
