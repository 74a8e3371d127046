import { type Emulator, type EmulatorOptions, startEmulator } from "@azure-oai-proxy/emulator";
import { readConfig } from "../../src/config/env.ts";
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

export interface PoolStack {
  readonly emulators: Record<string, Emulator>;
  readonly proxy: RunningProxy;
  readonly url: string;
  readonly logs: string[];
  /** The configuration file's path; rewrite it and call proxy.reload() (or wait for the watcher). */
  readonly configFile: string;
  close(): Promise<void>;
}

/**
 * The real proxy with a configuration file, in front of several emulators (one per resource).
 * `yaml` receives each resource's emulator URL and returns the file's text.
 */
export async function startPoolStack(options: {
  resources: Record<string, EmulatorOptions>;
  yaml: (urls: Record<string, string>) => string;
  env?: Record<string, string>;
}): Promise<PoolStack> {
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const emulators: Record<string, Emulator> = {};
  const urls: Record<string, string> = {};
  for (const [name, emulatorOptions] of Object.entries(options.resources)) {
    const emulator = await startEmulator({ chunkDelayMs: 2, ...emulatorOptions });
    emulators[name] = emulator;
    urls[name] = emulator.url;
  }
  const dir = await mkdtemp(join(tmpdir(), "aop-pool-"));
  const configFile = join(dir, "proxy.yaml");
  await writeFile(configFile, options.yaml(urls));
  const logs: string[] = [];
  const env = {
    AZURE_OPENAI_PROXY_CONFIG: configFile,
    AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0",
    AZURE_OPENAI_PROXY_TARGET_HEADER: "true",
    LOG_LEVEL: "info",
    EMULATOR_KEY,
    ...options.env,
  };
  const config = readConfig(env);
  const logger = createLogger(config.logLevel, { write: (line: string) => logs.push(line) });
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, { logger, env, watch: false });
  } catch (error) {
    for (const emulator of Object.values(emulators)) await emulator.close();
    throw error;
  }
  return {
    emulators,
    proxy,
    url: proxy.url,
    logs,
    configFile,
    async close() {
      await proxy.close(1000);
      for (const emulator of Object.values(emulators)) await emulator.close();
    },
  };
}

/** Requests the emulator answered for inference (listings left out). */
export function inferenceRequests(emulator: Emulator) {
  return emulator.requests.filter((r) => r.style !== "other" && r.path !== "/openai/deployments");
}
