import type { Parsed } from "./parsed.ts";

/** Shorter keys can be guessed; 24 random bytes in hex (`openssl rand -hex 24`) are 48. */
const MIN_LENGTH = 16;

/**
 * `AZURE_OPENAI_PROXY_ADMIN_KEY`: the key of the operator's pages (`/status`, `/usage`), needed
 * once clients are configured so that one client cannot read what the others do. A key too
 * short to be safe is refused, without repeating it.
 */
export function parseAdminKey(raw: string): Parsed<string> {
  const key = raw.trim();
  if (key.length < MIN_LENGTH) {
    return {
      problems: [
        `must be at least ${MIN_LENGTH} characters (e.g. the output of openssl rand -hex 24), got ${key.length}`,
      ],
    };
  }
  return { value: key };
}
