import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildAzureUrl, buildUpstreamHeaders } from "../../src/azure/request.ts";
import type { Operation } from "../../src/openai/operations.ts";
import { OPERATIONS } from "../../src/openai/operations.ts";

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
});
