/**
 * The fields of the YAML configuration file (`--config`, `AZURE_OPENAI_PROXY_CONFIG`), once: the
 * file's reader refuses any other field, and the README's table of them is made from this.
 */
import { DEFAULT_API_VERSION } from "./api-versions.ts";

export interface FileField {
  readonly default?: string;
  readonly doc: string;
}

export const FILE_FIELDS = {
  "resources.NAME": {
    endpoint: {
      doc: "Required. The resource's endpoint, as `AZURE_OPENAI_ENDPOINT` (a deployment's URL or a query is refused).",
    },
    apiKey: {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's own substitution syntax
      doc: "A server-held key for this resource, usually `${VAR}`; omitted: the client's key is passed through.",
    },
    apiVersion: {
      default: DEFAULT_API_VERSION,
      doc: "As `AZURE_OPENAI_APIVERSION`; each resource has its own, so a pool may mix dated and v1 resources.",
    },
    auth: {
      default: "key (or AZURE_OPENAI_AUTH)",
      doc: "`entra`: reach this resource with a Microsoft Entra ID token instead of a key (see docs/identity.md).",
    },
    credential: {
      default: "default (or AZURE_OPENAI_ENTRA_CREDENTIAL)",
      doc: "With `auth: entra`: `default`, `managed-identity`, `workload-identity`, `client-secret` or `cli`.",
    },
    scope: {
      default: "https://cognitiveservices.azure.com/.default",
      doc: "With `auth: entra`: the token's scope (`https://ai.azure.com/.default` for `*.services.ai.azure.com`).",
    },
    kind: {
      doc: "`serverless`: a `https://{name}.{region}.models.ai.azure.com` endpoint serving one model at OpenAI's paths with a Bearer key (docs/model-families.md).",
    },
    anthropicEndpoint: {
      default: "the resource's *.services.ai.azure.com host",
      doc: "Where this resource serves Claude (Anthropic's Messages API), when not the host derived from `endpoint`.",
    },
  },
  tls: {
    cert: {
      doc: "PEM certificate (chain) the proxy serves HTTPS and WSS with; reloaded when it changes.",
    },
    key: { doc: "PEM private key of that certificate." },
  },
  "models.NAME": {
    strategy: {
      default: "priority",
      doc: "How a target is picked: `priority`, `round-robin`, `least-busy` or `latency`.",
    },
    targets: { doc: "Required. A non-empty list of the deployments that serve the model." },
    api: {
      default: "from the model family table",
      doc: "`chat`, `responses`, `anthropic` or `v1`: how chat requests reach every target of the model (docs/model-families.md).",
    },
  },
  "models.NAME.targets[]": {
    resource: {
      doc: "Required. A resource of `resources`, or `default` (`AZURE_OPENAI_ENDPOINT`).",
    },
    deployment: { doc: "Required. The deployment's name in that resource." },
    priority: { default: "0", doc: "Whole number; lower is preferred (`priority` strategy)." },
    weight: { default: "1", doc: "Whole number ≥ 1; share among targets of equal priority." },
    api: { default: "the model's `api`", doc: "As the model's `api`, for this target only." },
  },
  "clients.NAME": {
    key: {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's own substitution syntax
      doc: "The key this client presents (8 characters or more), usually `${VAR}`.",
    },
    keySha256: {
      doc: "Or the key's sha256 in hex (docs/clients.md says how), so the file holds no secret.",
    },
    models: {
      doc: "The model names this client may send; omitted: every model (docs/clients.md).",
    },
    limits: { doc: "Its limits, below; an omitted limit does not apply." },
  },
  "clients.NAME.limits": {
    rpm: { doc: "Requests per minute (sliding window)." },
    tpm: { doc: "Tokens per minute, prompt + completion, from Azure's `usage`." },
    tokensPerDay: { doc: "Tokens per UTC day." },
  },
} as const satisfies Record<string, Record<string, FileField>>;

/** The field names allowed at each level, for the reader's unknown-field check. */
export const RESOURCE_FIELDS = Object.keys(FILE_FIELDS["resources.NAME"]);
export const MODEL_FIELDS = Object.keys(FILE_FIELDS["models.NAME"]);
export const TARGET_FIELDS = Object.keys(FILE_FIELDS["models.NAME.targets[]"]);
export const CLIENT_FIELDS = Object.keys(FILE_FIELDS["clients.NAME"]);
export const LIMIT_FIELDS = Object.keys(
  FILE_FIELDS["clients.NAME.limits"],
) as (keyof (typeof FILE_FIELDS)["clients.NAME.limits"])[];

/** Reports each field of `raw` that the table does not know, naming the ones it does. */
export function unknownKeys(
  path: string,
  raw: Record<string, unknown>,
  known: readonly string[],
  problems: string[],
): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key))
      problems.push(`${path}.${key}: unknown field (expected ${known.join(", ")})`);
  }
}

/** A YAML mapping (not a list, not a scalar). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
