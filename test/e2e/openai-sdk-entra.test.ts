/**
 * Keyless Azure: the proxy reaches resources that have keys disabled with a Microsoft Entra ID
 * token from managed identity (App Service's endpoint, faked on loopback by the emulator's
 * identity issuer), driven by the official SDK with the proxy's own client keys.
 */
import assert from "node:assert/strict";
import { type createConnection, connect as netConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { RecordedRequest } from "@azure-oai-proxy/emulator";
import OpenAI, { APIError, toFile } from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import {
  createFakeAzureCli,
  type FakeTokenIssuer,
  startFakeTokenIssuer,
} from "../helpers/fake-identity.ts";
import { type PoolStack, type Stack, startPoolStack, startStack } from "../helpers/stack.ts";
import { eventually, STYLE_ENV, STYLES } from "./sdk-harness.ts";

const CLIENT_KEY = "team-a-key";
const ENTRA_ENV = {
  AZURE_OPENAI_AUTH: "entra",
  AZURE_OPENAI_ENTRA_CREDENTIAL: "managed-identity",
  AZURE_OPENAI_PROXY_API_KEYS: CLIENT_KEY,
};

// MSAL picks the managed identity source once per process: one issuer for the whole file.
let issuer: FakeTokenIssuer;
const saved = { ...process.env };
before(async () => {
  issuer = await startFakeTokenIssuer();
  Object.assign(process.env, issuer.env());
  // Shorter than MSAL's 5-minute renewal window, so MSAL never answers from its own cache and
  // every refresh the proxy asks for reaches the issuer.
  issuer.ttlSeconds = 240;
});
after(async () => {
  process.env = saved;
  await issuer.close();
});

interface ErrorBody {
  error?: { code: string; message: string };
}

function client(url: string, apiKey = CLIENT_KEY): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

function inference(requests: readonly RecordedRequest[], op: string): RecordedRequest {
  const found = requests.findLast((r) => r.method === "POST" && r.path.endsWith(`/${op}`));
  if (found === undefined) throw new Error(`no ${op} request reached the emulator`);
  return found;
}

/** Azure got the issued token as Bearer and nothing of the client's key. */
function assertEntraOnly(request: RecordedRequest): void {
  const token = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
  assert.ok(issuer.issued.includes(token), "Azure got a token the identity endpoint issued");
  assert.equal(request.headers["api-key"], undefined);
  assert.ok(!JSON.stringify(request.headers).includes(CLIENT_KEY), "the client's key stays");
}

for (const style of STYLES) {
  describe(`Entra ID to a keyless resource, ${style} style`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({
        env: { ...STYLE_ENV[style], ...ENTRA_ENV },
        emulator: { keyless: true, identity: issuer },
      });
    });
    after(() => stack.close());

    it("answers chat with the token as Bearer", async () => {
      const answer = await client(stack.url).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hello" }],
      });
      assert.equal(answer.object, "chat.completion");
      assertEntraOnly(inference(stack.emulator.requests, "chat/completions"));
    });

    it("streams chat", async () => {
      const stream = await client(stack.url).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hello" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.ok(text.length > 0);
      assertEntraOnly(inference(stack.emulator.requests, "chat/completions"));
    });

    it("uploads a file for transcription", async () => {
      const audio = Buffer.alloc(32_000, 1);
      const result = await client(stack.url).audio.transcriptions.create({
        model: "whisper",
        file: await toFile(audio, "hello.wav", { type: "audio/wav" }),
      });
      assert.equal(typeof result.text, "string");
      assertEntraOnly(inference(stack.emulator.requests, "audio/transcriptions"));
    });

    it("lists the resource's deployments as models", async () => {
      const models = await client(stack.url).models.list();
      assert.ok(models.data.some((m) => m.id === "gpt-4o"));
    });

    it("refuses a client without one of the proxy's keys before anything is sent", async () => {
      const before = stack.emulator.requests.length;
      await assert.rejects(
        client(stack.url, "not-a-proxy-key").chat.completions.create({
          model: "gpt-4o",
          messages: [{ role: "user", content: "Hello" }],
        }),
        (error: unknown) => error instanceof APIError && error.status === 401,
      );
      assert.equal(stack.emulator.requests.length, before);
    });

    it("recovers through a refresh when Azure stops accepting the token", async () => {
      await client(stack.url).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hello" }],
      });
      const fetched = issuer.requests.length;
      issuer.rotate();
      const answer = await client(stack.url).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hello again" }],
      });
      assert.equal(answer.object, "chat.completion");
      assert.equal(issuer.requests.length, fetched + 1, "one forced refresh");
      const calls = stack.emulator.requests.filter((r) => r.path.endsWith("/chat/completions"));
      const [refused, retried] = calls.slice(-2);
      assert.notEqual(refused?.headers.authorization, retried?.headers.authorization);
      assertEntraOnly(retried as RecordedRequest);
    });

    it("shows auth in /healthz without the token, and is ready", async () => {
      const health = (await (await fetch(`${stack.url}/healthz`)).json()) as {
        auth: string;
        tokens: { credential: string; scope: string; expiresInSeconds: number }[];
      };
      assert.equal(health.auth, "entra");
      const [token] = health.tokens;
      assert.equal(token?.credential, "managed-identity");
      assert.equal(token?.scope, "https://cognitiveservices.azure.com/.default");
      assert.ok((token?.expiresInSeconds ?? 0) > 200);
      for (const token of issuer.issued) assert.ok(!JSON.stringify(health).includes(token));
      assert.equal((await fetch(`${stack.url}/readyz`)).status, 200);
    });
  });
}

describe("Entra ID at start-up", () => {
  it("makes one token request for 50 concurrent first requests", async () => {
    issuer.delayMs = 300;
    const fetched = issuer.requests.length;
    const stack = await startStack({
      env: ENTRA_ENV,
      emulator: { keyless: true, identity: issuer },
    });
    try {
      const sdk = client(stack.url);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          sdk.chat.completions.create({
            model: "gpt-4o",
            messages: [{ role: "user", content: "Hi" }],
          }),
        ),
      );
      assert.equal(answers.length, 50);
      assert.equal(issuer.requests.length - fetched, 1);
    } finally {
      issuer.delayMs = 0;
      await stack.close();
    }
  });

  it("is not ready and answers 502 upstream_auth_failed while no token can be had", async () => {
    issuer.failure = {
      status: 400,
      body: { error: "invalid_request", error_description: "Identity not found" },
    };
    const stack = await startStack({
      env: ENTRA_ENV,
      emulator: { keyless: true, identity: issuer },
    });
    try {
      let readyz = await fetch(`${stack.url}/readyz`);
      let readyBody = (await readyz.json()) as ErrorBody;
      for (let i = 0; i < 100 && !readyBody.error?.message?.includes("Identity not found"); i++) {
        await sleep(20);
        readyz = await fetch(`${stack.url}/readyz`);
        readyBody = (await readyz.json()) as ErrorBody;
      }
      assert.equal(readyz.status, 503);
      assert.equal(readyBody.error?.code, "upstream_auth_not_ready");
      assert.match(readyBody.error?.message ?? "", /Identity not found/);

      const refused = await fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(refused.status, 502);
      const body = (await refused.json()) as ErrorBody;
      assert.equal(body.error?.code, "upstream_auth_failed");
      assert.match(body.error?.message ?? "", /managed-identity credential: .*Identity not found/);

      issuer.failure = undefined;
      await sleep(1_100); // the failure is repeated for a second rather than asked again
      const answer = await client(stack.url).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hi" }],
      });
      assert.equal(answer.object, "chat.completion");
      assert.equal((await fetch(`${stack.url}/readyz`)).status, 200);
    } finally {
      issuer.failure = undefined;
      await stack.close();
    }
  });
});

describe("a pool of a key resource and an Entra ID resource", () => {
  let stack: PoolStack;
  before(async () => {
    stack = await startPoolStack({
      resources: { keyed: {}, keyless: { keyless: true, identity: issuer } },
      yaml: (urls) => `
resources:
  keyed: { endpoint: ${urls.keyed}, apiKey: "\${EMULATOR_KEY}" }
  keyless: { endpoint: ${urls.keyless}, auth: entra, credential: managed-identity, apiVersion: v1 }
models:
  gpt-4o:
    strategy: round-robin
    targets:
      - { resource: keyed, deployment: gpt-4o }
      - { resource: keyless, deployment: gpt-4o }
`,
      env: { AZURE_OPENAI_PROXY_API_KEYS: CLIENT_KEY },
    });
  });
  after(() => stack.close());

  it("sends each resource its own credential", async () => {
    const sdk = client(stack.url);
    for (let i = 0; i < 4; i++) {
      await sdk.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hi" }],
      });
    }
    const keyed = inference(stack.emulators.keyed?.requests ?? [], "chat/completions");
    assert.equal(keyed.headers["api-key"], "emulator-key");
    assert.equal(keyed.headers.authorization, undefined);
    assertEntraOnly(inference(stack.emulators.keyless?.requests ?? [], "chat/completions"));
  });
});

/** The SDK's realtime client insists on wss://; this test's proxy listens without TLS. */
const plainTcp = ((options: { host: string; port: number }) =>
  netConnect({ host: options.host, port: options.port })) as unknown as typeof createConnection;

describe("Realtime with Entra ID", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: ENTRA_ENV, emulator: { keyless: true, identity: issuer } });
  });
  after(() => stack.close());

  it("opens the Azure WebSocket with the token as Bearer", async () => {
    const rt = new OpenAIRealtimeWS(
      { model: "gpt-4o-realtime-preview", options: { createConnection: plainTcp } },
      client(stack.url),
    );
    const events: { type: string }[] = [];
    rt.on("event", (event) => events.push(event));
    await new Promise<void>((resolve, reject) => {
      rt.socket.once("open", () => resolve());
      rt.socket.once("error", reject);
    });
    await eventually(() => events.find((e) => e.type === "session.created"), "session.created");
    const handshake = stack.emulator.requests.findLast((r) => r.path.endsWith("/realtime"));
    assert.ok(handshake !== undefined);
    assertEntraOnly(handshake);
    rt.close();
  });

  it("opens the session with a fresh token when Azure refuses the cached one", async () => {
    issuer.rotate();
    const fetched = issuer.requests.length;
    const rt = new OpenAIRealtimeWS(
      { model: "gpt-4o-realtime-preview", options: { createConnection: plainTcp } },
      client(stack.url),
    );
    const events: { type: string }[] = [];
    rt.on("event", (event) => events.push(event));
    await new Promise<void>((resolve, reject) => {
      rt.socket.once("open", () => resolve());
      rt.socket.once("error", reject);
    });
    await eventually(() => events.find((e) => e.type === "session.created"), "session.created");
    assert.equal(issuer.requests.length, fetched + 1);
    const handshakes = stack.emulator.requests.filter((r) => r.path.endsWith("/realtime"));
    assertEntraOnly(handshakes.at(-1) as RecordedRequest);
    rt.close();
  });
});

describe("the Azure CLI credential", () => {
  it("serves with the token of whoever ran az login", async () => {
    const cli = createFakeAzureCli();
    const { token } = issuer.issue("https://cognitiveservices.azure.com");
    cli.issue(token, 3600);
    process.env.PATH = `${cli.dir}:${saved.PATH ?? ""}`;
    const stack = await startStack({
      env: { ...ENTRA_ENV, AZURE_OPENAI_ENTRA_CREDENTIAL: "cli" },
      emulator: { keyless: true, identity: issuer },
    });
    try {
      const answer = await client(stack.url).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hello" }],
      });
      assert.equal(answer.object, "chat.completion");
      const sent = inference(stack.emulator.requests, "chat/completions");
      assert.equal(sent.headers.authorization, `Bearer ${token}`);
      assert.deepEqual(cli.calls(), [
        "account get-access-token --output json --resource https://cognitiveservices.azure.com",
      ]);
    } finally {
      process.env.PATH = saved.PATH;
      await stack.close();
    }
  });
});
