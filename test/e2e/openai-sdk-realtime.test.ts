/**
 * Realtime over WebSocket through the real proxy in front of the Azure OpenAI emulator, in both
 * Azure API styles: `ws://<proxy>/v1/realtime?model=…` driven with `ws` the way OpenAI clients
 * (and browsers) connect, and with the official SDK's `OpenAIRealtimeWS`. Each test checks what
 * the client saw and what Azure (the emulator) saw: the handshake, every event both ways and in
 * order, and how each side's close reached the other.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { type createConnection, connect as netConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { RealtimeConnection, RecordedRequest } from "@azure-oai-proxy/emulator";
import { greeting, planText } from "@azure-oai-proxy/emulator/answers";
import type OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import WebSocket from "ws";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";
import { type AzureStyle, eventually, STYLE_ENV, STYLES, sdkClient } from "./sdk-harness.ts";

const DEPLOYMENT = "gpt-4o-realtime-preview";
const KEY_PROTOCOL = `openai-insecure-api-key.${EMULATOR_KEY}`;
/** What a browser offers: it cannot set headers, so the key rides in a subprotocol. */
const BROWSER_PROTOCOLS = ["realtime", KEY_PROTOCOL, "openai-beta.realtime-v1"];

type ServerEvent = Record<string, unknown> & { type: string };

interface Closed {
  code: number;
  reason: string;
}

/** A `ws` client that records every server event and its close. */
interface Session {
  readonly ws: WebSocket;
  readonly events: ServerEvent[];
  readonly closed: Promise<Closed>;
  send(event: Record<string, unknown>): void;
  /** The first event of this type (waits for it). */
  next(type: string): Promise<ServerEvent>;
}

function realtimeUrl(stack: Stack, model = DEPLOYMENT): string {
  return `${stack.url.replace(/^http/, "ws")}/v1/realtime?model=${encodeURIComponent(model)}`;
}

function open(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Session> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const events: ServerEvent[] = [];
  ws.on("message", (data, isBinary) => {
    // Realtime events are JSON text frames; anything else shows up in the event list as such.
    let event: ServerEvent;
    try {
      event = isBinary ? { type: "(binary frame)" } : (JSON.parse(String(data)) as ServerEvent);
    } catch {
      event = { type: "(not JSON)", text: String(data) };
    }
    events.push(event);
  });
  const closed = new Promise<Closed>((resolve) => {
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") }));
  });
  const session: Session = {
    ws,
    events,
    closed,
    send: (event) => ws.send(JSON.stringify(event)),
    next: (type) => eventually(() => events.find((e) => e.type === type), `a ${type} event`),
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(session));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      res.resume();
      reject(new Error(`handshake refused with ${res.statusCode}`));
    });
  });
}

interface Refusal {
  status: number;
  contentType: string | undefined;
  body: { error?: Record<string, unknown> };
}

/** A handshake that must be refused: the HTTP status and JSON body the client receives. */
function refusedHandshake(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Refusal> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  ws.on("error", () => {}); // terminate() below reports the aborted handshake as an error
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("the handshake was accepted"));
    });
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        ws.terminate();
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          const body = JSON.parse(text) as Refusal["body"];
          resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], body });
        } catch {
          reject(new Error(`the refusal's body is not JSON: ${text}`));
        }
      });
    });
  });
}

/** The emulator's record of the session opened last (the tests open one at a time). */
function emulatorSession(stack: Stack): RealtimeConnection {
  const found = stack.emulator.realtime.sessions.at(-1);
  assert.ok(found, "the emulator accepted no realtime session");
  return found;
}

/**
 * Each event's type and id. The emulator records the objects it sent, and goes on changing some
 * of them (an item's status and content), so events are matched by identity, not content.
 */
function identities(events: readonly unknown[]): [unknown, unknown][] {
  return events.map((e) => {
    const event = e as { type?: unknown; event_id?: unknown };
    return [event.type, event.event_id];
  });
}

/** Events other than the `session.created` greeting, which has a test of its own. */
function afterGreeting<T>(events: readonly T[]): T[] {
  return events.filter((e) => (e as { type?: unknown }).type !== "session.created");
}

/** The last realtime handshake the emulator received. */
function handshake(stack: Stack, style: AzureStyle): RecordedRequest {
  const path = style === "dated" ? "/openai/realtime" : "/openai/v1/realtime";
  const found = stack.emulator.requests.findLast((r) => r.path === path);
  assert.ok(found, `the emulator received no realtime handshake on ${path}`);
  return found;
}

/** The handshake's query: the deployment where the style wants it, the model parameter gone. */
function expectedQuery(style: AzureStyle): Record<string, string> {
  return style === "dated"
    ? { "api-version": DEFAULT_API_VERSION, deployment: DEPLOYMENT }
    : { model: DEPLOYMENT };
}

/** The events the emulator answers `response.create` with, in order, for a text answer. */
function responseEventTypes(style: AzureStyle, said: string): string[] {
  const text = style === "dated" ? "response.text" : "response.output_text";
  return [
    "response.created",
    "response.output_item.added",
    "conversation.item.created",
    "response.content_part.added",
    ...planText(greeting(DEPLOYMENT, said)).pieces.map(() => `${text}.delta`),
    `${text}.done`,
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
  ];
}

/**
 * `ws` over plain TCP for a `wss:` URL: the SDK always builds `wss:` URLs, and the proxy under
 * test listens without TLS on loopback.
 */
const plainTcp = ((options: { host: string; port: number }) =>
  netConnect({ host: options.host, port: options.port })) as unknown as typeof createConnection;

for (const style of STYLES) {
  describe(`realtime WebSockets through the proxy, ${style} style`, () => {
    let stack: Stack;
    let client: OpenAI;
    before(async () => {
      stack = await startStack({ env: STYLE_ENV[style] });
      client = sdkClient(stack);
    });
    after(() => stack.close());

    it(`delivers Azure's session.created to the client first, before any other event (${style})`, async () => {
      const session = await open(realtimeUrl(stack), { headers: { "api-key": EMULATOR_KEY } });
      session.send({ type: "session.update", session: { instructions: "Hi" } });
      await session.next("session.updated");
      const record = emulatorSession(stack);
      assert.equal((record.sent[0] as ServerEvent).type, "session.created", "Azure sent it");
      assert.deepEqual(
        session.events.map((e) => e.type),
        ["session.created", "session.updated"],
        "the client must see session.created first",
      );
      assert.deepEqual(
        identities(session.events),
        identities(record.sent),
        "every event Azure sent, in order",
      );
      session.ws.close();
      await session.closed;
    });

    it(`relays a conversation both ways in order with the key in api-key (${style})`, async () => {
      const session = await open(realtimeUrl(stack), {
        headers: { "api-key": EMULATOR_KEY, "OpenAI-Beta": "realtime=v1" },
      });
      const said = "Hello over the proxy";
      const sent = [
        {
          type: "session.update",
          event_id: "evt_1",
          session: { instructions: "Be brief.", modalities: ["text"] },
        },
        {
          type: "conversation.item.create",
          event_id: "evt_2",
          item: { type: "message", role: "user", content: [{ type: "input_text", text: said }] },
        },
        { type: "response.create", event_id: "evt_3", response: { modalities: ["text"] } },
      ];
      for (const event of sent) session.send(event);
      const done = await session.next("response.done");
      assert.equal((done.response as { status?: string }).status, "completed");

      assert.deepEqual(
        afterGreeting(session.events).map((e) => e.type),
        ["session.updated", "conversation.item.created", ...responseEventTypes(style, said)],
      );
      const updated = session.events.find((e) => e.type === "session.updated")?.session as
        | { instructions?: string }
        | undefined;
      assert.equal(updated?.instructions, "Be brief.");
      const deltas = session.events.filter((e) => e.type.endsWith("text.delta"));
      assert.equal(deltas.map((e) => e.delta).join(""), greeting(DEPLOYMENT, said));

      const record = emulatorSession(stack);
      assert.equal(record.style, style);
      assert.equal(record.deployment, DEPLOYMENT);
      assert.deepEqual(record.received, sent, "Azure got the client's events, in order");
      assert.deepEqual(
        identities(afterGreeting(session.events)),
        identities(afterGreeting(record.sent)),
        "the client got Azure's events, in order",
      );

      const request = handshake(stack, style);
      assert.deepEqual(request.query, expectedQuery(style));
      assert.equal(request.deployment, DEPLOYMENT);
      assert.equal(request.headers["api-key"], EMULATOR_KEY);
      assert.equal(request.headers.authorization, undefined);
      assert.equal(request.headers["openai-beta"], "realtime=v1");
      session.ws.close();
      await session.closed;
    });

    it(`takes the key from the browser subprotocol and never passes it on to Azure (${style})`, async () => {
      const session = await open(realtimeUrl(stack), { protocols: BROWSER_PROTOCOLS });
      assert.equal(session.ws.protocol, "realtime", "the client gets the protocol Azure chose");
      session.send({ type: "session.update", session: { instructions: "From a browser" } });
      await session.next("session.updated");

      const record = emulatorSession(stack);
      assert.equal(record.protocol, "realtime");
      const request = handshake(stack, style);
      assert.deepEqual(request.subprotocols, ["realtime", "openai-beta.realtime-v1"]);
      assert.equal(request.headers["sec-websocket-protocol"], "realtime,openai-beta.realtime-v1");
      assert.equal(request.headers["api-key"], EMULATOR_KEY, "the key went as api-key");
      assert.equal(request.headers.authorization, undefined);
      assert.doesNotMatch(
        JSON.stringify(request),
        /openai-insecure-api-key/,
        "the key subprotocol is not in anything Azure saw",
      );
      assert.deepEqual(request.query, expectedQuery(style));
      session.ws.close();
      await session.closed;
    });

    it(`closes the Azure side with the client's code and reason (${style})`, async () => {
      const session = await open(realtimeUrl(stack), {
        headers: { authorization: `Bearer ${EMULATOR_KEY}` },
      });
      const record = emulatorSession(stack);
      session.send({ type: "session.update", session: { instructions: "Bridged?" } });
      await session.next("session.updated");
      assert.equal(
        handshake(stack, style).headers["api-key"],
        EMULATOR_KEY,
        "Bearer became api-key",
      );
      assert.equal(handshake(stack, style).headers.authorization, undefined);
      session.ws.close(4001, "bye");
      const closed = await eventually(() => record.closed, "the emulator to see the close");
      assert.deepEqual(closed, { code: 4001, reason: "bye", initiator: "client" });
      assert.deepEqual(await session.closed, { code: 4001, reason: "bye" });
    });

    it(`closes the client with Azure's code and reason (${style})`, async () => {
      const session = await open(realtimeUrl(stack), {
        headers: { "api-key": EMULATOR_KEY },
      });
      const record = emulatorSession(stack);
      session.send({ type: "session.update", session: { instructions: "Bridged?" } });
      await session.next("session.updated");
      session.send({ type: "emulator.close", code: 4002, reason: "done" });
      assert.deepEqual(await session.closed, { code: 4002, reason: "done" });
      const closed = await eventually(() => record.closed, "the emulator to record the close");
      assert.equal(closed.code, 4002);
      assert.equal(closed.reason, "done");
      assert.equal(closed.initiator, "emulator");
    });

    it(`closes the Azure side with 1011 when the client drops the connection (${style})`, async () => {
      const session = await open(realtimeUrl(stack), { headers: { "api-key": EMULATOR_KEY } });
      const record = emulatorSession(stack);
      session.send({ type: "session.update", session: { instructions: "Then vanish" } });
      await session.next("session.updated");
      session.ws.terminate(); // no close frame: 1006 on the proxy's side, which cannot be sent on
      const closed = await eventually(() => record.closed, "the emulator to see the close");
      assert.deepEqual(closed, {
        code: 1011,
        reason: "the other side closed abnormally",
        initiator: "client",
      });
    });

    it(`answers a handshake with a wrong key with Azure's 401 as an OpenAI error (${style})`, async () => {
      const before = stack.emulator.realtime.connections;
      const refusal = await refusedHandshake(realtimeUrl(stack), {
        headers: { "api-key": "not-the-key" },
      });
      assert.equal(refusal.status, 401);
      assert.match(refusal.contentType ?? "", /^application\/json/);
      const error = refusal.body.error;
      assert.equal(typeof error?.message, "string");
      assert.match(String(error?.message), /Access denied/);
      assert.equal(typeof error?.type, "string");
      assert.ok("param" in (error ?? {}) && "code" in (error ?? {}), JSON.stringify(error));
      assert.equal(error?.code, "401");
      assert.equal(handshake(stack, style).headers["api-key"], "not-the-key");
      assert.equal(stack.emulator.realtime.connections, before, "no session was opened");
    });

    it(`answers a handshake for an unknown deployment with 404 DeploymentNotFound (${style})`, async () => {
      const refusal = await refusedHandshake(realtimeUrl(stack, "no-such-deployment"), {
        protocols: BROWSER_PROTOCOLS,
      });
      assert.equal(refusal.status, 404);
      assert.match(refusal.contentType ?? "", /^application\/json/);
      assert.equal(refusal.body.error?.code, "DeploymentNotFound");
      assert.equal(typeof refusal.body.error?.message, "string");
      assert.ok("type" in (refusal.body.error ?? {}) && "param" in (refusal.body.error ?? {}));
      assert.equal(handshake(stack, style).deployment, "no-such-deployment");
    });

    it(`refuses a model name that would change the Azure URL before reaching Azure (${style})`, async () => {
      const before = stack.emulator.requests.length;
      const refusal = await refusedHandshake(realtimeUrl(stack, "../deployments/gpt-4o"), {
        headers: { "api-key": EMULATOR_KEY },
      });
      assert.equal(refusal.status, 400);
      assert.equal(refusal.body.error?.code, "invalid_model");
      assert.equal(refusal.body.error?.param, "model");
      assert.equal(stack.emulator.requests.length, before, "nothing was forwarded");
    });

    it(`refuses a handshake without a key before anything reaches Azure (${style})`, async () => {
      const before = stack.emulator.requests.length;
      const refusal = await refusedHandshake(realtimeUrl(stack));
      assert.equal(refusal.status, 401);
      assert.equal(refusal.body.error?.code, "missing_api_key");
      assert.equal(stack.emulator.requests.length, before, "nothing was forwarded");
    });

    it(`lets the SDK's OpenAIRealtimeWS hold a conversation through the proxy (${style})`, async () => {
      const rt = new OpenAIRealtimeWS(
        { model: DEPLOYMENT, options: { createConnection: plainTcp } },
        client,
      );
      assert.equal(rt.url.pathname, "/v1/realtime");
      assert.equal(rt.url.searchParams.get("model"), DEPLOYMENT);
      const events: ServerEvent[] = [];
      const errors: unknown[] = [];
      rt.on("event", (event) => events.push(event as unknown as ServerEvent));
      rt.on("error", (error) => errors.push(error));
      await new Promise<void>((resolve, reject) => {
        rt.socket.once("open", () => resolve());
        rt.socket.once("error", reject);
      });
      const said = "Hello from the SDK";
      rt.send({ type: "session.update", session: { type: "realtime", instructions: "Be brief." } });
      rt.send({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: said }] },
      });
      rt.send({ type: "response.create" });
      await eventually(() => events.find((e) => e.type === "response.done"), "response.done");
      assert.deepEqual(
        afterGreeting(events).map((e) => e.type),
        ["session.updated", "conversation.item.created", ...responseEventTypes(style, said)],
      );
      assert.deepEqual(errors, []);

      const record = emulatorSession(stack);
      assert.deepEqual(identities(afterGreeting(events)), identities(afterGreeting(record.sent)));
      assert.deepEqual(
        record.received.map((e) => (e as ServerEvent).type),
        ["session.update", "conversation.item.create", "response.create"],
      );
      const request = handshake(stack, style);
      assert.equal(request.headers["api-key"], EMULATOR_KEY, "the SDK's Bearer key became api-key");
      assert.equal(request.headers.authorization, undefined);
      assert.match(String(request.headers["user-agent"]), /OpenAI\/JS/);
      assert.deepEqual(request.query, expectedQuery(style));

      const closed = new Promise<number>((resolve) => rt.socket.once("close", resolve));
      rt.close({ code: 1000, reason: "finished" });
      assert.equal(await closed, 1000);
      const azureClosed = await eventually(() => record.closed, "the emulator to see the close");
      assert.deepEqual(azureClosed, { code: 1000, reason: "finished", initiator: "client" });
    });
  });
}
