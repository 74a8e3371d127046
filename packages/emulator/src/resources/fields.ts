/**
 * Reading a resource request's JSON fields the way Azure checks them. A wrong field throws a
 * {@link Refusal}, which the resource handlers turn into the Azure error it carries.
 */
import type { ReceivedBody } from "../body.ts";
import { type AzureError, azureErrors } from "../errors.ts";

/** Thrown by resource handlers to answer with an Azure error. */
export class Refusal extends Error {
  readonly error: AzureError;
  constructor(error: AzureError) {
    super(JSON.stringify(error.body));
    this.error = error;
  }
}

export function refuse(error: AzureError): never {
  throw new Refusal(error);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The error family of an operation: the authoring API (files, uploads, fine-tuning, batches)
 * answers `{code: "invalidPayload", message, target}`, the others OpenAI's
 * `{message, type: "invalid_request_error", param, code}`.
 */
export type ErrorFamily = "authoring" | "openai";

export function invalid(family: ErrorFamily, message: string, param?: string): AzureError {
  return family === "authoring"
    ? azureErrors.invalidPayload(message, param)
    : azureErrors.invalidRequest(message, param ?? null);
}

/** The JSON object of a request; an empty body counts as `{}` (cancel, create-thread…). */
export function jsonObject(body: ReceivedBody, family: ErrorFamily): Record<string, unknown> {
  if (body.multipart !== undefined) {
    refuse(
      azureErrors.badRequest(
        "This operation expects a JSON body (Content-Type: application/json).",
      ),
    );
  }
  if (body.jsonError !== undefined) {
    refuse(azureErrors.badRequest(`Failed to parse the request body as JSON: ${body.jsonError}`));
  }
  if (body.size === 0) return {};
  if (!isObject(body.json)) refuse(invalid(family, "The request body must be a JSON object."));
  return body.json;
}

const METADATA_KEYS = 16;
const METADATA_KEY_LENGTH = 64;
const METADATA_VALUE_LENGTH = 512;

/** Typed reads of a JSON object's fields, refusing wrong types and ranges. */
export class Fields {
  readonly json: Record<string, unknown>;
  readonly family: ErrorFamily;

  constructor(json: Record<string, unknown>, family: ErrorFamily) {
    this.json = json;
    this.family = family;
  }

  fail(message: string, param?: string): never {
    refuse(invalid(this.family, message, param));
  }

  has(name: string): boolean {
    return this.json[name] !== undefined && this.json[name] !== null;
  }

  required(name: string): void {
    if (!this.has(name)) this.fail(`Missing required parameter: '${name}'.`, name);
  }

  string(name: string, maxLength = Number.POSITIVE_INFINITY): string | undefined {
    const value = this.json[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string")
      this.fail(`Invalid type for '${name}': expected a string.`, name);
    if (value.length > maxLength) {
      this.fail(
        `Invalid '${name}': string too long. Expected a maximum length of ${maxLength}.`,
        name,
      );
    }
    return value;
  }

  requiredString(name: string, maxLength?: number): string {
    this.required(name);
    const value = this.string(name, maxLength) as string;
    if (value === "") this.fail(`Invalid '${name}': empty string.`, name);
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.json[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`Invalid value for '${name}': expected an integer from ${min} to ${max}.`, name);
    }
    return value;
  }

  number(name: string, min: number, max: number): number | undefined {
    const value = this.json[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      this.fail(`Invalid value for '${name}': expected a number from ${min} to ${max}.`, name);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.json[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean")
      this.fail(`Invalid type for '${name}': expected a boolean.`, name);
    return value;
  }

  object(name: string): Record<string, unknown> | undefined {
    const value = this.json[name];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) this.fail(`Invalid type for '${name}': expected an object.`, name);
    return value;
  }

  array(name: string, maxItems = Number.POSITIVE_INFINITY): unknown[] | undefined {
    const value = this.json[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.fail(`Invalid type for '${name}': expected an array.`, name);
    if (value.length > maxItems) {
      this.fail(`Invalid '${name}': array too long. Expected at most ${maxItems} items.`, name);
    }
    return value;
  }

  stringArray(name: string, maxItems?: number): string[] | undefined {
    const value = this.array(name, maxItems);
    if (value === undefined) return undefined;
    if (!value.every((v) => typeof v === "string" && v !== "")) {
      this.fail(`Invalid type for '${name}': expected an array of strings.`, name);
    }
    return value as string[];
  }

  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(
        `Invalid value for '${name}': expected one of ${allowed.join(", ")}, got '${value}'.`,
        name,
      );
    }
    return value as T;
  }

  /** OpenAI's `metadata`: at most 16 string pairs, keys up to 64 and values up to 512 characters. */
  metadata(name = "metadata"): Record<string, string> | undefined {
    const value = this.object(name);
    if (value === undefined) return undefined;
    const entries = Object.entries(value);
    if (entries.length > METADATA_KEYS) {
      this.fail(`Invalid '${name}': at most ${METADATA_KEYS} pairs are allowed.`, name);
    }
    for (const [key, item] of entries) {
      if (
        key.length > METADATA_KEY_LENGTH ||
        typeof item !== "string" ||
        item.length > METADATA_VALUE_LENGTH
      ) {
        this.fail(
          `Invalid '${name}': keys must be strings of at most ${METADATA_KEY_LENGTH} characters and values strings of at most ${METADATA_VALUE_LENGTH}.`,
          name,
        );
      }
    }
    return value as Record<string, string>;
  }
}
