export const ADMIN_KEY_VARIABLE = "AZURE_OPENAI_PROXY_ADMIN_KEY";

/** Shorter keys can be guessed; 24 random bytes in hex (`openssl rand -hex 24`) are 48. */
const MIN_LENGTH = 16;

/**
 * `AZURE_OPENAI_PROXY_ADMIN_KEY`: the key of the operator's pages (`/status`, `/usage`), needed
 * once clients are configured so that one client cannot read what the others do. Undefined
 * when unset; a key too short to be safe adds a problem naming the variable.
 */
export function parseAdminKey(raw: string | undefined, problems: string[]): string | undefined {
  const key = raw?.trim();
  if (key === undefined || key === "") return undefined;
  if (key.length < MIN_LENGTH) {
    problems.push(
      `${ADMIN_KEY_VARIABLE}: must be at least ${MIN_LENGTH} characters (e.g. the output of openssl rand -hex 24), got ${key.length}`,
    );
  }
  return key;
}
