import type { TokenUsage } from "../observe/request-record.ts";

/**
 * Tokens of one answer: the request record's `usage` (metrics read the same record).
 * `completion` includes `reasoning`; `prompt` includes `cached`.
 */
export type UsageTokens = Readonly<TokenUsage>;

/** What a limit is charged with: prompt plus completion, as Azure's total_tokens. */
export function chargedTokens(usage: UsageTokens): number {
  return usage.prompt + usage.completion;
}
