import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError, readConfig } from "../../src/config/env.ts";
import {
  type FakeUpstream,
  rawRequest,
  startFakeUpstream,
  startTestProxy,
  type TestProxy,
} from "./harness.ts";

const get = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: proxy.example\r\nConnection: close\r\n\r\n`;
const chat = (model: string) => {
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] });
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: proxy.example\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
};

describe("path tricks in azure mode", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });
  const inference = () =>
    upstream.received.filter(
      (r) => r.url !== "/openai/deployments" && !r.url.startsWith("/openai/deployments?"),
    );

  for (const model of [".", "...", "..", "../x", "a/b", "a%2fb", "x\\y"]) {
    it(`refuses the model name ${JSON.stringify(model)} with 400 before calling Azure`, async () => {
      const before = inference().length;
      const answer = await rawRequest(proxy.port, chat(model));
      assert.equal(answer.status, 400, answer.raw);
      assert.equal(JSON.parse(answer.body).error.code, "invalid_model");
      assert.equal(inference().length, before, "nothing reached Azure");
    });
  }

  for (const path of [
    "/v1/things/./other",
    "/v1/things/../../openai/deployments",
    "/v1/things/%2e%2e/%2E%2E/etc/passwd",
    "/v1/things/%2e/other",
    "/v1/..",
    "/v1/things/a%2F..%2Fb/c",
  ]) {
    it(`answers 400 for the dot segment in ${path} instead of dropping it`, async () => {
      const before = inference().length;
      const answer = await rawRequest(proxy.port, get(path));
      assert.equal(answer.status, 400, answer.raw);
      assert.equal(JSON.parse(answer.body).error.code, "invalid_path_parameter");
      assert.equal(inference().length, before, "nothing reached Azure");
    });
  }

  for (const [path, expected] of [
    ["/v1/files/a%2Fb", "/openai/files/a%2Fb"],
    ["/v1/files/a%5Cb", "/openai/files/a%5Cb"],
    ["/v1/things/x%3Fapi-version%3D1/y", "/openai/things/x%3Fapi-version%3D1/y"],
  ] as const) {
    it(`keeps an encoded slash, backslash or query in ${path} inside one segment`, async () => {
      const answer = await rawRequest(proxy.port, get(path));
      assert.equal(answer.status, 200, answer.raw);
      const sent = upstream.received.at(-1);
      assert.equal(sent?.url.split("?")[0], expected);
    });
  }
});

describe("deployment names in the configuration", () => {
  for (const deployment of ["..", ".", "a/../b", "a%2fb"]) {
    it(`refuses the mapped deployment ${JSON.stringify(deployment)} at start-up`, () => {
      assert.throws(
        () =>
          readConfig({
            AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
            AZURE_OPENAI_MODEL_MAPPER: `gpt-4o=${deployment}`,
          }),
        (e: ConfigError) =>
          e instanceof ConfigError &&
          e.problems.some((p) => p.startsWith("AZURE_OPENAI_MODEL_MAPPER")),
      );
    });
  }
});
