import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { proxyCredential } from "../../src/forward/proxy-authorization.ts";

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString("base64")}`;

describe("proxyCredential", () => {
  it("takes the key from the password of Basic, as HTTPS_PROXY=http://user:KEY@host sends it", () => {
    assert.deepEqual(proxyCredential(basic("anything:sk-proxy-1")), {
      kind: "key",
      key: "sk-proxy-1",
    });
  });

  it("takes the user name when the password is empty (HTTPS_PROXY=http://KEY@host)", () => {
    assert.deepEqual(proxyCredential(basic("sk-proxy-1:")), { kind: "key", key: "sk-proxy-1" });
  });

  it("takes the key of Bearer", () => {
    assert.deepEqual(proxyCredential("bearer sk-proxy-1"), { kind: "key", key: "sk-proxy-1" });
  });

  it("says when there is none", () => {
    assert.deepEqual(proxyCredential(undefined), { kind: "none" });
    assert.deepEqual(proxyCredential("  "), { kind: "none" });
  });

  it("calls anything else malformed", () => {
    for (const header of ["Digest x", "Basic", basic("no-colon"), basic(":"), "Bearer a b"]) {
      assert.deepEqual(proxyCredential(header), { kind: "malformed" }, header);
    }
  });
});
