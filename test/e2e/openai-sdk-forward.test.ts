import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";

const PROXY_KEY = "proxy-client-key-9";

/** Runs forward-app.ts in its own process, with only the environment an operator would set. */
function runApp(
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(import.meta.dirname, "forward-app.ts")],
      {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
        encoding: "utf8",
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("an unchanged OpenAI SDK app through HTTPS_PROXY", () => {
  const dir = mkdtempSync(join(tmpdir(), "oai-forward-sdk-"));
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: {
        AZURE_OPENAI_PROXY_FORWARD: "on",
        AZURE_OPENAI_PROXY_CA_DIR: dir,
        AZURE_OPENAI_PROXY_API_KEYS: PROXY_KEY,
        AZURE_OPENAI_API_KEY: EMULATOR_KEY,
      },
    });
  });
  after(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("chats, streams, uploads a transcription and lists models against Azure with no base URL", async () => {
    const result = await runApp({
      NODE_USE_ENV_PROXY: "1",
      HTTPS_PROXY: stack.url.replace("http://", `http://app:${PROXY_KEY}@`),
      NODE_EXTRA_CA_CERTS: join(dir, "ca.pem"),
      OPENAI_API_KEY: "sk-not-a-real-openai-key",
    });
    assert.equal(result.code, 0, result.stderr);
    const got = JSON.parse(result.stdout) as {
      baseURL: string;
      chat: string;
      streamed: string;
      chunks: number;
      transcription: string;
      models: string[];
    };
    assert.equal(got.baseURL, "https://api.openai.com/v1");
    assert.ok(got.chat.length > 0);
    assert.ok(got.chunks > 1, "the answer arrived in several chunks");
    assert.equal(got.streamed, got.chat, "the emulator answers the same prompt the same way");
    assert.ok(got.transcription.length > 0);
    assert.ok(got.models.includes("gpt-4o"), got.models.join(", "));

    const posts = stack.emulator.requests.filter((r) => r.method === "POST");
    assert.deepEqual(
      posts.map((r) => r.path),
      [
        "/openai/deployments/gpt-4o/chat/completions",
        "/openai/deployments/gpt-4o/chat/completions",
        "/openai/deployments/whisper/audio/transcriptions",
      ],
    );
    for (const request of posts) assert.equal(request.headers["api-key"], EMULATOR_KEY);
    assert.equal(posts[2]?.multipart?.files[0]?.size, 4096);
  });

  it("fails the handshake, and says why in the log, for an app that does not trust the CA", async () => {
    const result = await runApp({
      NODE_USE_ENV_PROXY: "1",
      HTTPS_PROXY: stack.url.replace("http://", `http://app:${PROXY_KEY}@`),
      OPENAI_API_KEY: "sk-not-a-real-openai-key",
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /certificate/i);
    // The proxy sees the hang-up a moment after the app has exited.
    const hinted = () => stack.logs.some((l) => l.includes("may not trust the proxy's CA"));
    for (let i = 0; i < 100 && !hinted(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(
      hinted(),
      `no log line hints at the CA: ${stack.logs.slice(-5).join("")} ${result.stderr}`,
    );
  });
});
