import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AzureConfig } from "../../src/config/config.ts";
import { ConfigError, readConfig } from "../../src/config/env.ts";
import { parseTopology, TopologyError } from "../../src/config/topology.ts";

const endpoint = { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" };

describe("TLS settings", () => {
  it("serves plain HTTP unless both PEM files are named", () => {
    assert.equal(readConfig(endpoint).tls, undefined);
    const config = readConfig({
      ...endpoint,
      AZURE_OPENAI_PROXY_TLS_CERT: "/etc/tls/tls.crt",
      AZURE_OPENAI_PROXY_TLS_KEY: "/etc/tls/tls.key",
    });
    assert.deepEqual(config.tls, { certFile: "/etc/tls/tls.crt", keyFile: "/etc/tls/tls.key" });
  });

  it("names the missing half of the pair", () => {
    assert.throws(
      () => readConfig({ ...endpoint, AZURE_OPENAI_PROXY_TLS_CERT: "/etc/tls/tls.crt" }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems[0] ===
          "AZURE_OPENAI_PROXY_TLS_KEY: required with AZURE_OPENAI_PROXY_TLS_CERT (the PEM private key for HTTPS)",
    );
  });

  const azure: AzureConfig = {
    endpoint: "https://r.openai.azure.com",
    apiStyle: "dated",
    apiVersion: "2025-04-01-preview",
    apiKey: undefined,
    emulator: false,
  };

  it("reads tls: from the configuration file, relative to the file", async () => {
    const topology = await parseTopology(
      "tls:\n  cert: certs/tls.crt\n  key: /etc/tls/tls.key\n",
      "/srv/proxy/proxy.yaml",
      azure,
      {},
    );
    assert.deepEqual(topology.tls, {
      certFile: "/srv/proxy/certs/tls.crt",
      keyFile: "/etc/tls/tls.key",
    });
  });

  it("names a bad tls: field", async () => {
    await assert.rejects(
      parseTopology("tls:\n  cert: a.crt\n  chain: b.pem\n", "/srv/proxy.yaml", azure, {}),
      (error: unknown) =>
        error instanceof TopologyError &&
        error.problems.join("|") ===
          "tls.chain: unknown field (expected cert, key)|tls.key: required with tls.cert (the PEM private key for HTTPS)",
    );
  });
});
