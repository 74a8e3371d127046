import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildAzureUrl, buildUpstreamHeaders } from "../../src/azure/request.ts";
import { ProxyError } from "../../src/openai/errors.ts";
import type { Operation } from "../../src/openai/operations.ts";
import { FORWARD_ANY, OPERATIONS } from "../../src/openai/operations.ts";

const chat = OPERATIONS.find((o) => o.id === "chat.completions") as Operation;
const dated = {
  endpoint: "https://r.openai.azure.com",
  apiStyle: "dated",
  apiVersion: "2025-04-01-preview",
} as const;
const v1 = { endpoint: "https://r.openai.azure.com", apiStyle: "v1", apiVersion: "" } as const;
const files: Operation = {
  id: "files.retrieve",
  method: "GET",
  path: "/files/:file_id",
  scope: "resource",
  model: "none",
  azurePath: "files/{file_id}",
};

describe("buildAzureUrl", () => {
  it("puts the deployment in the path with api-version in the dated style", () => {
    assert.equal(
      buildAzureUrl(dated, chat, "gpt-35-turbo", {}, ""),
      "https://r.openai.azure.com/openai/deployments/gpt-35-turbo/chat/completions?api-version=2025-04-01-preview",
    );
  });

  it("uses /openai/v1 without api-version in the v1 style", () => {
    assert.equal(
      buildAzureUrl(v1, chat, "gpt-35-turbo", {}, ""),
      "https://r.openai.azure.com/openai/v1/chat/completions",
    );
    assert.equal(
      buildAzureUrl({ ...v1, apiVersion: "preview" }, chat, "d", {}, ""),
      "https://r.openai.azure.com/openai/v1/chat/completions?api-version=preview",
    );
  });

  it("encodes the deployment so it stays one path segment", () => {
    const url = buildAzureUrl(dated, chat, "a b:c", {}, "");
    assert.match(url, /\/deployments\/a%20b%3Ac\/chat\/completions\?/);
  });

  it("addresses resource-scoped operations without a deployment, encoding parameters", () => {
    assert.equal(
      buildAzureUrl(dated, files, undefined, { file_id: "file/../x" }, ""),
      "https://r.openai.azure.com/openai/files/file%2F..%2Fx?api-version=2025-04-01-preview",
    );
  });

  it("keeps the client's query but sets api-version itself", () => {
    assert.equal(
      buildAzureUrl(dated, files, undefined, { file_id: "f" }, "limit=2&api-version=1999-01-01"),
      "https://r.openai.azure.com/openai/files/f?api-version=2025-04-01-preview&limit=2",
    );
  });
});

describe("buildAzureUrl for the rest of the surface", () => {
  const op = (id: string) => OPERATIONS.find((o) => o.id === id) as Operation;

  it("sends resource-scoped rows to /openai/{path} (dated) and /openai/v1/{path} (v1)", () => {
    const retrieve = op("GET /v1/files/:file_id");
    assert.equal(
      buildAzureUrl(dated, retrieve, undefined, { file_id: "file-1" }, ""),
      "https://r.openai.azure.com/openai/files/file-1?api-version=2025-04-01-preview",
    );
    assert.equal(
      buildAzureUrl(v1, retrieve, undefined, { file_id: "file-1" }, "a=b"),
      "https://r.openai.azure.com/openai/v1/files/file-1?a=b",
    );
  });

  it("keeps Responses resource-scoped even though its body names a deployment", () => {
    assert.equal(
      buildAzureUrl(dated, op("POST /v1/responses"), "gpt-4o", {}, ""),
      "https://r.openai.azure.com/openai/responses?api-version=2025-04-01-preview",
    );
  });

  it("puts the realtime deployment in the query: deployment= (dated), model= (v1)", () => {
    const realtime = op("realtime");
    assert.equal(
      buildAzureUrl(dated, realtime, "rt-dep", {}, "model=gpt-4o-realtime-preview"),
      "https://r.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=rt-dep",
    );
    assert.equal(
      buildAzureUrl(v1, realtime, "rt-dep", {}, "model=gpt-4o-realtime-preview"),
      "https://r.openai.azure.com/openai/v1/realtime?model=rt-dep",
    );
  });

  it("lists deployments with the authoring api-version in either style", () => {
    assert.equal(
      buildAzureUrl(v1, op("deployments.list"), undefined, {}, ""),
      "https://r.openai.azure.com/openai/deployments?api-version=2022-12-01",
    );
  });

  it("refuses a path parameter of . or .., which a server would resolve", () => {
    for (const file_id of [".", ".."]) {
      assert.throws(
        () => buildAzureUrl(dated, op("GET /v1/files/:file_id"), undefined, { file_id }, ""),
        (e: unknown) => e instanceof ProxyError && e.status === 400,
      );
    }
  });

  it("forwards any other /v1 path resource-scoped, segment by segment, refusing dot segments", () => {
    assert.equal(
      buildAzureUrl(dated, FORWARD_ANY, undefined, { "*": "evals/ev 1/runs" }, ""),
      "https://r.openai.azure.com/openai/evals/ev%201/runs?api-version=2025-04-01-preview",
    );
    assert.throws(
      () => buildAzureUrl(v1, FORWARD_ANY, undefined, { "*": "../../admin/./x" }, ""),
      (error: ProxyError) => error.status === 400 && error.code === "invalid_path_parameter",
    );
  });
});

describe("buildUpstreamHeaders", () => {
  it("drops hop-by-hop headers and the client's credentials, and adds the proxy's", () => {
    const headers = buildUpstreamHeaders(
      {
        host: "proxy",
        connection: "keep-alive",
        authorization: "Bearer client",
        "api-key": "client",
        "content-type": "application/json",
        "openai-beta": "assistants=v2",
        "accept-encoding": "gzip",
        "content-length": "10",
      },
      { header: "api-key", value: "server" },
      42,
    );
    assert.deepEqual(headers, {
      "content-type": "application/json",
      "openai-beta": "assistants=v2",
      "accept-encoding": "identity",
      "api-key": "server",
      "content-length": "42",
    });
  });

  it("drops headers the client's Connection names and every forwarding claim", () => {
    const headers = buildUpstreamHeaders(
      {
        connection: "keep-alive, X-Hop",
        "x-hop": "1",
        forwarded: "for=10.0.0.1;host=evil.example",
        "x-forwarded-for": "10.0.0.1",
        "x-forwarded-host": "evil.example",
        "x-original-url": "/admin",
        "x-rewrite-url": "/admin",
        "x-real-ip": "10.0.0.1",
        "x-stainless-lang": "js",
      },
      undefined,
      undefined,
    );
    assert.deepEqual(headers, { "x-stainless-lang": "js", "accept-encoding": "identity" });
  });
});

describe("buildUpstreamHeaders and Anthropic's key header", () => {
  it("never forwards a client's x-api-key upstream", () => {
    const headers = buildUpstreamHeaders(
      { "x-api-key": "client-secret", "anthropic-beta": "x" },
      undefined,
      0,
    );
    assert.equal(headers["x-api-key"], undefined);
    assert.equal(headers["anthropic-beta"], "x");
  });
});
