import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translateAzureError } from "../../src/proxy/azure-errors.ts";

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("translateAzureError", () => {
  it("keeps Azure's code and message in OpenAI's shape", () => {
    const out = translateAzureError(
      404,
      body({
        error: { code: "DeploymentNotFound", message: "The API deployment does not exist." },
      }),
    );
    assert.deepEqual(out, {
      error: {
        message: "The API deployment does not exist.",
        type: "invalid_request_error",
        param: null,
        code: "DeploymentNotFound",
      },
    });
  });

  it("keeps content filter details beside the four fields", () => {
    const innererror = {
      code: "ResponsibleAIPolicyViolation",
      content_filter_result: { hate: { filtered: true, severity: "high" } },
    };
    const out = translateAzureError(
      400,
      body({
        error: {
          message: "filtered",
          type: null,
          param: "prompt",
          code: "content_filter",
          status: 400,
          innererror,
        },
      }),
    );
    assert.equal(out.error.code, "content_filter");
    assert.equal(out.error.param, "prompt");
    assert.equal(out.error.type, "invalid_request_error");
    assert.deepEqual(out.error.innererror, innererror);
  });

  it("turns numeric codes into strings and picks the type from the status", () => {
    const out = translateAzureError(429, body({ error: { code: 429, message: "slow down" } }));
    assert.equal(out.error.code, "429");
    assert.equal(out.error.type, "rate_limit_error");
  });

  it("reads API Management's shape", () => {
    const out = translateAzureError(401, body({ statusCode: 401, message: "Access denied" }));
    assert.equal(out.error.message, "Access denied");
    assert.equal(out.error.code, "401");
    assert.equal(out.error.type, "authentication_error");
  });

  it("wraps a gateway's plain text", () => {
    const out = translateAzureError(502, Buffer.from("<html>Bad Gateway</html>"));
    assert.equal(out.error.message, "<html>Bad Gateway</html>");
    assert.equal(out.error.type, "server_error");
    assert.equal(out.error.code, "502");
  });
});
