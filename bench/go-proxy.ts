/**
 * The original Go proxy (Gyarbij/azure-oai-proxy, what users switch from) as a contender. Its
 * unmodified source and build script live outside this repo, in `../shared/seed/` beside the
 * checkout; the binary is built once into a cache outside the repo, keyed by a hash of the
 * source, and never committed.
 *
 * How it is run (its main.go and pkg/azure/proxy.go): AZURE_OPENAI_ENDPOINT is the upstream,
 * AZURE_OPENAI_PROXY_ADDRESS the listen address (default 0.0.0.0:11437, so always set to
 * loopback here), `.env` in its working directory is read (so it runs in an empty directory).
 * It has no key of its own: the client's `Authorization: Bearer <key>` becomes Azure's `api-key`.
 * It sends `/openai/deployments/{model}/chat/completions?api-version=2024-08-01-preview`, and
 * for uploads (it takes the model from a JSON body only) `/openai/deployments/audio/transcriptions`
 * with no deployment, which the fake answers like the usual path so memory can be compared.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const SCRIPT = "build-go-proxy.sh";
const SOURCE = "go-proxy";
const BINARY = "azure-oai-proxy";

/**
 * Where the seed is: `--go-seed`, else `../shared/seed` beside this checkout, else beside the
 * main checkout when this one is a `git worktree` elsewhere.
 */
export function findSeed(repo: string, explicit: string | undefined): string | undefined {
  const candidates = [explicit, join(repo, "../shared/seed")];
  const common = spawnSync(
    "git",
    ["-C", repo, "rev-parse", "--path-format=absolute", "--git-common-dir"],
    {
      encoding: "utf8",
    },
  );
  if (common.status === 0 && common.stdout.trim() !== "")
    candidates.push(join(dirname(dirname(common.stdout.trim())), "shared/seed"));
  return candidates
    .filter((c): c is string => c !== undefined)
    .map((c) => resolve(c))
    .find((c) => existsSync(join(c, SCRIPT)) && existsSync(join(c, SOURCE)));
}

/** A hash of the build script and every source file, so a changed seed is built again. */
function seedHash(seed: string): string {
  const hash = createHash("sha256");
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(`${path.slice(seed.length)}\0`).update(readFileSync(path));
    }
  };
  hash.update(readFileSync(join(seed, SCRIPT)));
  walk(join(seed, SOURCE));
  return hash.digest("hex").slice(0, 12);
}

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  try {
    mkdirSync(base, { recursive: true });
    return join(base, "azure-oai-proxy-bench");
  } catch {
    return join(tmpdir(), "azure-oai-proxy-bench-cache");
  }
}

export type GoProxyBuild =
  | { readonly binary: string; readonly version: string; readonly built: boolean }
  | { readonly binary: undefined; readonly why: string };

/**
 * The Go proxy's binary: from the cache, or built now by the seed's script (which installs
 * Debian's Go and gin with apt-get when they are missing, unless `install` is false).
 */
export function goProxyBinary(
  repo: string,
  options: { seed?: string; install: boolean },
): GoProxyBuild {
  const seed = findSeed(repo, options.seed);
  if (seed === undefined)
    return {
      binary: undefined,
      why: "its seed (../shared/seed/build-go-proxy.sh) is not beside this checkout",
    };
  const hash = seedHash(seed);
  const dir = join(cacheRoot(), `go-proxy-${hash}`);
  const binary = join(dir, BINARY);
  const version = `Go proxy from ${seed}/${SOURCE} (source ${hash})`;
  if (existsSync(binary)) return { binary, version, built: false };
  if (!options.install && spawnSync("sh", ["-c", "command -v go"]).status !== 0)
    return { binary: undefined, why: "Go is not installed (and --no-install)" };
  const build = spawnSync("bash", [join(seed, SCRIPT), dir], {
    encoding: "utf8",
    timeout: 600_000,
  });
  if (build.status !== 0 || !existsSync(binary)) {
    const tail = `${build.stderr ?? ""}${build.stdout ?? ""}`
      .trim()
      .split("\n")
      .slice(-3)
      .join(" | ");
    return {
      binary: undefined,
      why: `${SCRIPT} failed (${build.error?.message ?? `exit ${build.status}`}): ${tail.slice(0, 400)}`,
    };
  }
  return { binary, version, built: true };
}
