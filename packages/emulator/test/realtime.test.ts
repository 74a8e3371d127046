import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { type Emulator, startEmulator } from "../src/index.ts";
import { type Json, KEY, waitFor } from "./client.ts";

const DEPLOYMENT = "gpt-4o-realtime-preview";
const PREVIEW = "2025-04-01-preview";

function datedUrl(emulator: Emulator, query = `api-version=${PREVIEW}&deployment=${DEPLOYMENT}`) {
  return `${emulator.url.replace("http", "ws")}/openai/realtime?${query}`;
}

function v1Url(emulator: Emulator, query = `model=${DEPLOYMENT}`) {
  return `${emulator.url.replace("http", "ws")}/openai/v1/realtime?${query}`;
}

/** A client socket whose server events can be awaited one by one. */
class Client {
  readonly ws: WebSocket;
  readonly #events: Json[] = [];
  readonly #waiting: ((event: Json) => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const event = JSON.parse(String(data));
      const waiter = this.#waiting.shift();
      if (waiter) waiter(event);
      else this.#events.push(event);
    });
  }

  next(): Promise<Json> {
    const event = this.#events.shift();
    if (event !== undefined) return Promise.resolve(event);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Events up to and including the first of the given type. */
  async until(type: string): Promise<Json[]> {
    const events: Json[] = [];
    for (;;) {
      const event = await this.next();
      events.push(event);
      if (event.type === type) return events;
    }
  }

  send(event: unknown): void {
    this.ws.send(JSON.stringify(event));
  }

  closed(): Promise<{ code: number; reason: string }> {
    return once(this.ws, "close").then(([code, reason]) => ({
      code: code as number,
      reason: String(reason),
    }));
  }
}

async function connect(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Client> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const client = new Client(ws);
  await once(ws, "open");
  return client;
}

/** The status and body of a refused handshake. */
async function refused(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<{ status: number; body: Json; headers: IncomingMessage["headers"] }> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  ws.on("error", () => {});
  const [, res] = (await once(ws, "unexpected-response")) as [unknown, IncomingMessage];
  let text = "";
  for await (const chunk of res) text += chunk;
  ws.terminate();
  return { status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers };
}

describe("emulator realtime", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 1 });
  });
  after(() => emulator.close());

  it("talks the preview events on the dated style with an api-key header", async () => {
    const client = await connect(datedUrl(emulator), { headers: { "api-key": KEY } });
    const record = emulator.requests.at(-1);
    assert.equal(record?.style, "dated");
    assert.equal(record?.deployment, DEPLOYMENT);
    assert.equal(record?.path, "/openai/realtime");
    assert.equal(record?.headers["api-key"], KEY);
    assert.deepEqual(record?.subprotocols, []);

    const created = await client.next();
    assert.equal(created.type, "session.created");
    assert.match(created.event_id, /^event_/);
    assert.match(created.session.id, /^sess_/);
    assert.equal(created.session.model, DEPLOYMENT);

    client.send({ type: "session.update", session: { instructions: "Be brief." } });
    const updated = await client.next();
    assert.equal(updated.type, "session.updated");
    assert.equal(updated.session.instructions, "Be brief.");
    assert.equal(updated.session.id, created.session.id);

    const item = {
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "Hello" }],
    };
    client.send({ type: "conversation.item.create", item });
    const itemCreated = await client.next();
    assert.equal(itemCreated.type, "conversation.item.created");
    assert.equal(itemCreated.previous_item_id, null);
    assert.equal(itemCreated.item.role, "user");
    assert.match(itemCreated.item.id, /^item_/);

    client.send({ type: "response.create" });
    const events = await client.until("response.done");
    const types = events.map((e) => e.type);
    assert.equal(types[0], "response.created");
    assert.deepEqual(types.slice(1, 4), [
      "response.output_item.added",
      "conversation.item.created",
      "response.content_part.added",
    ]);
    assert.deepEqual(types.slice(-4), [
      "response.text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.done",
    ]);
    const deltas = events.filter((e) => e.type === "response.text.delta").map((e) => e.delta);
    assert.ok(deltas.length > 3);
    const text = `Hello from the Azure OpenAI emulator (deployment ${DEPLOYMENT}). You said: Hello`;
    assert.equal(deltas.join(""), text);
    const done = events.at(-1);
    assert.equal(done.response.status, "completed");
    assert.equal(done.response.output[0].content[0].text, text);
    assert.equal(done.response.usage.output_tokens, deltas.length);

    const session = emulator.realtime.sessions.at(-1);
    assert.ok(session);
    assert.equal(session?.sessionId, created.session.id);
    assert.equal(session?.style, "dated");
    assert.equal(session?.deployment, DEPLOYMENT);
    assert.deepEqual(
      session?.received.map((e) => (e as Json).type),
      ["session.update", "conversation.item.create", "response.create"],
    );
    assert.equal((session.sent[0] as Json).type, "session.created");
    assert.equal(session.sent.length, events.length + 3);
    client.ws.close();
    await client.closed();
  });

  it("talks the GA events on the v1 style with a bearer key", async () => {
    const client = await connect(v1Url(emulator), { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(emulator.requests.at(-1)?.style, "v1");
    assert.equal(emulator.requests.at(-1)?.deployment, DEPLOYMENT);
    const created = await client.next();
    assert.equal(created.session.type, "realtime");
    client.send({
      type: "conversation.item.create",
      item: { type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }] },
    });
    await client.next();
    client.send({ type: "response.create" });
    const events = await client.until("response.done");
    assert.ok(events.some((e) => e.type === "response.output_text.delta"));
    assert.ok(events.some((e) => e.type === "response.output_text.done"));
    assert.ok(!events.some((e) => e.type === "response.text.delta"));
    client.ws.close();
    await client.closed();
  });

  it("takes the key from the subprotocol list, as browsers send it", async () => {
    const protocols = ["realtime", `openai-insecure-api-key.${KEY}`, "openai-beta.realtime-v1"];
    const client = await connect(v1Url(emulator), { protocols });
    assert.equal(client.ws.protocol, "realtime");
    assert.deepEqual(emulator.requests.at(-1)?.subprotocols, protocols);
    assert.equal(emulator.realtime.sessions.at(-1)?.protocol, "realtime");
    assert.equal((await client.next()).type, "session.created");
    client.ws.close();
    await client.closed();

    const dated = await connect(datedUrl(emulator), { protocols });
    assert.equal((await dated.next()).type, "session.created");
    dated.ws.close();
    await dated.closed();
  });

  it("takes an Entra token or a query key on the dated style, but not a plain bearer key", async () => {
    const entra = await connect(datedUrl(emulator), {
      headers: { authorization: `Bearer entra:${KEY}` },
    });
    assert.equal((await entra.next()).type, "session.created");
    entra.ws.close();
    const query = await connect(
      datedUrl(emulator, `api-version=${PREVIEW}&deployment=${DEPLOYMENT}&api-key=${KEY}`),
    );
    assert.equal((await query.next()).type, "session.created");
    query.ws.close();
    const plain = await refused(datedUrl(emulator), {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assert.equal(plain.status, 401);
  });

  it("refuses bad handshakes with Azure's status and JSON error body", async () => {
    const wrongKey = await refused(v1Url(emulator), { headers: { "api-key": "wrong" } });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.error.code, "401");
    assert.match(wrongKey.body.error.message, /^Access denied due to invalid subscription key/);
    assert.match(wrongKey.headers["content-type"] ?? "", /^application\/json/);
    assert.ok(wrongKey.headers["apim-request-id"]);

    const wrongProtocolKey = await refused(v1Url(emulator), {
      protocols: ["realtime", "openai-insecure-api-key.wrong"],
    });
    assert.equal(wrongProtocolKey.status, 401);
    assert.equal((await refused(v1Url(emulator))).status, 401, "no key at all");

    const headers = { "api-key": KEY };
    const unknown = await refused(datedUrl(emulator, `api-version=${PREVIEW}&deployment=nope`), {
      headers,
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "DeploymentNotFound");
    const noVersion = await refused(datedUrl(emulator, `deployment=${DEPLOYMENT}`), { headers });
    assert.equal(noVersion.status, 404);
    assert.deepEqual(noVersion.body, { error: { code: "404", message: "Resource not found" } });
    const badPath = await refused(`${emulator.url.replace("http", "ws")}/openai/realtimes`, {
      headers,
    });
    assert.equal(badPath.status, 404);
    const embedding = await refused(v1Url(emulator, "model=text-embedding-ada-002"), { headers });
    assert.equal(embedding.status, 400);
    assert.equal(embedding.body.error.code, "OperationNotSupported");
    const noModel = await refused(v1Url(emulator, ""), { headers });
    assert.equal(noModel.status, 400);
    assert.equal(emulator.requests.at(-1)?.subprotocols?.length, 0);
  });

  it("records the close code and reason a client sends", async () => {
    const client = await connect(v1Url(emulator), { headers: { "api-key": KEY } });
    await client.next();
    const before = emulator.realtime.closed.length;
    client.ws.close(4000, "client bye");
    await client.closed();
    await waitFor(() => emulator.realtime.closed.length > before);
    assert.deepEqual(emulator.realtime.closed.at(-1), {
      code: 4000,
      reason: "client bye",
      initiator: "client",
    });
    assert.deepEqual(emulator.realtime.sessions.at(-1)?.closed, emulator.realtime.closed.at(-1));
  });

  it("closes with the code and reason an emulator.close event asks for", async () => {
    const client = await connect(datedUrl(emulator), { headers: { "api-key": KEY } });
    await client.next();
    const closed = client.closed();
    client.send({ type: "emulator.close", code: 4001, reason: "bye" });
    assert.deepEqual(await closed, { code: 4001, reason: "bye" });
    await waitFor(() => emulator.realtime.sessions.at(-1)?.closed !== undefined);
    assert.deepEqual(emulator.realtime.sessions.at(-1)?.closed, {
      code: 4001,
      reason: "bye",
      initiator: "emulator",
    });
    assert.deepEqual(emulator.realtime.received.at(-1), {
      type: "emulator.close",
      code: 4001,
      reason: "bye",
    });
  });

  it("answers unknown, malformed and invalid client events with error events", async () => {
    const client = await connect(v1Url(emulator), { headers: { "api-key": KEY } });
    await client.next();
    client.send({ type: "no.such.event", event_id: "evt_1" });
    const unknown = await client.next();
    assert.equal(unknown.type, "error");
    assert.equal(unknown.error.type, "invalid_request_error");
    assert.equal(unknown.error.code, "invalid_value");
    assert.equal(unknown.error.param, "type");
    assert.equal(unknown.error.event_id, "evt_1");
    client.ws.send("not json");
    assert.equal((await client.next()).error.code, "invalid_json");
    client.send({ type: "emulator.close", code: 1006 });
    assert.equal((await client.next()).error.param, "code");
    client.send({ type: "response.cancel" });
    assert.equal((await client.next()).error.code, "response_cancel_not_active");
    assert.equal(emulator.realtime.received.at(-3), "not json");
    assert.equal(client.ws.readyState, client.ws.OPEN);
    client.ws.close();
    await client.closed();
  });

  it("cancels a response in progress", async () => {
    const client = await connect(v1Url(emulator), {
      headers: { "api-key": KEY, "x-emulator-chunk-delay-ms": "30" },
    });
    await client.next();
    client.send({ type: "response.create" });
    assert.equal((await client.next()).type, "response.created");
    client.send({ type: "response.cancel" });
    const events = await client.until("response.done");
    assert.equal(events.at(-1).response.status, "cancelled");
    client.ws.close();
    await client.closed();
  });

  it("drops open connections when the emulator closes", async () => {
    const own = await startEmulator();
    const client = await connect(v1Url(own), { headers: { "api-key": KEY } });
    await client.next();
    assert.equal(own.realtime.open, 1);
    const closed = client.closed();
    await own.close();
    assert.equal((await closed).code, 1006);
    assert.equal(own.realtime.open, 0);
    assert.equal(own.realtime.connections, 1);
    assert.equal(own.realtime.closed[0]?.initiator, "emulator");
  });
});
