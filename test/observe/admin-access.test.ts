import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkAdminAccess } from "../../src/observe/admin-access.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("access to the operator's pages", () => {
  it("is open when no clients are configured and no admin key is set", () => {
    assert.equal(checkAdminAccess({}, undefined, false), undefined);
  });

  it("stays closed when clients are configured but no admin key is set", () => {
    const error = checkAdminAccess({ authorization: `Bearer ${KEY}` }, undefined, true);
    assert.equal(error?.status, 403);
    assert.equal(error?.code, "admin_key_not_set");
    assert.match(error?.message ?? "", /AZURE_OPENAI_PROXY_ADMIN_KEY/);
  });

  it("takes the admin key as a bearer token or as a browser's basic-auth password", () => {
    assert.equal(checkAdminAccess({ authorization: `Bearer ${KEY}` }, KEY, true), undefined);
    assert.equal(checkAdminAccess({ authorization: basic("admin", KEY) }, KEY, true), undefined);
    assert.equal(checkAdminAccess({ authorization: basic("", KEY) }, KEY, false), undefined);
  });

  it("asks the browser for the key when it is missing or wrong", () => {
    for (const authorization of [undefined, "Bearer nope", basic("admin", "nope"), "Bearer"]) {
      const error = checkAdminAccess({ authorization }, KEY, true);
      assert.equal(error?.status, 401, String(authorization));
      assert.equal(error?.code, "admin_key_required");
      assert.match(error?.headers["www-authenticate"] ?? "", /^Basic realm=/);
    }
  });
});
