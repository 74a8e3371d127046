import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EMULATOR_KEY, startStack } from "../helpers/stack.ts";

/** The start-up warnings about resources a proxy logged (waits a little for the check). */
async function resourceWarnings(logs: string[]): Promise<string[]> {
  for (let i = 0; i < 40; i++) {
    const found = logs.filter((l) => l.includes('"resource"') && l.includes('"level":40'));
    if (found.length > 0 || i === 39) return found;
    await sleep(50);
  }
  return [];
}

describe("the start-up check of each resource", () => {
  it("warns once, naming the fix, when Azure refuses the server-held key", async () => {
    const stack = await startStack({ env: { AZURE_OPENAI_API_KEY: "not-the-key" } });
    try {
      const warnings = await resourceWarnings(stack.logs);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /refused its API key \(401\): check the key/);
      assert.doesNotMatch(warnings.join(""), /not-the-key/);
    } finally {
      await stack.close();
    }
  });

  it("warns when the endpoint cannot be reached", async () => {
    const stack = await startStack({
      env: { AZURE_OPENAI_API_KEY: EMULATOR_KEY, AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9" },
    });
    try {
      const warnings = await resourceWarnings(stack.logs);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /cannot be reached \(ECONNREFUSED\)/);
    } finally {
      await stack.close();
    }
  });

  it("warns when the resource answers 404, saying what the endpoint should look like", async () => {
    const stack = await startStack({
      env: { AZURE_OPENAI_API_KEY: EMULATOR_KEY },
      emulator: { listDeployments: false },
    });
    try {
      const warnings = await resourceWarnings(stack.logs);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /answered 404 .*without a path/);
    } finally {
      await stack.close();
    }
  });

  it("stays quiet when the resource answers", async () => {
    const stack = await startStack({ env: { AZURE_OPENAI_API_KEY: EMULATOR_KEY } });
    try {
      assert.deepEqual(await resourceWarnings(stack.logs), []);
    } finally {
      await stack.close();
    }
  });
});
