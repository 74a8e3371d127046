import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ResourceConfig } from "../../src/config/topology.ts";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import type { ProxyError } from "../../src/openai/errors.ts";
import { type ForwardPlan, forwardWithFailover } from "../../src/proxy/failover.ts";
import { sendError } from "../../src/proxy/respond.ts";
import type { Outcome, UpstreamCall } from "../../src/proxy/upstream-call.ts";
import { TargetHealth } from "../../src/routing/health.ts";
import { PrioritySelection } from "../../src/routing/policies.ts";
import { Pool } from "../../src/routing/pool.ts";
import type { Target } from "../../src/routing/target.ts";

const resource = (name: string): ResourceConfig => ({
  name,
  endpoint: `https://${name}.example`,
  apiStyle: "dated",
  apiVersion: "2024-10-21",
  apiKey: "k",
});
const target = (name: string, priority: number): Target => ({
  id: `${name}/gpt-4o`,
  resource: resource(name),
  deployment: "gpt-4o",
  priority,
  weight: 1,
  health: new TargetHealth(),
});

function answer(text: string): Outcome {
  async function* rest() {}
  return {
    kind: "answer",
    status: 200,
    headers: { "content-type": "application/json" },
    first: Buffer.from(text),
    rest: rest(),
    firstByteMs: 1,
  };
}
const azureError = (status: number, headers = {}): Outcome => ({
  kind: "azure-error",
  status,
  headers,
  body: Buffer.from(JSON.stringify({ error: { code: `E${status}`, message: `status ${status}` } })),
  firstByteMs: 1,
});

/** A real server whose one route runs forwardWithFailover with the test's pool and upstream. */
let server: Server;
let url: string;
let current: {
  pool: Pool;
  call: UpstreamCall;
  replayable: boolean;
  record: RequestRecord;
  reauthorize?: ForwardPlan["reauthorize"];
};
before(async () => {
  server = createServer((req, res) => {
    const { pool, call, replayable, record, reauthorize } = current;
    const plan: ForwardPlan = {
      pool,
      ...(reauthorize ? { reauthorize } : {}),
      relay: { stream: undefined, keepAzureStreamArtefacts: true },
      targetHeader: true,
      request: (t, attempt) =>
        attempt > 0 && !replayable
          ? undefined
          : { url: `${t.resource.endpoint}/x`, method: "POST", headers: {}, body: undefined },
    };
    forwardWithFailover(call, plan, res, record, {
      maxAttempts: 3,
      headersTimeoutMs: 1000,
      bodyTimeoutMs: 1000,
      totalMs: 5000,
    }).catch((error: ProxyError) => sendError(res, error));
    req.resume();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

/** An upstream that answers each target from a script, recording who was called. */
function scripted(script: Record<string, Outcome>) {
  const called: string[] = [];
  const call: UpstreamCall = async (request) => {
    const host = new URL(request.url).hostname.split(".")[0] as string;
    called.push(host);
    return script[host] ?? azureError(500);
  };
  return { call, called };
}

describe("forwardWithFailover", () => {
  it("goes on to the next target after a 429, relays its answer and cools the first", async () => {
    const east = target("east", 0);
    const west = target("west", 1);
    const { call, called } = scripted({
      east: azureError(429, { "retry-after": "30" }),
      west: answer('{"ok":true}'),
    });
    const record: RequestRecord = {};
    current = {
      pool: new Pool([east, west], new PrioritySelection()),
      call,
      replayable: true,
      record,
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"ok":true}');
    assert.equal(response.headers.get("x-azure-oai-proxy-target"), "west/gpt-4o");
    assert.deepEqual(called, ["east", "west"]);
    assert.ok(east.health.isCooling(Date.now()));
    assert.deepEqual(
      record.attempts?.map((a) => [a.target, a.failover]),
      [
        ["east/gpt-4o", "azure 429"],
        ["west/gpt-4o", undefined],
      ],
    );
  });

  it("relays an error about the request without trying another target", async () => {
    const { call, called } = scripted({ east: azureError(400), west: answer("{}") });
    current = {
      pool: new Pool([target("east", 0), target("west", 1)], new PrioritySelection()),
      call,
      replayable: true,
      record: {},
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "E400");
    assert.deepEqual(called, ["east"]);
  });

  it("answers 429 with the soonest Retry-After, calling nobody, when every target cools", async () => {
    const east = target("east", 0);
    east.health.coolingUntil = Date.now() + 20_000;
    const { call, called } = scripted({});
    current = {
      pool: new Pool([east], new PrioritySelection()),
      call,
      replayable: true,
      record: {},
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert.ok(retryAfter >= 19 && retryAfter <= 20, `retry-after ${retryAfter}`);
    assert.deepEqual(called, []);
  });

  it("relays the last error when the body cannot be sent again", async () => {
    const { call, called } = scripted({ east: azureError(503), west: answer("{}") });
    current = {
      pool: new Pool([target("east", 0), target("west", 1)], new PrioritySelection()),
      call,
      replayable: false,
      record: {},
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 503);
    assert.deepEqual(called, ["east"]);
  });

  it("tries at most maxAttempts targets", async () => {
    const { call, called } = scripted({});
    current = {
      pool: new Pool(
        ["a", "b", "c", "d"].map((n, i) => target(n, i)),
        new PrioritySelection(),
      ),
      call,
      replayable: true,
      record: {},
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 500);
    assert.deepEqual(called, ["a", "b", "c"]);
  });

  it("gives a 401 one fresh credential and one more try on the same target", async () => {
    const seen: (string | undefined)[] = [];
    const call: UpstreamCall = async (request) => {
      seen.push(request.headers.authorization);
      return request.headers.authorization === "Bearer fresh" ? answer("{}") : azureError(401);
    };
    const record: RequestRecord = {};
    current = {
      pool: new Pool([target("east", 0), target("west", 1)], new PrioritySelection()),
      call,
      replayable: true,
      record,
      reauthorize: async (t) => ({
        url: `${t.resource.endpoint}/x`,
        method: "POST",
        headers: { authorization: "Bearer fresh" },
      }),
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-azure-oai-proxy-target"), "east/gpt-4o");
    assert.deepEqual(seen, [undefined, "Bearer fresh"]);
  });

  it("relays a second 401 without another refresh or another target", async () => {
    let calls = 0;
    let refreshes = 0;
    const call: UpstreamCall = async () => {
      calls += 1;
      return azureError(401);
    };
    current = {
      pool: new Pool([target("east", 0), target("west", 1)], new PrioritySelection()),
      call,
      replayable: true,
      record: {},
      reauthorize: async (t) => {
        refreshes += 1;
        return { url: `${t.resource.endpoint}/x`, method: "POST", headers: {} };
      },
    };
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 401);
    assert.equal(calls, 2);
    assert.equal(refreshes, 1);
  });
});
