import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AzureArtefactFilter, isArtefact } from "../../src/proxy/sse.ts";

const promptFilterChunk = `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}\n\n`;
const annotationChunk = `data: {"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":20},"content_filter_results":{},"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""}\n\n`;
const content = (text: string) =>
  `data: {"choices":[{"delta":{"content":"${text}"},"finish_reason":null,"index":0,"content_filter_results":{}}],"id":"c1","object":"chat.completion.chunk"}\n\n`;
const usageChunk = `data: {"choices":[],"id":"c1","object":"chat.completion.chunk","usage":{"total_tokens":3},"prompt_filter_results":[]}\n\n`;
const done = "data: [DONE]\n\n";

function run(input: string[]): string {
  const filter = new AzureArtefactFilter();
  let out = "";
  for (const chunk of input) out += filter.push(Buffer.from(chunk))?.toString() ?? "";
  return out + (filter.flush()?.toString() ?? "");
}

describe("AzureArtefactFilter", () => {
  it("drops the prompt-filter chunk and annotation-only chunks, keeping the rest byte for byte", () => {
    const out = run([promptFilterChunk, content("Hi"), annotationChunk, content(" there"), done]);
    assert.equal(out, content("Hi") + content(" there") + done);
  });

  it("keeps the usage chunk and [DONE]", () => {
    assert.equal(run([usageChunk, done]), usageChunk + done);
  });

  it("reassembles events split across network chunks and emits each as soon as it is complete", () => {
    const whole = content("Hello") + annotationChunk + content("!");
    const filter = new AzureArtefactFilter();
    const first = filter.push(Buffer.from(whole.slice(0, 30)));
    assert.equal(first, undefined);
    const second = filter.push(Buffer.from(whole.slice(30, content("Hello").length + 5)));
    assert.equal(second?.toString(), content("Hello"));
    const rest = filter.push(Buffer.from(whole.slice(content("Hello").length + 5)));
    assert.equal(rest?.toString(), content("!"));
  });

  it("handles CRLF event separators", () => {
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    assert.equal(run([crlf(promptFilterChunk), crlf(content("a"))]), crlf(content("a")));
  });

  it("passes events it cannot read", () => {
    assert.equal(isArtefact(Buffer.from("data: {not json prompt_filter_results\n\n")), false);
    assert.equal(isArtefact(Buffer.from(": keep-alive comment\n\n")), false);
  });

  it("keeps a finish chunk that also carries filter offsets", () => {
    const finish = `data: {"choices":[{"content_filter_offsets":{},"finish_reason":"stop","index":0}]}\n\n`;
    assert.equal(run([finish]), finish);
  });
});
