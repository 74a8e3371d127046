import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ProxyError } from "../../src/openai/errors.ts";
import { FULL_PARSE_LIMIT, readJsonBody, scanJsonBody } from "../../src/proxy/json-body.ts";
import { type FakeUpstream, startFakeUpstream, startTestProxy, type TestProxy } from "./harness.ts";

/** A JSON string for `text`, each character written plainly or as a \uXXXX escape. */
const escapedString = (text: string) =>
  fc.array(fc.boolean(), { minLength: text.length, maxLength: text.length }).chain((escapes) =>
    fc.constantFrom(false, true).map((upper) => {
      let out = '"';
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (escapes[i]) {
          const hex = code.toString(16).padStart(4, "0");
          out += `\\u${upper ? hex.toUpperCase() : hex}`;
        } else out += JSON.stringify(text[i]).slice(1, -1);
      }
      return `${out}"`;
    }),
  );

const space = fc.constantFrom("", " ", "\n", "\t", "\r\n  ");
const keyName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("model", "stream", "messages", "Model", "modell", "mode"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.boolean(),
  fc.jsonValue({ maxDepth: 2 }),
  fc.record({ model: fc.string({ maxLength: 6 }) }),
);

/** A top-level member: its decoded key and its text (key possibly escaped, value any JSON). */
const member = fc
  .tuple(keyName, value, space, space)
  .chain(([key, v, s1, s2]) =>
    escapedString(key).map((text) => ({ key, text: `${text}${s1}:${s2}${JSON.stringify(v)}` })),
  );

const body = fc.tuple(fc.array(member, { maxLength: 6 }), space).map(([members, s]) => ({
  keys: members.map((m) => m.key),
  text: `${s}{${s}${members.map((m) => m.text).join(`${s},${s}`)}${s}}${s}`,
}));

describe("the model a body names", () => {
  it("is the same for the fast scanner and JSON.parse, and a second model is refused", () => {
    fc.assert(
      fc.property(body, ({ keys, text }) => {
        const bytes = Buffer.from(text);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const models = keys.filter((k) => k === "model").length;
        if (models > 1) {
          for (const read of [scanJsonBody, readJsonBody]) {
            assert.throws(
              () => read(bytes),
              (e: ProxyError) => e instanceof ProxyError && e.code === "duplicate_model",
            );
          }
          return;
        }
        const expected = {
          model: typeof parsed.model === "string" ? parsed.model : undefined,
          hasModel: Object.hasOwn(parsed, "model"),
          stream: parsed.stream === true,
        };
        assert.deepEqual({ ...scanJsonBody(bytes) }, expected);
        assert.deepEqual({ ...readJsonBody(bytes) }, expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("a large body naming model twice", () => {
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startFakeUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "server-key",
      AZURE_OPENAI_MODEL_MAPPER: "cheap=cheap",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  for (const [label, size] of [
    ["over the full-parse limit", FULL_PARSE_LIMIT + 10],
    ["small", 10],
  ] as const) {
    it(`is refused with 400 when ${label}, before reaching Azure`, async () => {
      const filler = "x".repeat(size);
      const text = `{"model":"cheap","mod\\u0065l":"gpt-4o","messages":[{"role":"user","content":"${filler}"}]}`;
      const response = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: text,
      });
      assert.equal(response.status, 400);
      const answer = (await response.json()) as { error: { code: string; param: string } };
      assert.equal(answer.error.code, "duplicate_model");
      assert.equal(answer.error.param, "model");
      assert.equal(upstream.received.filter((r) => r.url.includes("chat")).length, 0);
    });
  }
});
