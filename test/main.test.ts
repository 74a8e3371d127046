import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
const baseEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };

/** Waits for a line of stdout matching `pattern`. */
async function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let seen = "";
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    seen += chunk.toString();
    const match = pattern.exec(seen);
    if (match) return match;
  }
  throw new Error(`process ended without printing ${pattern}: ${seen}`);
}

describe("npm start", () => {
  it("refuses to start in production without an endpoint, naming the variable", async () => {
    const run = promisify(execFile)(process.execPath, [MAIN], {
      env: { ...baseEnv, NODE_ENV: "production" },
      cwd: "/tmp",
    });
    await assert.rejects(run, (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /AZURE_OPENAI_ENDPOINT: required/);
      return true;
    });
  });

  it("names a bad variable and exits 1", async () => {
    const run = promisify(execFile)(process.execPath, [MAIN], {
      env: { ...baseEnv, AZURE_OPENAI_MODEL_MAPPER: "gpt-4o" },
      cwd: "/tmp",
    });
    await assert.rejects(run, (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /AZURE_OPENAI_MODEL_MAPPER: entry "gpt-4o"/);
      return true;
    });
  });

  it("without an endpoint starts the emulator, prints a curl that works, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...baseEnv, AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0", LOG_LEVEL: "info" },
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [, url, body] = await waitForOutput(child, /curl -N (\S+) .* -d '([^']+)'/);
      const healthz = (await (await fetch(new URL("/healthz", url)).then((r) => r)).json()) as {
        upstream: string;
        warning: string;
      };
      assert.equal(healthz.upstream, "emulator");
      assert.match(healthz.warning, /emulator/);
      const response = await fetch(url as string, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.match(text, /"delta":\{"content":/);
      assert.match(text, /data: \[DONE\]/);
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });
});

describe("npm start, when the port is taken", () => {
  it("says which address is taken and exits 1", async () => {
    const { createServer } = await import("node:net");
    const blocker = createServer().listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const { port } = blocker.address() as { port: number };
    try {
      const run = promisify(execFile)(process.execPath, [MAIN], {
        env: { ...baseEnv, AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}` },
        cwd: "/tmp",
      });
      await assert.rejects(run, (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(
          error.stderr,
          new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`),
        );
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});

describe("the Docker image's command, run directly", () => {
  it("starts in production with an endpoint, reports healthy, and exits 0 on SIGTERM", async () => {
    const { startEmulator } = await import("@azure-oai-proxy/emulator");
    const emulator = await startEmulator();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...baseEnv,
        NODE_ENV: "production",
        AZURE_OPENAI_ENDPOINT: emulator.url,
        AZURE_OPENAI_API_KEY: "emulator-key",
        AZURE_OPENAI_PROXY_API_KEYS: "client-key",
        AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
      },
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [, url] = await waitForOutput(child, /"url":"(http:\/\/[^"]+)"/);
      const health = (await (await fetch(`${url}/healthz`)).json()) as { upstream: string };
      assert.equal(health.upstream, "azure");
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer client-key" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(response.status, 200);
    } finally {
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
      await emulator.close();
    }
  });
});
