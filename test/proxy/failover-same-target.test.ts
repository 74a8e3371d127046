import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Agent } from "undici";
import type { ResourceConfig } from "../../src/config/topology.ts";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import { type ForwardPlan, forwardWithFailover } from "../../src/proxy/failover.ts";
import { callUpstream, type UpstreamCall } from "../../src/proxy/upstream-call.ts";
import { TargetHealth } from "../../src/routing/health.ts";
import { PrioritySelection } from "../../src/routing/policies.ts";
import { Pool } from "../../src/routing/pool.ts";
import type { Target } from "../../src/routing/target.ts";

/** An upstream that refuses `?bad` with a 400 and answers anything else. */
async function upstream(): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const status = req.url?.includes("bad") ? 400 : 200;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(
      JSON.stringify(status === 400 ? { error: { message: "no", code: "x" } } : { ok: true }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The proxy side: a real node:http response to forward into, read back by fetch. */
async function serve(handler: (res: ServerResponse, req: IncomingMessage) => Promise<void>) {
  const server = createServer((req, res) => {
    handler(res, req).catch((error) => {
      res.writeHead(599).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const text = await response.text();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { status: response.status, text, headers: response.headers };
}

const resource: ResourceConfig = {
  name: "r",
  endpoint: "http://unused",
  apiStyle: "dated",
  apiVersion: "2024-10-21",
  apiKey: undefined,
};

describe("forwardWithFailover: sending the same target a changed request", () => {
  let azure: Awaited<ReturnType<typeof upstream>>;
  const agent = new Agent();
  const call: UpstreamCall = (request, options) => callUpstream(agent, request, options);
  before(async () => {
    azure = await upstream();
  });
  after(async () => {
    await azure.close();
    await agent.close();
  });

  it("retries the same target when the plan says so, without counting a failure against it", async () => {
    const target: Target = {
      id: "r/d",
      resource,
      deployment: "d",
      priority: 0,
      weight: 1,
      health: new TargetHealth(),
    };
    const pool = new Pool([target], new PrioritySelection(), false);
    let fixed = false;
    const plan: ForwardPlan = {
      pool,
      relay: { stream: undefined, keepAzureStreamArtefacts: false },
      targetHeader: false,
      request: () => ({
        url: `${azure.url}/${fixed ? "good" : "bad"}`,
        method: "GET",
        headers: {},
      }),
      relayFor: () => ({
        stream: undefined,
        keepAzureStreamArtefacts: false,
        headers: { "x-adapted": "yes" },
      }),
      retrySameTarget: (t, outcome) => {
        assert.equal(t, target);
        assert.equal(outcome.status, 400);
        fixed = true;
        return true;
      },
    };
    const record: RequestRecord = {};
    const answer = await serve((res) =>
      forwardWithFailover(call, plan, res, record, {
        maxAttempts: 1,
        headersTimeoutMs: 5000,
        bodyTimeoutMs: 5000,
        totalMs: 10_000,
      }),
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("x-adapted"), "yes");
    assert.deepEqual(azure.hits.slice(-2), ["/bad", "/good"]);
    assert.equal(target.health.failures, 0);
    assert.equal(target.health.coolingUntil, 0);
  });

  it("stops after two same-target retries and answers the last error", async () => {
    const target: Target = {
      id: "r/d",
      resource,
      deployment: "d",
      priority: 0,
      weight: 1,
      health: new TargetHealth(),
    };
    const before = azure.hits.length;
    const plan: ForwardPlan = {
      pool: new Pool([target], new PrioritySelection(), false),
      relay: { stream: undefined, keepAzureStreamArtefacts: false },
      targetHeader: false,
      request: () => ({ url: `${azure.url}/bad`, method: "GET", headers: {} }),
      retrySameTarget: () => true,
    };
    const answer = await serve((res) =>
      forwardWithFailover(
        call,
        plan,
        res,
        {},
        { maxAttempts: 1, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, totalMs: 10_000 },
      ),
    );
    assert.equal(answer.status, 400);
    assert.equal(azure.hits.length - before, 3);
  });
});
