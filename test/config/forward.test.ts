import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHostPort, readForwardSettings } from "../../src/config/forward.ts";

function read(env: Record<string, string>) {
  const problems: string[] = [];
  const settings = readForwardSettings(env, problems, "/srv/app");
  return { settings, problems };
}

describe("readForwardSettings", () => {
  it("is off by default, intercepts api.openai.com and keeps the CA in .azure-oai-proxy/", () => {
    const { settings, problems } = read({});
    assert.deepEqual(problems, []);
    assert.equal(settings.enabled, false);
    assert.deepEqual(settings.hosts, ["api.openai.com"]);
    assert.deepEqual(settings.tunnels, []);
    assert.equal(settings.caDir, "/srv/app/.azure-oai-proxy");
  });

  it("reads on/off, hosts (lower-cased, without a trailing dot), tunnels and the CA folder", () => {
    const { settings, problems } = read({
      AZURE_OPENAI_PROXY_FORWARD: "ON",
      AZURE_OPENAI_PROXY_FORWARD_HOSTS: "API.OpenAI.com., api.example.org",
      AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "files.example.com:443, [::1]:8443",
      AZURE_OPENAI_PROXY_CA_DIR: "/etc/azure-oai-proxy",
    });
    assert.deepEqual(problems, []);
    assert.equal(settings.enabled, true);
    assert.deepEqual(settings.hosts, ["api.openai.com", "api.example.org"]);
    assert.deepEqual(settings.tunnels, [
      { host: "files.example.com", port: 443 },
      { host: "::1", port: 8443 },
    ]);
    assert.equal(settings.caDir, "/etc/azure-oai-proxy");
  });

  it("resolves a relative CA folder against the working directory", () => {
    assert.equal(read({ AZURE_OPENAI_PROXY_CA_DIR: "certs" }).settings.caDir, "/srv/app/certs");
  });

  it("names the variable of every bad value", () => {
    const { problems } = read({
      AZURE_OPENAI_PROXY_FORWARD: "maybe",
      AZURE_OPENAI_PROXY_FORWARD_HOSTS: "https://api.openai.com, *.openai.com",
      AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "example.com, example.org:99999",
    });
    assert.equal(problems.length, 6);
    assert.match(problems[0] ?? "", /^AZURE_OPENAI_PROXY_FORWARD: must be "on" or "off"/);
    assert.match(
      problems[1] ?? "",
      /^AZURE_OPENAI_PROXY_FORWARD_HOSTS: "https:\/\/api.openai.com"/,
    );
    assert.match(problems[2] ?? "", /^AZURE_OPENAI_PROXY_FORWARD_HOSTS: "\*.openai.com"/);
    assert.match(
      problems[3] ?? "",
      /^AZURE_OPENAI_PROXY_FORWARD_HOSTS: must name at least one host/,
    );
    assert.match(
      problems[4] ?? "",
      /^AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "example.com" is not host:port/,
    );
    assert.match(problems[5] ?? "", /^AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "example.org:99999"/);
  });

  it("refuses a blind tunnel to an intercepted host: the proxy never connects to it", () => {
    const { problems } = read({ AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "api.openai.com:443" });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /names an intercepted host/);
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
