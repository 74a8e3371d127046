import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientIdentifier } from "../../src/clients/authenticate.ts";
import { type ClientConfig, keyDigest, UNRESTRICTED } from "../../src/config/clients.ts";
import { ProxyError } from "../../src/openai/errors.ts";

const teamA: ClientConfig = {
  name: "team-a",
  keyDigest: keyDigest("sk-team-a"),
  policy: {
    models: new Set(["gpt-4o"]),
    limits: { rpm: 5, tpm: undefined, tokensPerDay: undefined },
  },
};
const clients = new Map([["team-a", teamA]]);

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 401);
    return error.code;
  }
  assert.fail("expected a 401");
}

describe("clientIdentifier", () => {
  it("names the client whose key was presented, with its policy", () => {
    const identify = clientIdentifier(clients, ["legacy-key"]);
    const who = identify("sk-team-a");
    assert.equal(who.name, "team-a");
    assert.equal(who.policy, teamA.policy);
  });

  it("treats AZURE_OPENAI_PROXY_API_KEYS keys as anonymous clients without limits", () => {
    const identify = clientIdentifier(clients, ["legacy-key"]);
    assert.deepEqual(identify("legacy-key"), { name: "anonymous", policy: UNRESTRICTED });
  });

  it("answers 401 for a wrong key of any length, and for none", () => {
    const identify = clientIdentifier(clients, ["legacy-key"]);
    assert.equal(
      codeOf(() => identify("sk-team-b")),
      "invalid_api_key",
    );
    assert.equal(
      codeOf(() => identify("x".repeat(5000))),
      "invalid_api_key",
    );
    assert.equal(
      codeOf(() => identify(undefined)),
      "missing_api_key",
    );
  });

  it("lets everyone in as anonymous when no keys are configured", () => {
    const identify = clientIdentifier(new Map(), []);
    assert.equal(identify(undefined).name, "anonymous");
    assert.equal(identify("an-azure-key").name, "anonymous");
  });
});
