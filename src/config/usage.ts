/** `--help`'s text; loaded only for --help, so a normal start does not read the docs' tables. */
import { packageVersion } from "./cli-flags.ts";
import { settingsHelp } from "./settings-docs.ts";

/** What `--help` prints: usage, flags, then every setting from the table. */
export function usage(): string {
  return `azure-oai-proxy ${packageVersion()}: an OpenAI-compatible proxy for Azure OpenAI.

Usage:
  azure-oai-proxy [--config FILE]    start the proxy
  azure-oai-proxy emulator [flags]   start the built-in Azure OpenAI emulator on its own
                                     (see: azure-oai-proxy emulator --help)

Flags:
  --config FILE   a YAML file of resources and model pools (wins over AZURE_OPENAI_PROXY_CONFIG)
  -h, --help      print this and exit
  -v, --version   print the version and exit

Settings are environment variables; a .env file in the working directory is read too (the real
environment wins). Sizes take kb, mb, gb or bytes; durations take ms, s, m, h or milliseconds.

${settingsHelp()}`;
}
