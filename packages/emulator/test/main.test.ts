import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { EmulatorConfigError, emulatorOptionsFrom } from "../src/main.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

describe("emulator command line", () => {
  it("reads host, port and keys from the environment, with defaults", () => {
    assert.deepEqual(emulatorOptionsFrom([], {}), {
      host: "127.0.0.1",
      port: 11438,
      apiKeys: ["emulator-key"],
    });
    assert.deepEqual(
      emulatorOptionsFrom([], {
        EMULATOR_HOST: "0.0.0.0",
        EMULATOR_PORT: "9000",
        EMULATOR_API_KEYS: "a, b",
      }),
      { host: "0.0.0.0", port: 9000, apiKeys: ["a", "b"] },
    );
    assert.deepEqual(emulatorOptionsFrom([], { EMULATOR_API_KEYS: "*" }), {
      host: "127.0.0.1",
      port: 11438,
      apiKeys: [],
    });
  });

  it("lets flags win over the environment", () => {
    const options = emulatorOptionsFrom(["--port", "0", "--api-keys", "x"], {
      EMULATOR_PORT: "9000",
    });
    assert.deepEqual(options, { host: "127.0.0.1", port: 0, apiKeys: ["x"] });
  });

  it("names the variable or flag that is wrong", () => {
    assert.throws(() => emulatorOptionsFrom([], { EMULATOR_PORT: "http" }), {
      name: "EmulatorConfigError",
      message: /EMULATOR_PORT must be a port number/,
    });
    assert.throws(
      () => emulatorOptionsFrom(["--port", "70000"], {}),
      /--port must be a port number/,
    );
    assert.throws(() => emulatorOptionsFrom([], { EMULATOR_API_KEYS: " , " }), /EMULATOR_API_KEYS/);
    assert.throws(() => emulatorOptionsFrom(["--nope"], {}), EmulatorConfigError);
  });

  it("exits with a message naming the variable when a setting is wrong", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, EMULATOR_PORT: "nope" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");
    assert.equal(code, 1);
    assert.match(stderr, /EMULATOR_PORT must be a port number from 0 to 65535, got \\"nope\\"/);
  });

  it("runs alone, logs its URL with a curl example, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, EMULATOR_PORT: "0", EMULATOR_API_KEYS: "cli-key" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [line] = (await once(child.stdout, "data")) as [Buffer];
      const log = JSON.parse(line.toString().split("\n")[0] ?? "");
      assert.match(log.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(log.try, /^curl .*api-key: cli-key/);
      const res = await fetch(`${log.url}/openai/v1/models`, { headers: { "api-key": "cli-key" } });
      assert.equal(res.status, 200);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
