import table from "./model-families.json" with { type: "json" };

/**
 * - `chat`: Chat Completions as it is (the default).
 * - `responses-only`: answers chat with 400 OperationNotSupported; chat goes over the Responses API.
 * - `reasoning`: chat, but `max_tokens` and non-default sampling parameters are refused.
 * - `anthropic`: Claude, served only as Anthropic's Messages API.
 * - `foundry`: a Foundry model (DeepSeek, Llama, Mistral, grok, Phi, gpt-oss): v1 API only.
 */
export type ModelFamily = "chat" | "responses-only" | "reasoning" | "anthropic" | "foundry";

export interface FamilyMatch {
  readonly family: ModelFamily;
  /** For `anthropic`: the max_tokens sent when the client gives none. */
  readonly defaultMaxTokens?: number;
}

const FAMILIES = new Set<string>(["chat", "responses-only", "reasoning", "anthropic", "foundry"]);

const ROWS: readonly (FamilyMatch & { readonly pattern: RegExp })[] = table.families.map((row) => {
  if (!FAMILIES.has(row.family))
    throw new Error(`model-families.json: unknown family ${row.family}`);
  return {
    pattern: new RegExp(row.match, "i"),
    family: row.family as ModelFamily,
    ...("defaultMaxTokens" in row ? { defaultMaxTokens: row.defaultMaxTokens } : {}),
  };
});

const CHAT: FamilyMatch = { family: "chat" };

const PROVIDERS: readonly (readonly [RegExp, string])[] = table.families.flatMap((row) =>
  "provider" in row && row.provider !== undefined
    ? [[new RegExp(row.match, "i"), row.provider] as const]
    : [],
);

/** Who makes a model, for `owned_by` in `/v1/models`: `azure-openai` unless the table says. */
export function modelProvider(model: string): string {
  return PROVIDERS.find(([pattern]) => pattern.test(model))?.[1] ?? "azure-openai";
}

/** The family of a name by the built-in table, if a row matches. */
function familyOfName(name: string): FamilyMatch | undefined {
  const row = ROWS.find((r) => r.pattern.test(name));
  if (row === undefined) return undefined;
  return row.defaultMaxTokens === undefined
    ? { family: row.family }
    : { family: row.family, defaultMaxTokens: row.defaultMaxTokens };
}

/**
 * The family of a deployment: by the model it runs when the listing says (a deployment may have
 * any name), else by its own name; `chat` when no row matches.
 */
export function modelFamily(deployment: string, model?: string): FamilyMatch {
  return familyOfName(model ?? deployment) ?? CHAT;
}
