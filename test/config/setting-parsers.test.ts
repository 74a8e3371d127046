import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAzureEndpoint } from "../../src/config/endpoint.ts";
import type { Parsed } from "../../src/config/parsed.ts";
import {
  parseAddress,
  parseCorsOrigins,
  parseStudioDeployments,
  parseWorkers,
} from "../../src/config/setting-parsers.ts";

const parsedValue = <T>(parsed: Parsed<T>): T => {
  assert.ok("value" in parsed, JSON.stringify(parsed));
  return parsed.value;
};
const problemsOf = (parsed: Parsed<unknown>): readonly string[] => {
  assert.ok("problems" in parsed, JSON.stringify(parsed));
  return parsed.problems;
};

describe("parseAddress", () => {
  it("reads host:port, [ipv6]:port, :port and a bare port (no host: all interfaces)", () => {
    assert.deepEqual(parsedValue(parseAddress("127.0.0.1:8080")), {
      host: "127.0.0.1",
      port: 8080,
    });
    assert.deepEqual(parsedValue(parseAddress("[::]:80")), { host: "::", port: 80 });
    assert.deepEqual(parsedValue(parseAddress(":80")), { host: undefined, port: 80 });
    assert.deepEqual(parsedValue(parseAddress("11437")), { host: undefined, port: 11437 });
    assert.deepEqual(parsedValue(parseAddress("localhost:0")), { host: "localhost", port: 0 });
  });

  it("refuses what is not an address", () => {
    for (const bad of ["", "host", "host:", "1.2.3.4:99999", "::1:80", "host:80:81"]) {
      problemsOf(parseAddress(bad));
    }
  });
});

describe("parseAzureEndpoint", () => {
  it("keeps a resource's endpoint and a gateway's base path, dropping what the proxy adds", () => {
    assert.equal(
      parsedValue(parseAzureEndpoint("https://r.openai.azure.com/openai/v1")),
      "https://r.openai.azure.com",
    );
    assert.equal(
      parsedValue(parseAzureEndpoint("https://gw.example/team/openai")),
      "https://gw.example/team",
    );
  });

  it("names the resource's endpoint for a deployment's URL, keeping a gateway's base path", () => {
    const [problem] = problemsOf(
      parseAzureEndpoint("https://gw.example/team/openai/deployments/d/embeddings"),
    );
    assert.match(
      problem ?? "",
      /set https:\/\/gw\.example\/team \(drop "\/openai\/deployments\/d\/embeddings"\)/,
    );
    problemsOf(parseAzureEndpoint("https://r.openai.azure.com/openai/v1/chat/completions"));
  });

  it("never repeats credentials in its message", () => {
    const [problem] = problemsOf(
      parseAzureEndpoint("https://user:s3cret@r.openai.azure.com/openai/deployments/d"),
    );
    assert.doesNotMatch(problem ?? "", /s3cret/);
  });
});

describe("parseCorsOrigins", () => {
  it("keeps * alone as any origin and drops repeats after normalising", () => {
    assert.equal(parsedValue(parseCorsOrigins(" * ")), "*");
    assert.deepEqual(parsedValue(parseCorsOrigins("https://a.example/,https://A.example")), [
      "https://a.example",
    ]);
  });

  it("refuses a wildcard among origins, a path, a query and other schemes", () => {
    const found = problemsOf(
      parseCorsOrigins(
        "*,https://a.example/x,https://a.example?q,ftp://a.example,https://a.example#",
      ),
    );
    assert.equal(found.length, 5, found.join("; "));
  });
});

describe("parseStudioDeployments", () => {
  it("reads model=Deployment:region, lower-casing the model key and the region", () => {
    const map = parsedValue(parseStudioDeployments("Phi-4=Phi-4-x:EastUS2"));
    assert.deepEqual(map.get("phi-4"), {
      model: "Phi-4",
      deployment: "Phi-4-x",
      region: "eastus2",
    });
  });
});

describe("parseWorkers", () => {
  it("takes 1 to 256 or auto", () => {
    assert.equal(parsedValue(parseWorkers("4")), 4);
    assert.ok(parsedValue(parseWorkers("AUTO")) >= 1);
    problemsOf(parseWorkers("0"));
    problemsOf(parseWorkers("1.5"));
  });
});
