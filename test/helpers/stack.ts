import { readConfig } from "../../src/config/env.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../src/emulator/index.ts";
import { createLogger, type RunningProxy, startProxy } from "../../src/server/start.ts";

export const EMULATOR_KEY = "emulator-key";

export interface Stack {
  readonly emulator: Emulator;
  readonly proxy: RunningProxy;
  /** The proxy's base URL, e.g. http://127.0.0.1:40000 */
  readonly url: string;
  /** Every log line the proxy wrote, raw. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** The real proxy in front of a real emulator, both on loopback sockets. */
export async function startStack(
  options: { env?: Record<string, string>; emulator?: EmulatorOptions } = {},
): Promise<Stack> {
  const emulator = await startEmulator({ chunkDelayMs: 2, ...options.emulator });
  const logs: string[] = [];
  const config = readConfig({
    AZURE_OPENAI_ENDPOINT: emulator.url,
    AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
    LOG_LEVEL: "info",
    ...options.env,
  });
  const logger = createLogger(config.logLevel, { write: (line: string) => logs.push(line) });
  const proxy = await startProxy(config, { logger });
  return {
    emulator,
    proxy,
    url: proxy.url,
    logs,
    async close() {
      await proxy.close(1000);
      await emulator.close();
    },
  };
}

/** POSTs JSON to the proxy. */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = { "api-key": EMULATOR_KEY },
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The last request the emulator received. */
export function lastRequest(emulator: Emulator) {
  const request = emulator.requests.at(-1);
  if (request === undefined) throw new Error("the emulator received no request");
  return request;
}
