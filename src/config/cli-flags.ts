/**
 * The command line's flags: `--config FILE`, `--help`, `--version`. Anything else is refused
 * (a typo such as `--conifg` would otherwise start a proxy without its pools).
 */
import { readFileSync } from "node:fs";

export type CliRequest =
  /** Start the proxy; `env` holds what flags set (they win over the environment). */
  | { readonly kind: "run"; readonly env: Readonly<Record<string, string>> }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string };

export function parseFlags(argv: readonly string[]): CliRequest {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--version" || arg === "-v") return { kind: "version" };
    if (arg === "--config") {
      const file = argv[i + 1];
      if (file === undefined || file === "") {
        return { kind: "error", message: "--config needs a file: --config proxy.yaml" };
      }
      env.AZURE_OPENAI_PROXY_CONFIG = file;
      i++;
    } else if (arg.startsWith("--config=") && arg.length > 9) {
      env.AZURE_OPENAI_PROXY_CONFIG = arg.slice(9);
    } else {
      return {
        kind: "error",
        message: `unknown ${arg.startsWith("-") ? "flag" : "argument"} "${arg}" (flags: --config FILE, --help, --version; settings are environment variables, see --help)`,
      };
    }
  }
  return { kind: "run", env };
}

/** The package's version, from package.json (one level above src/ or dist/). */
export function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
