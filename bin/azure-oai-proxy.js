#!/usr/bin/env node
// azure-oai-proxy            start the proxy (configured by environment variables / .env)
// azure-oai-proxy emulator   start the built-in Azure OpenAI emulator on its own
// Plain JavaScript that any Node since 12 parses: it says which Node is needed before anything
// loads the TypeScript sources, which older Nodes refuse with ERR_UNKNOWN_FILE_EXTENSION.
import { existsSync } from "node:fs";

const [major, minor] = process.versions.node.split(".").map(Number);
// Type stripping without a flag: Node 22.18+, 23.6+, 24+.
if (!(major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18))) {
  process.stderr.write(
    `azure-oai-proxy: needs Node.js 22.18 or newer (24 recommended); this is Node ${process.versions.node} (${process.execPath})\n`,
  );
  process.exit(1);
}

const root = new URL("../", import.meta.url);
// In a checkout, run the TypeScript sources directly (Node strips the types); a published
// package (inside node_modules, where Node will not strip types) runs the built dist/.
const fromSource =
  existsSync(new URL("src/main.ts", root)) && !root.pathname.includes("/node_modules/");
const entry = (name) => new URL(fromSource ? `src/${name}.ts` : `dist/${name}.js`, root).href;

const [command, ...rest] = process.argv.slice(2);
if (command === "emulator") {
  // The emulator is its own workspace package (packages/emulator), absent from production images.
  let emulator;
  try {
    emulator = await import("@azure-oai-proxy/emulator/main");
  } catch {
    process.stderr.write(
      "azure-oai-proxy: the emulator is not installed here (it is a development package)\n",
    );
    process.exit(2);
  }
  await emulator.runEmulatorCli(rest);
} else if (command === undefined || command.startsWith("-")) {
  await import(entry("main"));
} else {
  process.stderr.write(`azure-oai-proxy: unknown command "${command}" (commands: emulator)\n`);
  process.exit(2);
}
