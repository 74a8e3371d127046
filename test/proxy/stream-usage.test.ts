import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requestStreamUsage } from "../../src/proxy/json-body.ts";
import { StreamUsageFilter } from "../../src/proxy/stream-usage.ts";

function filtered(text: string, pieces: number): string {
  const filter = new StreamUsageFilter();
  const bytes = Buffer.from(text);
  const step = Math.max(1, Math.ceil(bytes.length / pieces));
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += step) {
    const kept = filter.push(bytes.subarray(i, i + step));
    if (kept) out.push(kept);
  }
  const rest = filter.flush();
  if (rest) out.push(rest);
  return Buffer.concat(out).toString();
}

describe("requestStreamUsage", () => {
  const ask = (body: string) => requestStreamUsage(Buffer.from(body))?.toString();

  it("adds stream_options.include_usage and leaves every other byte alone", () => {
    const body = '{"model":"gpt-4o",  "stream":true,"messages":[{"role":"user","content":"1.50"}]}';
    const asked = ask(body);
    assert.equal(
      asked,
      '{"stream_options":{"include_usage":true},"model":"gpt-4o",  "stream":true,"messages":[{"role":"user","content":"1.50"}]}',
    );
    assert.deepEqual(JSON.parse(asked ?? ""), {
      ...JSON.parse(body),
      stream_options: { include_usage: true },
    });
  });

  it("turns include_usage on inside the client's own stream_options", () => {
    const body = '{"stream":true,"stream_options":{"include_usage":false,"x":1},"model":"m"}';
    assert.equal(
      ask(body),
      '{"stream":true,"stream_options":{"include_usage":true,"x":1},"model":"m"}',
    );
    assert.equal(
      ask('{"stream":true,"stream_options":null}'),
      '{"stream":true,"stream_options":{"include_usage":true}}',
    );
  });

  it("changes nothing when the client asked for usage itself", () => {
    assert.equal(ask('{"stream":true,"stream_options":{"include_usage":true}}'), undefined);
  });

  it("keeps an empty object valid", () => {
    assert.equal(ask("{ }"), '{"stream_options":{"include_usage":true} }');
  });
});

describe("StreamUsageFilter", () => {
  const content =
    'data: {"id":"1","choices":[{"delta":{"content":"\\"usage\\":null"}}],"usage":null}\n\n';
  const usage =
    'data: {"id":"1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}\n\n';
  const done = "data: [DONE]\n\n";

  it("removes the usage chunk and the usage:null fields the client did not ask for", () => {
    for (const pieces of [1, 2, 9, 500]) {
      assert.equal(
        filtered(content + usage + done, pieces),
        `data: {"id":"1","choices":[{"delta":{"content":"\\"usage\\":null"}}]}\n\n${done}`,
      );
    }
  });

  it("passes chunks with choices and usage together untouched", () => {
    const both = 'data: {"choices":[{"delta":{}}],"usage":{"prompt_tokens":1}}\n\n';
    assert.equal(filtered(both + done, 3), both + done);
  });

  it("drops a final usage chunk that lacks its blank line", () => {
    assert.equal(filtered(content + usage.trimEnd(), 4).includes("prompt_tokens"), false);
  });
});
