import type { Context, Span, Tracer } from "@opentelemetry/api";
import type { TracerProvider } from "@opentelemetry/sdk-trace";
import type { RequestRecord } from "./request-record.ts";

/** The variables read here; the deployment files' test checks their names against this list. */
export const TRACING_VARIABLES = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_SERVICE_NAME",
] as const;

/** `gen_ai.operation.name` of the operations that have one in the GenAI conventions. */
const GENAI_OPERATIONS: Readonly<Record<string, string>> = {
  "chat.completions": "chat",
  completions: "text_completion",
  embeddings: "embeddings",
  "POST /v1/responses": "chat",
  "POST /v1/messages": "chat",
};

/** Traces of requests: one span each, a child per upstream attempt. */
export interface Tracing {
  /** Starts the span of one request, continuing the client's trace when it sent `traceparent`. */
  startRequest(headers: Readonly<Record<string, string | string[] | undefined>>): RequestTrace;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface RequestTrace {
  /** A child span for one attempt; its `traceparent` header goes to Azure with the attempt. */
  startAttempt(target: string): AttemptTrace;
  /** Ends the request's span with what the record says. */
  end(record: RequestRecord, status: number): void;
}

export interface AttemptTrace {
  /** The W3C `traceparent` (and `tracestate` when the client sent one) to send upstream. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * `status` undefined: no answer (connection failure, timeout). `endTime`: when it ended, in
   * `performance.now()` milliseconds, when that was earlier than now.
   */
  end(status: number | undefined, failover?: string, endTime?: number): void;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * OpenTelemetry traces over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; undefined (and
 * nothing loaded: the SDK is imported here, on demand) when it is not.
 */
export async function startTracing(env: Env): Promise<Tracing | undefined> {
  const endpoint = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const tracesEndpoint = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (endpoint === undefined && tracesEndpoint === undefined) return undefined;
  const [api, core, sdk, exporterModule, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const exporter = new exporterModule.OTLPTraceExporter({
    // The traces variable is the full URL; the general one is a base the signal's path goes under.
    url: tracesEndpoint ?? `${(endpoint as string).replace(/\/+$/, "")}/v1/traces`,
    headers: parseHeaders(value(env, "OTEL_EXPORTER_OTLP_HEADERS")),
  });
  const provider: TracerProvider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": value(env, "OTEL_SERVICE_NAME") ?? "azure-oai-proxy",
    }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  const tracer: Tracer = provider.getTracer("azure-oai-proxy");
  const propagator = new core.W3CTraceContextPropagator();
  const { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, defaultTextMapGetter } = api;

  return {
    startRequest(headers) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const span = tracer.startSpan("request", { kind: SpanKind.SERVER }, parent);
      const context: Context = trace.setSpan(parent, span);
      return {
        startAttempt(target) {
          const attempt: Span = tracer.startSpan(
            `attempt ${target}`,
            { kind: SpanKind.CLIENT, attributes: { "azure_oai_proxy.target": target } },
            context,
          );
          const headersOut: Record<string, string> = {};
          propagator.inject(trace.setSpan(context, attempt), headersOut, {
            set: (carrier, key, v) => {
              (carrier as Record<string, string>)[key] = v;
            },
          });
          return {
            headers: headersOut,
            end(status, failover, endTime) {
              if (status !== undefined) attempt.setAttribute("http.response.status_code", status);
              if (failover !== undefined) attempt.setAttribute("error.type", failover);
              if (status === undefined || status >= 500 || status === 429) {
                attempt.setStatus({ code: SpanStatusCode.ERROR });
              }
              attempt.end(endTime);
            },
          };
        },
        end(record, status) {
          const operation = record.operation ?? "request";
          const genai = GENAI_OPERATIONS[operation] ?? operation;
          span.updateName(record.model === undefined ? genai : `${genai} ${record.model}`);
          span.setAttributes(attributesOf(record, status, genai));
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The span attributes of a finished request: GenAI conventions plus the proxy's own. */
export function attributesOf(
  record: RequestRecord,
  status: number,
  operationName: string,
): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {
    "gen_ai.operation.name": operationName,
    "gen_ai.provider.name": "azure.ai.openai",
    "http.response.status_code": status,
  };
  if (record.model !== undefined) attributes["gen_ai.request.model"] = record.model;
  const responseModel = record.responseModel ?? record.deployment;
  if (responseModel !== undefined) attributes["gen_ai.response.model"] = responseModel;
  if (record.usage !== undefined) {
    attributes["gen_ai.usage.input_tokens"] = record.usage.prompt;
    attributes["gen_ai.usage.output_tokens"] = record.usage.completion;
  }
  if (record.azureRequestId !== undefined) {
    attributes["azure_oai_proxy.azure_request_id"] = record.azureRequestId;
  }
  if (record.target !== undefined) attributes["azure_oai_proxy.target"] = record.target;
  if (record.client !== undefined) attributes["azure_oai_proxy.client"] = record.client;
  if (record.stream !== undefined) attributes["azure_oai_proxy.stream"] = record.stream;
  if (record.error !== undefined) attributes["error.type"] = record.error;
  return attributes;
}

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

/** `key=value,key2=value2`, values URL-encoded, as the OpenTelemetry variables define it. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(
      pair.slice(eq + 1).trim(),
    );
  }
  return headers;
}
