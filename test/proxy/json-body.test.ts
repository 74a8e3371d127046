import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProxyError } from "../../src/openai/errors.ts";
import { readJsonBody, replaceJsonModel } from "../../src/proxy/json-body.ts";

describe("readJsonBody", () => {
  it("reads the model", () => {
    assert.equal(readJsonBody(Buffer.from('{"model":"gpt-4o","x":1}')).model, "gpt-4o");
  });
  it("refuses malformed JSON with a 400", () => {
    assert.throws(
      () => readJsonBody(Buffer.from('{"model":')),
      (e: unknown) => e instanceof ProxyError && e.status === 400 && e.code === "invalid_json",
    );
  });
  it("refuses a body that is not an object", () => {
    assert.throws(() => readJsonBody(Buffer.from("[1]")), ProxyError);
  });
});

describe("replaceJsonModel", () => {
  it("replaces only the top-level model and leaves every other byte as sent", () => {
    const body =
      '{ "messages": [{"role":"user","content":"say \\"model\\": 1.0"}], "model" : "gpt-3.5-turbo", "n": 1.0, "tools":[{"model":"nested"}] }';
    const out = replaceJsonModel(Buffer.from(body), "gpt-35-turbo").toString();
    assert.equal(out, body.replace('"gpt-3.5-turbo"', '"gpt-35-turbo"'));
  });
  it("escapes the new name as JSON", () => {
    const out = replaceJsonModel(Buffer.from('{"model":"a"}'), 'we"ird').toString();
    assert.deepEqual(JSON.parse(out), { model: 'we"ird' });
  });
  it("refuses a body naming model twice: the proxy and Azure could read different ones", () => {
    assert.throws(
      () => readJsonBody(Buffer.from('{"model":"a","model":"b"}')),
      (error: Error & { code?: string }) => error.code === "duplicate_model",
    );
  });
});

describe("large JSON bodies", () => {
  const image = "A".repeat(2 * 1024 * 1024);
  const big = (extra: string) =>
    Buffer.from(
      `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,${image}"}},{"type":"text","text":"say \\"model\\": \\\\"}]}]${extra}}`,
    );

  it("finds model and stream at the top level without parsing the whole body", () => {
    const facts = readJsonBody(big(`, "stream": true ,"model":"gpt-4o"`));
    assert.equal(facts.model, "gpt-4o");
    assert.equal(facts.stream, true);
    assert.equal(readJsonBody(big(`,"model":"gpt-4o"`)).stream, false);
    assert.equal(readJsonBody(big("")).hasModel, false);
  });

  it("rewrites only the model's bytes", () => {
    const body = big(`,"model":"gpt-3.5-turbo","n":1.0`);
    const out = replaceJsonModel(body, "gpt-35-turbo");
    assert.equal(out.length, body.length - 1);
    assert.deepEqual(
      out.subarray(out.length - 30),
      Buffer.from(`"model":"gpt-35-turbo","n":1.0}`).subarray(-30),
    );
  });

  it("refuses a large body that is not a JSON object", () => {
    assert.throws(() => readJsonBody(Buffer.concat([Buffer.from("["), big("")])), ProxyError);
    assert.throws(() => readJsonBody(big("").subarray(0, -2)), ProxyError);
  });
});
