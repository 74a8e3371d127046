import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { absoluteFormTarget } from "../../src/forward/absolute-form.ts";

describe("absoluteFormTarget", () => {
  it("turns a proxy request line into the host and the origin-form path", () => {
    assert.deepEqual(absoluteFormTarget("http://API.openai.com/v1/chat/completions?x=1"), {
      host: "api.openai.com",
      authority: "api.openai.com",
      path: "/v1/chat/completions?x=1",
    });
  });

  it("keeps a port in the authority and gives / for an empty path", () => {
    assert.deepEqual(absoluteFormTarget("http://api.openai.com:80"), {
      host: "api.openai.com",
      authority: "api.openai.com",
      path: "/",
    });
    assert.deepEqual(absoluteFormTarget("http://[::1]:8080?q"), {
      host: "::1",
      authority: "[::1]:8080",
      path: "/?q",
    });
  });

  it("keeps the path as sent, dot segments included, for the router to judge", () => {
    assert.equal(absoluteFormTarget("http://api.openai.com/v1/../admin")?.path, "/v1/../admin");
  });

  it("leaves origin-form requests alone", () => {
    assert.equal(absoluteFormTarget("/v1/models"), undefined);
    assert.equal(absoluteFormTarget("*"), undefined);
    assert.equal(absoluteFormTarget("ftp://api.openai.com/"), undefined);
  });
});
