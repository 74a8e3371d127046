import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, readConfig } from "../../src/config/env.ts";
import { parseHostPort } from "../../src/config/forward.ts";

const ENDPOINT = { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" };

function problems(env: Record<string, string>): string[] {
  try {
    readConfig({ ...ENDPOINT, ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  assert.fail("expected a ConfigError");
}

describe("forward-mode settings", () => {
  it("are off by default, intercept api.openai.com and keep the CA in .azure-oai-proxy/", () => {
    const { forward } = readConfig(ENDPOINT);
    assert.equal(forward.enabled, false);
    assert.deepEqual(forward.hosts, ["api.openai.com"]);
    assert.deepEqual(forward.tunnels, []);
    assert.equal(forward.caDir, `${process.cwd()}/.azure-oai-proxy`);
  });

  it("read on/off, hosts (lower-cased, without a trailing dot), tunnels and the CA folder", () => {
    const { forward } = readConfig({
      ...ENDPOINT,
      AZURE_OPENAI_PROXY_FORWARD: "ON",
      AZURE_OPENAI_PROXY_FORWARD_HOSTS: "API.OpenAI.com., api.example.org",
      AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "files.example.com:443, [::1]:8443",
      AZURE_OPENAI_PROXY_CA_DIR: "/etc/azure-oai-proxy",
    });
    assert.equal(forward.enabled, true);
    assert.deepEqual(forward.hosts, ["api.openai.com", "api.example.org"]);
    assert.deepEqual(forward.tunnels, [
      { host: "files.example.com", port: 443 },
      { host: "::1", port: 8443 },
    ]);
    assert.equal(forward.caDir, "/etc/azure-oai-proxy");
  });

  it("resolve a relative CA folder against the working directory", () => {
    const { forward } = readConfig({ ...ENDPOINT, AZURE_OPENAI_PROXY_CA_DIR: "certs" });
    assert.equal(forward.caDir, `${process.cwd()}/certs`);
  });

  it("name the variable of every bad value", () => {
    assert.deepEqual(
      problems({
        AZURE_OPENAI_PROXY_FORWARD: "maybe",
        AZURE_OPENAI_PROXY_FORWARD_HOSTS: "https://api.openai.com, *.openai.com",
        AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "example.com, example.org:99999",
      }),
      [
        'AZURE_OPENAI_PROXY_FORWARD: must be "on" or "off", got "maybe"',
        'AZURE_OPENAI_PROXY_FORWARD_HOSTS: "https://api.openai.com" is not a host name (e.g. api.openai.com; no port, no scheme, no wildcard)',
        'AZURE_OPENAI_PROXY_FORWARD_HOSTS: "*.openai.com" is not a host name (e.g. api.openai.com; no port, no scheme, no wildcard)',
        'AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "example.com" is not host:port (e.g. files.example.com:443)',
        'AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "example.org:99999" is not host:port (e.g. files.example.com:443)',
      ],
    );
  });

  it("refuse a blind tunnel to an intercepted host: the proxy never connects to it", () => {
    assert.deepEqual(problems({ AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "API.openai.com:443" }), [
      'AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "api.openai.com:443" names an intercepted host (AZURE_OPENAI_PROXY_FORWARD_HOSTS); the proxy answers it itself',
    ]);
  });
});

describe("parseHostPort", () => {
  it("reads host:port and [v6]:port, and nothing else", () => {
    assert.deepEqual(parseHostPort("API.openai.com:443"), { host: "api.openai.com", port: 443 });
    assert.deepEqual(parseHostPort("[2001:db8::1]:443"), { host: "2001:db8::1", port: 443 });
    for (const bad of [
      "api.openai.com",
      ":443",
      "a:b",
      "a:0",
      "http://a:443",
      "u@a:443",
      "a:443/x",
    ]) {
      assert.equal(parseHostPort(bad), undefined, bad);
    }
  });
});
