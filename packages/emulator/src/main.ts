/**
 * Runs the Azure OpenAI emulator on its own:
 *   EMULATOR_HOST (127.0.0.1), EMULATOR_PORT (11438), EMULATOR_API_KEYS (comma-separated,
 *   "emulator-key"; "*" accepts any key), or the flags --host, --port, --api-keys.
 */
import { parseArgs } from "node:util";
import { startEmulator } from "./server.ts";
import type { Emulator, EmulatorOptions } from "./types.ts";

const DEFAULT_PORT = 11438;

const USAGE = `Usage: azure-oai-proxy emulator [--host HOST] [--port PORT] [--api-keys KEY,KEY]
       (or: npm run emulator -- [flags])

Runs a strict Azure OpenAI emulator. Environment: EMULATOR_HOST, EMULATOR_PORT,
EMULATOR_API_KEYS (comma-separated; "*" accepts any non-empty key). Flags win over environment.`;

/** A start-up setting that is wrong, with the variable or flag to fix. */
export class EmulatorConfigError extends Error {
  override name = "EmulatorConfigError";
}

function parsePort(source: string, raw: string): number {
  const port = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new EmulatorConfigError(`${source} must be a port number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function parseKeys(source: string, raw: string): string[] {
  if (raw.trim() === "*") return [];
  const keys = raw
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  if (keys.length === 0) {
    throw new EmulatorConfigError(
      `${source} must list at least one key (or "*" to accept any), got "${raw}"`,
    );
  }
  return keys;
}

/** Turns flags and environment into emulator options; throws {@link EmulatorConfigError}. */
export function emulatorOptionsFrom(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): EmulatorOptions | "help" {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new EmulatorConfigError((error as Error).message);
  }
  if (parsed.help) return "help";
  const host = parsed.host ?? env.EMULATOR_HOST ?? "127.0.0.1";
  const portSource = parsed.port !== undefined ? "--port" : "EMULATOR_PORT";
  const rawPort = parsed.port ?? env.EMULATOR_PORT;
  const keysSource = parsed["api-keys"] !== undefined ? "--api-keys" : "EMULATOR_API_KEYS";
  const rawKeys = parsed["api-keys"] ?? env.EMULATOR_API_KEYS;
  return {
    host,
    port: rawPort === undefined ? DEFAULT_PORT : parsePort(portSource, rawPort),
    apiKeys: rawKeys === undefined ? ["emulator-key"] : parseKeys(keysSource, rawKeys),
  };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "api-keys": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

/** The curl line printed at start-up, so a user can check the emulator in one paste. */
export function curlExample(url: string, apiKey: string): string {
  const body = JSON.stringify({ messages: [{ role: "user", content: "Hello" }] });
  return `curl -s '${url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21' -H 'api-key: ${apiKey}' -H 'content-type: application/json' -d '${body}'`;
}

function logLine(level: "info" | "error", msg: string, fields: Record<string, unknown> = {}) {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

/**
 * Starts the emulator from flags and environment, logs where it listens with a curl line to try,
 * and stops it on SIGINT/SIGTERM. Resolves with the running emulator; on a bad setting or a
 * failed start it logs why, sets a failing exit code and resolves undefined (also after --help).
 */
export async function runEmulatorCli(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Promise<Emulator | undefined> {
  let emulator: Emulator;
  let apiKey: string;
  try {
    const options = emulatorOptionsFrom(argv, env);
    if (options === "help") {
      console.log(USAGE);
      return undefined;
    }
    emulator = await startEmulator(options);
    apiKey = options.apiKeys?.[0] ?? "any-key";
  } catch (error) {
    logLine("error", `Emulator failed to start: ${(error as Error).message}`);
    process.exitCode = 1;
    return undefined;
  }
  logLine("info", "Azure OpenAI emulator listening", {
    url: emulator.url,
    try: curlExample(emulator.url, apiKey),
  });

  const stop = (signal: NodeJS.Signals) => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    logLine("info", "Azure OpenAI emulator stopping", { signal });
    emulator.close().catch((error: unknown) => {
      logLine("error", `Emulator failed to close: ${(error as Error).message}`);
      process.exitCode = 1;
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return emulator;
}

if (import.meta.main) await runEmulatorCli();
