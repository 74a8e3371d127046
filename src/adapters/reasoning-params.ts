import type { TranslatedRequest } from "./chat-types.ts";
import { isObject, isSet } from "./chat-types.ts";

/**
 * Reasoning models (o1, o3, o4-mini, the gpt-5 family) refuse `max_tokens` and any sampling
 * parameter away from its default. A change is written `old->new` (renamed) or `-name` (removed),
 * the form of the `x-azure-oai-proxy-adapted` header.
 */

/** Sampling parameters reasoning models accept only at these values. */
const SAMPLING_DEFAULTS: Readonly<Record<string, number>> = {
  temperature: 1,
  top_p: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
};

/** Parameters reasoning models refuse whatever their value. */
const REFUSED = ["logprobs", "top_logprobs", "logit_bias"] as const;

/** A chat body adapted for a reasoning model, and the changes made. */
export function adaptForReasoning(body: Record<string, unknown>): TranslatedRequest {
  const changes: string[] = [];
  if (isSet(body.max_tokens)) {
    changes.push(
      isSet(body.max_completion_tokens) ? "-max_tokens" : "max_tokens->max_completion_tokens",
    );
  }
  for (const [name, value] of Object.entries(SAMPLING_DEFAULTS)) {
    if (isSet(body[name]) && body[name] !== value) changes.push(`-${name}`);
  }
  for (const name of REFUSED) if (isSet(body[name])) changes.push(`-${name}`);
  return { body: applyAdaptations(body, changes), adapted: changes };
}

/** `body` with the changes applied (a copy; `body` is not touched). Unknown forms are ignored. */
export function applyAdaptations(
  body: Record<string, unknown>,
  changes: readonly string[],
): Record<string, unknown> {
  if (changes.length === 0) return body;
  const out = { ...body };
  for (const change of changes) {
    const rename = change.indexOf("->");
    if (change.startsWith("-")) {
      delete out[change.slice(1)];
    } else if (rename > 0) {
      const from = change.slice(0, rename);
      const to = change.slice(rename + 2);
      if (from in out) {
        if (!isSet(out[to])) out[to] = out[from];
        delete out[from];
      }
    }
  }
  return out;
}

/** Parameters never removed on Azure's word: without them the request means something else. */
const PROTECTED = new Set([
  "model",
  "messages",
  "input",
  "prompt",
  "tools",
  "tool_choice",
  "functions",
  "response_format",
  "stream",
]);

const RENAME = /Unsupported parameter: '([A-Za-z_]+)'.*?Use '([A-Za-z_]+)' instead/s;
const UNSUPPORTED = /Unsupported (?:parameter|value): '([A-Za-z_]+)'/;

/**
 * The change that answers Azure's 400 about an unsupported parameter or value in `body`, e.g.
 * "Unsupported parameter: 'max_tokens' is not supported with this model. Use
 * 'max_completion_tokens' instead." → `max_tokens->max_completion_tokens`, and "Unsupported
 * value: 'temperature' does not support 0.2 with this model. Only the default (1) value is
 * supported." → `-temperature`. Undefined when the error is not of that kind or names a
 * parameter the body does not have (so a retry would fail the same way).
 */
export function adaptationForAzureError(
  status: number,
  errorBody: unknown,
  body: Record<string, unknown>,
): string | undefined {
  if (status !== 400 || !isObject(errorBody) || !isObject(errorBody.error)) return undefined;
  const message = errorBody.error.message;
  if (typeof message !== "string") return undefined;
  const rename = RENAME.exec(message);
  if (rename !== null) {
    const [, from, to] = rename as unknown as [string, string, string];
    if (!isSet(body[from]) || PROTECTED.has(from)) return undefined;
    return isSet(body[to]) ? `-${from}` : `${from}->${to}`;
  }
  const unsupported = UNSUPPORTED.exec(message);
  const name = unsupported?.[1];
  if (name === undefined || !isSet(body[name]) || PROTECTED.has(name)) return undefined;
  return `-${name}`;
}

/** The `x-azure-oai-proxy-adapted` header value for a list of changes. */
export function adaptedHeader(changes: readonly string[]): string | undefined {
  return changes.length === 0 ? undefined : changes.join(",");
}
