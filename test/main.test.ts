import assert from "node:assert/strict";
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("says what is wrong with the forward-mode CA folder and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "oai-main-ca-"));
    writeFileSync(join(dir, "ca.pem"), "not a certificate");
    const run = promisify(execFile)(process.execPath, [MAIN], {
      env: {
        ...baseEnv,
        AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
        AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
        AZURE_OPENAI_PROXY_FORWARD: "on",
        AZURE_OPENAI_PROXY_CA_DIR: dir,
      },
      cwd: "/tmp",
    });
    try {
      await assert.rejects(run, (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(
          error.stderr,
          /^azure-oai-proxy: .*ca\.pem is there but .*ca-key\.pem is not/m,
        );
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

describe("npm start, when its log reader goes away", () => {
  it("still stops on SIGTERM, with exit 0", { timeout: 20_000 }, async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...baseEnv, AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0", LOG_LEVEL: "info" },
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [, url] = await waitForOutput(child, /curl -N (\S+)\/v1\//);
    // The reader closes the pipe: every later log line meets EPIPE.
    child.stdout?.destroy();
    for (let i = 0; i < 3; i++) await (await fetch(`${url}/healthz`)).text();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    child.kill("SIGTERM");
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

describe("azure-oai-proxy flags", () => {
  const BIN = new URL("../bin/azure-oai-proxy.js", import.meta.url).pathname;
  const run = (args: string[], node = process.execPath) =>
    promisify(execFile)(node, [BIN, ...args], { env: baseEnv, cwd: "/tmp", timeout: 20_000 });

  it("--help prints usage with the flags and the settings, and exits 0 without starting", async () => {
    const { stdout } = await run(["--help"]);
    assert.match(stdout, /^azure-oai-proxy \d+\.\d+\.\d+/);
    assert.match(stdout, /--config FILE/);
    assert.match(stdout, /AZURE_OPENAI_ENDPOINT/);
    assert.match(stdout, /AZURE_OPENAI_PROXY_ADDRESS {3}\[default: 0\.0\.0\.0:11437/);
  });

  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    const { stdout } = await run(["--version"]);
    assert.equal(stdout, `${version}\n`);
  });

  it("refuses an unknown flag with exit 2, naming it", async () => {
    await assert.rejects(
      run(["--conifg", "proxy.yaml"]),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr, /unknown flag "--conifg"/);
        return true;
      },
    );
  });

  it("logs a warning naming the closest setting for a mistyped variable", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...baseEnv, AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0", AZURE_OPENAI_ENDPIONT: "x" },
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [line] = await waitForOutput(child, /.*AZURE_OPENAI_ENDPIONT.*/);
      assert.match(line, /"level":40/);
      assert.match(line, /did you mean AZURE_OPENAI_ENDPOINT\?/);
    } finally {
      child.kill("SIGTERM");
    }
    await once(child, "exit");
  });

  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
    if (!existsSync(path)) return false;
    const [major = 0, minor = 0] = execFileSync(path, ["-p", "process.versions.node"])
      .toString()
      .split(".")
      .map(Number);
    return major < 22 || (major === 22 && minor < 18);
  });
  it("on a Node too old for the TypeScript sources, says which Node is needed", {
    skip: oldNode === undefined && "no Node older than 22.18 on this machine",
  }, async () => {
    await assert.rejects(run(["--help"], oldNode), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /needs Node\.js 22\.18 or newer/);
      assert.doesNotMatch(error.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
      return true;
    });
  });
});

describe("npm start with a configuration file", () => {
  it("reports every problem of the file at once, client-key rules included, and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aop-config-"));
    const file = join(dir, "proxy.yaml");
    writeFileSync(
      file,
      [
        "resources:",
        "  eastus: { endpoint: https://e.openai.azure.com }",
        "  sweden: { endpoint: 'https://s.openai.azure.com/openai/deployments/gpt-4o', apiKey: k }",
        "models:",
        "  gpt-4o:",
        "    targets: [{ resource: sweden, deployment: gpt-4o }]",
        "",
      ].join("\n"),
    );
    const run = promisify(execFile)(process.execPath, [MAIN, "--config", file], {
      env: {
        ...baseEnv,
        AZURE_OPENAI_PROXY_API_KEYS: "team",
        AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
      },
      cwd: "/tmp",
      timeout: 20_000,
    });
    await assert.rejects(run, (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /resources\.eastus\.apiKey: required/);
      assert.match(
        error.stderr,
        /resources\.sweden\.endpoint: .*set https:\/\/s\.openai\.azure\.com /,
      );
      assert.doesNotMatch(error.stderr, /unknown resource/);
      return true;
    });
  });
});

describe("keyless Azure and HTTPS from the command line", () => {
  it("reaches a keyless resource with managed identity and warns that no client keys are set", async () => {
    const { startEmulator } = await import("@azure-oai-proxy/emulator");
    const emulator = await startEmulator({ keyless: true });
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...baseEnv,
        ...emulator.identity.env(),
        AZURE_OPENAI_ENDPOINT: emulator.url,
        AZURE_OPENAI_AUTH: "entra",
        AZURE_OPENAI_ENTRA_CREDENTIAL: "managed-identity",
        AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
      },
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      // The warning comes before the line that says where the proxy listens.
      const [, url] = await waitForOutput(
        child,
        /Microsoft Entra ID identity .* no client keys are set[\s\S]*"url":"(http:\/\/[^"]+)"/,
      );
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(response.status, 200);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
      await emulator.close();
    }
  });

  it("serves HTTPS to a client that trusts the CA through NODE_EXTRA_CA_CERTS", async () => {
    const { makeTestCa, issueCertificate } = await import("./helpers/test-certificates.ts");
    const ca = makeTestCa();
    const certificate = issueCertificate(ca);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...baseEnv,
        AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
        AZURE_OPENAI_PROXY_TLS_CERT: certificate.certFile,
        AZURE_OPENAI_PROXY_TLS_KEY: certificate.keyFile,
      },
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [, url] = await waitForOutput(child, /"url":"(https:\/\/[^"]+)"/);
      const client = await promisify(execFile)(
        process.execPath,
        [
          "-e",
          `fetch(${JSON.stringify(`${url}/healthz`)}).then((r) => r.json()).then((b) => console.log(b.status))`,
        ],
        { env: { ...baseEnv, NODE_EXTRA_CA_CERTS: ca.certFile } },
      );
      assert.equal(client.stdout.trim(), "ok");
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });

  it("refuses to start with a key that does not match the certificate, naming both files", async () => {
    const { makeTestCa, issueCertificate } = await import("./helpers/test-certificates.ts");
    const ca = makeTestCa();
    const one = issueCertificate(ca);
    const other = issueCertificate(ca);
    const run = promisify(execFile)(process.execPath, [MAIN], {
      env: {
        ...baseEnv,
        AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
        AZURE_OPENAI_PROXY_TLS_CERT: one.certFile,
        AZURE_OPENAI_PROXY_TLS_KEY: other.keyFile,
      },
      cwd: "/tmp",
    });
    await assert.rejects(run, (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.ok(error.stderr.includes(one.certFile) && error.stderr.includes(other.keyFile));
      assert.match(error.stderr, /the key does not belong to the certificate/);
      return true;
    });
  });
});
