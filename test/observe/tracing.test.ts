import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startTracing } from "../../src/observe/tracing.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

/** A loopback OTLP/HTTP receiver: keeps every span POSTed to /v1/traces. */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const services: string[] = [];
  const headers: Record<string, string | string[] | undefined>[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.url === "/v1/traces") {
      headers.push(request.headers);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const rs of body.resourceSpans ?? []) {
        for (const a of rs.resource?.attributes ?? []) {
          if (a.key === "service.name") services.push(a.value.stringValue);
        }
        for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, spans, services, headers };
}

const attribute = (span: OtlpSpan | undefined, key: string) => {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  if ("intValue" in value) return Number(value.intValue);
  return Object.values(value)[0];
};

describe("OpenTelemetry traces", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => new Promise<void>((resolve) => receiver.server.close(() => resolve())));

  it("loads nothing and traces nothing when OTEL_EXPORTER_OTLP_ENDPOINT is not set", async () => {
    assert.equal(await startTracing({}), undefined);
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: " " }), undefined);
  });

  it("sends a request span with GenAI attributes and a child span per attempt", async () => {
    const tracing = await startTracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
      OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=team%20a",
      OTEL_SERVICE_NAME: "proxy-under-test",
    });
    assert.ok(tracing);
    const clientTrace = "0af7651916cd43dd8448eb211c80319c";
    const request = tracing.startRequest({ traceparent: `00-${clientTrace}-b7ad6b7169203331-01` });
    const first = request.startAttempt("east/gpt-4o");
    first.end(429, "azure 429");
    const second = request.startAttempt("west/gpt-4o");
    const traceparent = second.headers.traceparent as string;
    second.end(200);
    request.end(
      {
        operation: "chat.completions",
        model: "gpt-4o",
        deployment: "gpt-4o",
        responseModel: "gpt-4o-2024-11-20",
        target: "west/gpt-4o",
        client: "team-a",
        usage: { prompt: 12, completion: 7, reasoning: 0, cached: 0 },
      },
      200,
    );
    await tracing.shutdown();

    const root = receiver.spans.find((s) => s.name === "chat gpt-4o");
    assert.ok(root, `spans: ${receiver.spans.map((s) => s.name).join(", ")}`);
    assert.equal(root.traceId, clientTrace, "the client's trace is continued");
    assert.equal(root.parentSpanId, "b7ad6b7169203331");
    assert.equal(attribute(root, "gen_ai.operation.name"), "chat");
    assert.equal(attribute(root, "gen_ai.request.model"), "gpt-4o");
    assert.equal(attribute(root, "gen_ai.response.model"), "gpt-4o-2024-11-20");
    assert.equal(attribute(root, "gen_ai.usage.input_tokens"), 12);
    assert.equal(attribute(root, "gen_ai.usage.output_tokens"), 7);
    assert.equal(attribute(root, "azure_oai_proxy.client"), "team-a");

    const attempts = receiver.spans.filter((s) => s.name.startsWith("attempt "));
    assert.deepEqual(
      attempts.map((s) => [s.name, s.parentSpanId, attribute(s, "http.response.status_code")]),
      [
        ["attempt east/gpt-4o", root.spanId, 429],
        ["attempt west/gpt-4o", root.spanId, 200],
      ],
    );
    assert.equal(attribute(attempts[0], "error.type"), "azure 429");
    // What Azure receives names the attempt's span, in the client's trace.
    assert.equal(traceparent, `00-${clientTrace}-${attempts[1]?.spanId}-01`);
    assert.deepEqual(receiver.services, ["proxy-under-test"]);
    assert.equal(receiver.headers[0]?.["x-tenant"], "team a");
  });

  it("starts a new trace when the client sent none", async () => {
    const tracing = await startTracing({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    });
    assert.ok(tracing);
    const request = tracing.startRequest({});
    const attempt = request.startAttempt("default");
    assert.match(attempt.headers.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    attempt.end(undefined, "upstream_timeout");
    request.end({ operation: "POST /v1/files" }, 504);
    await tracing.flush();
    const span = receiver.spans.find((s) => s.name === "POST /v1/files");
    assert.ok(span);
    assert.equal(span.parentSpanId ?? "", "");
    assert.equal(span.status?.code, 2, "an answer of 5xx marks the span as an error");
    await tracing.shutdown();
  });
});
