/**
 * Shared pieces of the end-to-end suites that drive the proxy with the official `openai` SDK:
 * the two Azure API styles, a client factory, and checks on what the emulator received.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import type { RecordedRequest } from "@azure-oai-proxy/emulator";
import OpenAI, { APIError } from "openai";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { EMULATOR_KEY, type Stack } from "../helpers/stack.ts";

export type AzureStyle = "dated" | "v1";

/** Proxy environment for each style: the default dated api-version, or Azure's v1 API. */
export const STYLE_ENV: Record<AzureStyle, Record<string, string>> = {
  dated: {},
  v1: { AZURE_OPENAI_APIVERSION: "v1" },
};

export const STYLES: readonly AzureStyle[] = ["dated", "v1"];

/** The official SDK pointed at the proxy, with retries off so each call is one request. */
export function sdkClient(stack: Stack, apiKey: string = EMULATOR_KEY): OpenAI {
  return new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

/** The upstream path the proxy must use for an operation in a style. */
export function upstreamPath(style: AzureStyle, deployment: string, op: string): string {
  return style === "dated" ? `/openai/deployments/${deployment}/${op}` : `/openai/v1/${op}`;
}

/**
 * The last inference request the emulator received for an operation. Filtering by path skips
 * the proxy's background deployment listing, which may land before or after the call.
 */
export function received(stack: Stack, op: string): RecordedRequest {
  const found = stack.emulator.requests.findLast(
    (r) => r.method === "POST" && r.path.endsWith(`/${op}`),
  );
  if (found === undefined) throw new Error(`the emulator received no ${op} request`);
  return found;
}

/** How many inference requests the emulator has received so far. */
export function inferenceCount(stack: Stack): number {
  return stack.emulator.requests.filter((r) => r.method === "POST").length;
}

export interface UpstreamExpectation {
  style: AzureStyle;
  op: string;
  /** The deployment after mapping. */
  deployment: string;
  /** The model name the client sent (the dated style forwards it untouched). */
  clientModel: string;
  body: "json" | "multipart";
}

/**
 * What every inference request must look like on Azure's side: the style's path, the mapped
 * deployment, the api-version (dated) or none (v1), the key in `api-key` and never as Bearer
 * in the dated style, and for v1 the deployment in the body's or form's `model`.
 */
export function assertUpstream(request: RecordedRequest, expected: UpstreamExpectation): void {
  const { style, op, deployment, clientModel, body } = expected;
  assert.equal(request.style, style);
  assert.equal(request.path, upstreamPath(style, deployment, op));
  assert.equal(request.deployment, deployment);
  assert.equal(request.headers["api-key"], EMULATOR_KEY, "the key travels in api-key");
  if (style === "dated") {
    assert.equal(request.query["api-version"], DEFAULT_API_VERSION);
    assert.equal(request.headers.authorization, undefined, "never sent as Bearer");
  } else {
    assert.equal(request.query["api-version"], undefined, "v1 takes no api-version");
  }
  const sentModel = style === "v1" ? deployment : clientModel;
  if (body === "json") {
    assert.equal((request.json as { model?: unknown } | undefined)?.model, sentModel);
  } else {
    assert.equal(request.multipart?.fields.model, sentModel);
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Deterministic, non-repeating bytes (a counter hashed block by block), `size` long. */
export function testBytes(size: number, seed = "e2e"): Buffer {
  const out = Buffer.alloc(size);
  let offset = 0;
  for (let block = 0; offset < size; block++) {
    const digest = createHash("sha256").update(`${seed}:${block}`).digest();
    offset += digest.copy(out, offset);
  }
  return out;
}

/** Runs an SDK call that must fail, returning the SDK's error. */
export async function sdkError(call: () => Promise<unknown>): Promise<APIError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded but should have failed");
}

// ---- resource-scoped routes (files, fine-tuning, batches, responses, assistants, …) ----

/** The Azure path of a resource-scoped route: `/openai/{path}` (dated) or `/openai/v1/{path}`. */
export function resourcePath(style: AzureStyle, path: string): string {
  return style === "dated" ? `/openai/${path}` : `/openai/v1/${path}`;
}

/** The last request the emulator received with this method and path (query left out). */
export function receivedAt(stack: Stack, method: string, path: string): RecordedRequest {
  const found = stack.emulator.requests.findLast((r) => r.method === method && r.path === path);
  if (found === undefined) throw new Error(`the emulator received no ${method} ${path}`);
  return found;
}

/**
 * Checks the last `method` request to a resource-scoped route, `path` below `/openai/` (dated) or
 * `/openai/v1/`: no deployment in the path, the api-version (dated) or none (v1), and the key in
 * `api-key`, never as Bearer in the dated style. Returns the request for further checks.
 */
export function assertResourceUpstream(
  stack: Stack,
  style: AzureStyle,
  method: string,
  path: string,
): RecordedRequest {
  const request = receivedAt(stack, method, resourcePath(style, path));
  assert.equal(request.style, style);
  assert.equal(request.headers["api-key"], EMULATOR_KEY, "the key travels in api-key");
  if (style === "dated") {
    assert.equal(request.query["api-version"], DEFAULT_API_VERSION);
    assert.equal(request.headers.authorization, undefined, "never sent as Bearer");
  } else {
    assert.equal(request.query["api-version"], undefined, "v1 takes no api-version");
  }
  return request;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined,
  what: string,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Deterministic, non-repeating bytes for large uploads: an AES-256-CTR keystream keyed by `seed`.
 * Hundreds of MB per second, where {@link testBytes} hashes block by block.
 */
export function bulkBytes(size: number, seed = "bulk"): Buffer {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}
