import cluster from "node:cluster";
import module from "node:module";
import type { Emulator } from "@azure-oai-proxy/emulator";
import type { Logger } from "pino";
import { type CliRequest, packageVersion, parseFlags } from "./config/cli-flags.ts";
import type { Config } from "./config/config.ts";
import { ConfigError, readEnvironment, withDotEnv } from "./config/env.ts";
import { TopologyError } from "./config/topology.ts";
import { CertificateAuthorityError } from "./forward/ca.ts";
import { createLogger, type RunningProxy, startProxy } from "./server/start.ts";
import { startWorkers } from "./server/workers.ts";
import { TlsFilesError } from "./tls/certificates.ts";

const EMULATOR_KEY = "emulator-key";
/** Set by the primary process for its workers: the URL of the emulator it started for them. */
const EMULATOR_URL_VAR = "AZURE_OAI_PROXY_EMULATOR_URL";

/** The command line: read config, start the server (and the emulator when no endpoint is set), handle signals. */
async function main(): Promise<void> {
  const flags = await runFlags(parseFlags(process.argv.slice(2)));
  let config: Config;
  let warnings: readonly string[];
  const env = withDotEnv(process.env);
  try {
    ({ config, warnings } = readEnvironment({ ...env, ...flags }));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`azure-oai-proxy: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (cluster.isPrimary) for (const warning of warnings) logger.warn(warning);

  let emulator: Emulator | undefined;
  if (
    config.mode === "azure" &&
    config.azure.endpoint === undefined &&
    config.configFile === undefined
  ) {
    // Workers use the emulator their primary started; a single process starts its own.
    let url = process.env[EMULATOR_URL_VAR];
    if (url === undefined) {
      const { startEmulator } = await import("@azure-oai-proxy/emulator");
      emulator = await startEmulator({ apiKeys: [EMULATOR_KEY] });
      url = emulator.url;
    }
    config = {
      ...config,
      azure: { ...config.azure, endpoint: url, apiKey: EMULATOR_KEY, emulator: true },
    };
    if (cluster.isPrimary) {
      logger.warn(
        { emulator: url },
        "AZURE_OPENAI_ENDPOINT is not set: started the built-in Azure OpenAI EMULATOR and proxying to it. Answers are fake. Set AZURE_OPENAI_ENDPOINT to use Azure.",
      );
    }
  }
  if (
    config.mode === "azure" &&
    config.azure.apiKey !== undefined &&
    !config.azure.emulator &&
    config.clientKeys.length === 0 &&
    cluster.isPrimary
  ) {
    logger.warn(
      "A server-held Azure key is set (AZURE_OPENAI_API_KEY / AZURE_OPENAI_TOKEN) and no client keys are (AZURE_OPENAI_PROXY_API_KEYS): anyone who can reach this port can spend it.",
    );
  }
  if (
    config.mode === "azure" &&
    config.azure.entra?.auth === "entra" &&
    config.clientKeys.length === 0 &&
    cluster.isPrimary
  ) {
    logger.warn(
      "Azure is reached with the proxy's own Microsoft Entra ID identity (AZURE_OPENAI_AUTH=entra) and no client keys are set (AZURE_OPENAI_PROXY_API_KEYS): anyone who can reach this port can spend it.",
    );
  }

  if (cluster.isPrimary && config.workers > 1) {
    await runPrimary(config, logger, emulator);
    return;
  }

  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, { logger, env });
  } catch (error) {
    await emulator?.close();
    if (
      error instanceof TopologyError ||
      error instanceof TlsFilesError ||
      error instanceof CertificateAuthorityError
    ) {
      process.stderr.write(`azure-oai-proxy: ${error.message}\n`);
      process.exit(1);
    }
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      process.stderr.write(
        `azure-oai-proxy: cannot listen on ${config.host}:${config.port} (${code}); set AZURE_OPENAI_PROXY_ADDRESS to a free address\n`,
      );
      process.exit(1);
    }
    throw error;
  }
  logger.info(
    {
      url: proxy.url,
      mode: config.mode,
      upstream: config.azure.emulator ? "emulator" : config.mode,
      apiStyle: config.azure.apiStyle,
      apiVersion: config.azure.apiVersion || undefined,
    },
    "azure-oai-proxy listening",
  );
  if (config.azure.emulator && cluster.isPrimary) printTryIt(proxy.url);

  // Write the compile cache now, not at exit: a process that is killed never exits cleanly.
  module.flushCompileCache?.();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.timeouts.shutdownMs }, "shutting down");
    await proxy.close();
    await emulator?.close();
    logger.info("stopped");
    // Logs are written asynchronously: let the last lines out before exiting.
    exitAfterLogs(logger);
  };
  process.on("SIGHUP", () => void proxy.reload());
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/**
 * The primary of `AZURE_OPENAI_PROXY_WORKERS` > 1: forks the workers (which share the port), and
 * passes signals on: SIGHUP reloads every worker, SIGTERM/SIGINT drains them all, then exits.
 */
async function runPrimary(config: Config, logger: Logger, emulator: Emulator | undefined) {
  const env = emulator ? { ...process.env, [EMULATOR_URL_VAR]: emulator.url } : process.env;
  const pool = startWorkers(config.workers, logger, env);
  try {
    await pool.listening;
  } catch (error) {
    await pool.stop();
    await emulator?.close();
    process.stderr.write(`azure-oai-proxy: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const url = `${config.tls ? "https" : "http"}://${config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host}:${config.port}`;
  logger.info({ workers: config.workers }, "azure-oai-proxy workers listening");
  if (config.azure.emulator && config.port !== 0) printTryIt(url);
  module.flushCompileCache?.();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: config.workers }, "shutting down");
    await pool.stop();
    await emulator?.close();
    logger.info("stopped");
    exitAfterLogs(logger);
  };
  process.on("SIGHUP", () => pool.reload());
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/**
 * Exits once the last log lines are out, or after a second when they cannot be (stdout closed:
 * a reader that went away must not keep a stopped proxy alive).
 */
function exitAfterLogs(logger: Logger): void {
  setTimeout(() => process.exit(0), 1000);
  logger.flush(() => process.exit(0));
}

function printTryIt(url: string): void {
  process.stdout.write(
    `\nTry it:\n  curl -N ${url}/v1/chat/completions -H "Content-Type: application/json" -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'\n\n`,
  );
}

/** Answers --help and --version, refuses bad flags (exit 2); returns what flags set otherwise. */
async function runFlags(request: CliRequest): Promise<Readonly<Record<string, string>>> {
  switch (request.kind) {
    case "run":
      return request.env;
    case "help": {
      const { usage } = await import("./config/usage.ts");
      process.stdout.write(usage());
      process.exit(0);
      break;
    }
    case "version":
      process.stdout.write(`${packageVersion()}\n`);
      process.exit(0);
      break;
    case "error":
      process.stderr.write(`azure-oai-proxy: ${request.message}\n`);
      process.exit(2);
  }
}

await main();
