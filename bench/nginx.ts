/**
 * nginx as a rewriting reverse proxy: the Debian package (installed when missing), one worker
 * (the Node contenders have one event loop each), keep-alive to the upstream,
 * `proxy_buffering off` and `proxy_request_buffering off` so streams and uploads flow through,
 * the same fixed rewrite to the deployment path and the same `api-key` as the Node floor.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AZURE_CHAT_PATH,
  AZURE_KEY,
  AZURE_TRANSCRIBE_PATH,
  OPENAI_CHAT_PATH,
  OPENAI_TRANSCRIBE_PATH,
} from "./lib/payloads.ts";

const CANDIDATES = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

function which(name: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = found.stdout.trim();
  return found.status === 0 && path !== "" ? path : undefined;
}

export function findNginx(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p)) ?? which("nginx");
}

/**
 * Installs Debian packages with apt-get when we are root and apt exists. Services are not
 * started (policy-rc.d already says so in containers; RUNLEVEL=1 covers sysvinit scripts).
 * Returns a reason when it could not.
 */
export function aptInstall(packages: readonly string[], timeoutMs: number): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  if (which("apt-get") === undefined) return "no apt-get";
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive", RUNLEVEL: "1" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      env,
      timeout: timeoutMs,
      encoding: "utf8",
    });
  let result = install();
  if (result.status !== 0) {
    spawnSync("apt-get", ["update", "-qq"], { env, timeout: timeoutMs, encoding: "utf8" });
    result = install();
  }
  if (result.status !== 0)
    return (result.stderr || result.stdout || "apt-get failed").trim().split("\n").slice(-1)[0];
  return undefined;
}

export function nginxVersion(binary: string): string {
  const out = spawnSync(binary, ["-v"], { encoding: "utf8" });
  return `${out.stdout ?? ""}${out.stderr ?? ""}`.trim() || "unknown";
}

/** Writes the config into `dir` and returns its path. */
export function writeNginxConfig(dir: string, listenPort: number, upstreamPort: number): string {
  for (const sub of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  const rewrite = (from: string, to: string) => `
    location = ${from} {
      rewrite ^ ${to} break;
      proxy_pass http://azure;
    }`;
  const config = `# written by bench/nginx.ts
${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
daemon off;

events {
  worker_connections 10000;
}

http {
  access_log /dev/null;
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};

  keepalive_timeout 120s;
  keepalive_requests 100000000;
  client_max_body_size 0;
  tcp_nodelay on;

  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Authorization "";
  proxy_set_header api-key "${AZURE_KEY}";
  proxy_buffering off;
  proxy_request_buffering off;
  proxy_read_timeout 600s;
  proxy_send_timeout 600s;

  upstream azure {
    server 127.0.0.1:${upstreamPort};
    keepalive 2048;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
  }

  server {
    listen 127.0.0.1:${listenPort};
    location = /healthz { return 200 "ok\\n"; }
    ${rewrite(OPENAI_CHAT_PATH, AZURE_CHAT_PATH)}
    ${rewrite(OPENAI_TRANSCRIBE_PATH, AZURE_TRANSCRIBE_PATH)}
    location / { return 404; }
  }
}
`;
  const path = join(dir, "nginx.conf");
  writeFileSync(path, config);
  return path;
}

/** Arguments that run nginx in the foreground with our config and prefix. */
export function nginxArgs(dir: string, configPath: string): string[] {
  return ["-p", `${dir}/`, "-c", configPath, "-e", join(dir, "error.log")];
}
