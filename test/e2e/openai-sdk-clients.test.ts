/**
 * Named clients through the real proxy, driven by the official `openai` SDK: one key per app with
 * its models and limits, usage counted from the emulator's `usage`, and limits shared by two
 * proxies through one real Redis.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Emulator } from "@azure-oai-proxy/emulator";
import OpenAI from "openai";
import type { UsageReport, UsageRow } from "../../src/clients/limits-store.ts";
import { type RedisServer, redisMissing, startRedis } from "../helpers/redis.ts";
import { inferenceRequests, type PoolStack, startPoolStack } from "../helpers/stack.ts";

const ADMIN_KEY = "admin-key-0123456789";
const KEYS = {
  "team-a": "sk-team-a-0001",
  "team-b": "sk-team-b-0002",
  "team-c": "sk-team-c-0003",
  "team-d": "sk-team-d-0004",
};
const TPM = 1_000_000;

const yaml =
  (extra = "") =>
  (urls: Record<string, string>) =>
    `
resources:
  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }
clients:
  team-a: { key: ${KEYS["team-a"]}, limits: { rpm: 5 } }
  team-b: { key: ${KEYS["team-b"]}, limits: { tpm: ${TPM}, tokensPerDay: 10000000 } }
  team-c: { key: ${KEYS["team-c"]}, models: [gpt-4o-mini] }
  team-d: { key: ${KEYS["team-d"]}, limits: { tokensPerDay: 1 } }
${extra}`;

function sdk(stack: PoolStack, client: keyof typeof KEYS): OpenAI {
  return new OpenAI({
    baseURL: `${stack.url}/v1`,
    apiKey: KEYS[client],
    maxRetries: 0,
    timeout: 20_000,
  });
}

const chat = (openai: OpenAI, model = "gpt-4o") =>
  openai.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }] });

async function usageOf(stack: PoolStack, client: string, model: string): Promise<UsageRow> {
  const answer = await fetch(`${stack.url}/usage`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(answer.status, 200);
  const report = (await answer.json()) as UsageReport;
  const row = report.today.rows.find((r) => r.client === client && r.model === model);
  return (
    row ?? {
      client,
      model,
      deployment: "",
      requests: 0,
      prompt: 0,
      completion: 0,
      reasoning: 0,
      cached: 0,
    }
  );
}

async function refusedWith(
  promise: Promise<unknown>,
): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail("expected the proxy to refuse");
}

describe("named clients through the proxy (memory store)", () => {
  let stack: PoolStack;
  before(async () => {
    stack = await startPoolStack({
      resources: { east: {} },
      yaml: yaml(),
      env: { AZURE_OPENAI_PROXY_ADMIN_KEY: ADMIN_KEY },
    });
  });
  after(() => stack.close());

  it("refuses the 6th request of a client at rpm 5 with 429, Retry-After and headers; the other client goes on", async () => {
    const teamA = sdk(stack, "team-a");
    const forwardedBefore = inferenceRequests(east(stack)).length;
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { response } = await chat(teamA).withResponse();
      remaining.push(response.headers.get("x-ratelimit-remaining-requests") ?? "");
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "5");
    }
    assert.deepEqual(remaining, ["4", "3", "2", "1", "0"]);
    const error = await refusedWith(chat(teamA));
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.code, "rate_limit_exceeded");
    assert.ok(Number(error.headers?.get("retry-after")) >= 1);
    assert.equal(error.headers?.get("x-ratelimit-limit-requests"), "5");
    assert.equal(error.headers?.get("x-ratelimit-remaining-requests"), "0");
    assert.match(error.headers?.get("x-ratelimit-reset-requests") ?? "", /^(\d+m)?\d+s$/);
    const forwarded = inferenceRequests(east(stack)).length - forwardedBefore;
    assert.equal(forwarded, 5, "nothing was forwarded for the refused request");

    const other = await chat(sdk(stack, "team-b")).withResponse();
    assert.equal(other.response.status, 200);

    // A reload (new client list) keeps the counters.
    await writeFile(
      stack.configFile,
      yaml("  team-e: { key: sk-team-e-0005 }")({ east: urlOf(stack) }),
    );
    assert.equal(await stack.proxy.reload(), true);
    assert.equal((await refusedWith(chat(teamA))).status, 429);
  });

  it("answers 403 model_not_allowed outside the allow-list, and lists only the client's models", async () => {
    const teamC = sdk(stack, "team-c");
    const error = await refusedWith(chat(teamC, "gpt-4o"));
    assert.ok(error instanceof OpenAI.PermissionDeniedError);
    assert.equal(error.code, "model_not_allowed");
    assert.equal((await chat(teamC, "gpt-4o-mini")).object, "chat.completion");
    const listed = [];
    for await (const model of teamC.models.list()) listed.push(model.id);
    assert.deepEqual(listed, ["gpt-4o-mini"]);
    const everyone = [];
    for await (const model of sdk(stack, "team-b").models.list()) everyone.push(model.id);
    assert.ok(everyone.length > 5 && everyone.includes("gpt-4o"));
  });

  it("refuses a Realtime session for a model outside the allow-list with 403", async () => {
    const { WebSocket } = await import("ws");
    const url = `${stack.url.replace("http", "ws")}/v1/realtime?model=gpt-4o-realtime-preview`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${KEYS["team-c"]}` } });
    ws.on("error", () => {}); // the refusal closes the socket before any WebSocket exists
    const [, res] = (await once(ws, "unexpected-response")) as [unknown, IncomingMessage];
    let body = "";
    for await (const chunk of res) body += chunk;
    ws.terminate();
    assert.equal(res.statusCode, 403);
    assert.equal(JSON.parse(body).error.code, "model_not_allowed");
  });

  it("charges tpm and the day's tokens from the usage of JSON, streams and Responses answers", async () => {
    const teamB = sdk(stack, "team-b");
    const before = await usageOf(stack, "team-b", "gpt-4o");

    const json = await chat(teamB);
    const withUsage = [];
    const stream = await teamB.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) withUsage.push(chunk);
    const streamUsage = withUsage.at(-1)?.usage;
    assert.ok(streamUsage, "a client that asked for usage gets its chunk");

    const withoutUsage = [];
    const plain = await teamB.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hello" }],
      stream: true,
    });
    for await (const chunk of plain) withoutUsage.push(chunk);
    assert.ok(withoutUsage.length > 1);
    assert.ok(
      withoutUsage.every((c) => c.choices.length > 0 && c.usage === undefined),
      "a client that did not ask sees no usage",
    );
    const sent = inferenceRequests(east(stack)).at(-1)?.json as { stream_options?: unknown };
    assert.deepEqual(sent.stream_options, { include_usage: true }, "the proxy asked Azure");

    const response = await teamB.responses.create({ model: "gpt-4o", input: "hello" });
    const streamed = await teamB.responses.create({
      model: "gpt-4o",
      input: "hello",
      stream: true,
    });
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of streamed)
      if (event.type === "response.completed") completed = event.response;

    await sleep(20);
    const after = await usageOf(stack, "team-b", "gpt-4o");
    const prompt =
      (json.usage?.prompt_tokens ?? 0) +
      2 * streamUsage.prompt_tokens +
      (response.usage?.input_tokens ?? 0) +
      (completed?.usage?.input_tokens ?? 0);
    const completion =
      (json.usage?.completion_tokens ?? 0) +
      2 * streamUsage.completion_tokens +
      (response.usage?.output_tokens ?? 0) +
      (completed?.usage?.output_tokens ?? 0);
    assert.ok(prompt > 0 && completion > 0);
    assert.equal(after.requests - before.requests, 5);
    assert.equal(after.prompt - before.prompt, prompt);
    assert.equal(after.completion - before.completion, completion);

    const next = await chat(teamB).withResponse();
    assert.equal(next.response.headers.get("x-ratelimit-limit-tokens"), String(TPM));
    const spent = after.prompt + after.completion;
    assert.equal(next.response.headers.get("x-ratelimit-remaining-tokens"), String(TPM - spent));
  });

  it("counts embeddings as prompt tokens", async () => {
    const teamB = sdk(stack, "team-b");
    const answer = await teamB.embeddings.create({
      model: "text-embedding-3-small-1",
      input: "hi",
    });
    await sleep(20);
    const row = await usageOf(stack, "team-b", "text-embedding-3-small-1");
    assert.equal(row.prompt, answer.usage.prompt_tokens);
    assert.equal(row.completion, 0);
  });

  it("refuses with insufficient_quota once the day's budget is spent", async () => {
    const teamD = sdk(stack, "team-d");
    await chat(teamD);
    await sleep(20);
    const error = await refusedWith(chat(teamD));
    assert.equal(error.status, 429);
    assert.equal(error.code, "insufficient_quota");
  });

  it("shows /usage only with the admin key", async () => {
    assert.equal((await fetch(`${stack.url}/usage`)).status, 401);
    const wrong = await fetch(`${stack.url}/usage`, {
      headers: { authorization: `Bearer ${KEYS["team-b"]}` },
    });
    assert.equal(wrong.status, 401);
    const report = (await (
      await fetch(`${stack.url}/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).json()) as UsageReport;
    assert.match(report.today.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(report.minute.rows.length > 0);
  });

  it("names the client in every request log line, never its key", () => {
    const lines = stack.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    const inference = lines.filter((l) => String(l.path).startsWith("/v1/"));
    assert.ok(inference.length > 10);
    assert.ok(
      inference.every((l) => typeof l.client === "string"),
      "every line has a client",
    );
    const all = stack.logs.join("\n");
    for (const key of Object.values(KEYS)) assert.ok(!all.includes(key));
    assert.ok(!all.includes(ADMIN_KEY));
  });
});

function east(stack: PoolStack): Emulator {
  return stack.emulators.east as Emulator;
}

function urlOf(stack: PoolStack): string {
  return east(stack).url;
}

describe("named clients shared by two proxies through one Redis", { skip: redisMissing }, () => {
  let redis: RedisServer;
  let stacks: PoolStack[];
  before(async () => {
    redis = await startRedis();
    const env = {
      AZURE_OPENAI_PROXY_REDIS_URL: redis.url,
      AZURE_OPENAI_PROXY_ADMIN_KEY: ADMIN_KEY,
    };
    stacks = [
      await startPoolStack({ resources: { east: {} }, yaml: yaml(), env }),
      await startPoolStack({ resources: { east: {} }, yaml: yaml(), env }),
    ];
    // One call each before the tests: on a loaded machine a first call can miss its 50 ms, and
    // that proxy then (rightly) serves without limits until it probes Redis again.
    for (const stack of stacks) {
      await chat(sdk(stack, "team-b"));
      const outages = () => stack.logs.filter((l) => l.includes("limits store unreachable"));
      const backs = () => stack.logs.filter((l) => l.includes("limits store is back"));
      for (let i = 0; i < 100 && outages().length > backs().length; i++) await sleep(50);
      stack.logs.length = 0;
    }
  });
  after(async () => {
    for (const stack of stacks ?? []) await stack.close();
    await redis?.close();
  });

  it("two proxies enforce one rpm limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      for (const stack of stacks) {
        statuses.push(
          await chat(sdk(stack, "team-a")).then(
            () => 200,
            (error: { status: number }) => error.status,
          ),
        );
      }
    }
    assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(","));
    assert.deepEqual(statuses.slice(5), [429, 429, 429]);
  });

  it("keeps traffic flowing when Redis stops, with one warning, and counts again when it is back", async () => {
    const [one] = stacks as [PoolStack];
    await redis.stop();
    for (let i = 0; i < 8; i++)
      assert.equal((await chat(sdk(one, "team-b"))).object, "chat.completion");
    const warnings = one.logs.filter((l) => l.includes("limits store unreachable"));
    assert.equal(warnings.length, 1);
    await redis.start();
    for (let i = 0; i < 60 && !one.logs.some((l) => l.includes("limits store is back")); i++) {
      await sleep(50);
    }
    assert.ok(one.logs.some((l) => l.includes("limits store is back")));
    await sleep(50);
    const row = await usageOf(one, "team-b", "gpt-4o");
    assert.equal(row.requests, 8, "the charges held during the outage reached Redis");
  });
});
