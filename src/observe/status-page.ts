import { createHash } from "node:crypto";

/**
 * The status page: one HTML file with its style and script inline, no build step and no
 * framework. It reads `status.json` beside it every five seconds and draws it with
 * `textContent` only, since model and client names come from clients. Kept in a .ts module,
 * not an .html file, so the built package (dist/) carries it too.
 */

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --muted: #6b7280;
  --card: rgba(127,127,127,.08); --line: rgba(127,127,127,.25); }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline;
  padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.1rem; margin: 0; }
#updated { color: var(--muted); font-size: .85rem; }
#updated.stale { color: var(--bad); font-weight: 600; }
main { padding: 1rem; max-width: 75rem; margin: 0 auto; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem; }
.tile { background: var(--card); border-radius: .5rem; padding: .6rem .75rem; }
.tile .label { color: var(--muted); font-size: .8rem; }
.tile .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.models { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: .75rem; }
.model { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; }
.model h3 { margin: 0 0 .4rem; font-size: 1rem; overflow-wrap: anywhere; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: .25rem .75rem; }
.figures div { font-variant-numeric: tabular-nums; }
.figures .label { display: block; color: var(--muted); font-size: .75rem; }
.targets { list-style: none; padding: 0; margin: .6rem 0 0; }
.targets li { padding: .3rem 0; border-top: 1px solid var(--line); overflow-wrap: anywhere; }
.dot { display: inline-block; width: .65rem; height: .65rem; border-radius: 50%; margin-right: .4rem; }
.serving .dot { background: var(--ok); }
.cooling .dot { background: var(--warn); }
.cooling .state { color: var(--warn); font-weight: 600; }
.why { color: var(--muted); font-size: .85rem; }
.bad { color: var(--bad); font-weight: 650; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; overflow-wrap: anywhere;
  min-width: 7rem; }
@media (max-width: 30rem) { table { font-size: .85rem; } th, td { padding: .3rem .35rem; }
  main { padding: .75rem; } }
th { color: var(--muted); font-weight: 500; font-size: .8rem; }
footer { color: var(--muted); font-size: .8rem; padding: 1rem; text-align: center; }
.empty { color: var(--muted); }
#tokens-client { margin-top: 1rem; }
`;

const SCRIPT = `
"use strict";
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);
const el = (tag, props, children) => {
  const node = document.createElement(tag);
  for (const k in props || {}) {
    if (k === "dataset") Object.assign(node.dataset, props[k]);
    else node[k] = props[k];
  }
  for (const child of children || []) node.append(child);
  return node;
};
const count = (n) => Number(n).toLocaleString("en-US");
const rate = (n) => (n >= 100 ? count(Math.round(n)) : String(Math.round(n * 100) / 100));
const percent = (r) => (Math.round(r * 1000) / 10) + " %";
const ms = (n) => (n == null ? "–" : n < 1000 ? Math.round(n) + " ms" : (Math.round(n / 100) / 10) + " s");
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function tile(label, value, name, bad) {
  return el("div", { className: "tile" }, [
    el("div", { className: "label", textContent: label }),
    el("div", { className: "value" + (bad ? " bad" : ""), textContent: value, dataset: { figure: name } }),
  ]);
}

function figure(label, value, name, bad) {
  return el("div", {}, [
    el("span", { className: "label", textContent: label }),
    el("span", { className: bad ? "bad" : "", textContent: value, dataset: { figure: name } }),
  ]);
}

function target(t) {
  const state = t.state === "cooling" ? "cooling until " + clock(t.coolingUntil) : "serving";
  const item = el("li", { className: t.state, dataset: { target: t.id } }, [
    el("span", { className: "dot" }),
    el("strong", { textContent: t.id }),
    " ",
    el("span", { className: "state", textContent: state }),
  ]);
  const notes = [];
  if (t.why) notes.push(t.why);
  if (t.attempts) notes.push(count(t.attempts) + " attempts, " + count(t.failedAttempts) + " failed");
  if (notes.length) item.append(el("div", { className: "why", textContent: notes.join(" · ") }));
  return item;
}

function model(m) {
  const key = m.model;
  return el("section", { className: "model", dataset: { model: key } }, [
    el("h3", { textContent: key }),
    el("div", { className: "figures" }, [
      figure("req/s", rate(m.requestsPerSecond), "rps"),
      figure("errors", percent(m.errorRate), "error-rate", m.errorRate >= 0.05),
      figure("requests", count(m.requests), "requests"),
      figure("p50", ms(m.latencyMs && m.latencyMs.p50), "p50"),
      figure("p99", ms(m.latencyMs && m.latencyMs.p99), "p99"),
      figure("first byte p50", ms(m.firstByteMs && m.firstByteMs.p50), "ttfb-p50"),
    ]),
    el("ul", { className: "targets" }, m.targets.map(target)),
  ]);
}

function tokenTable(title, rows) {
  if (rows.length === 0) return el("p", { className: "empty", textContent: "No tokens yet today." });
  const head = ["", "requests", "prompt", "completion", "reasoning", "cached"];
  return el("div", { className: "scroll" }, [
    el("table", { dataset: { tokens: title } }, [
      el("thead", {}, [el("tr", {}, head.map((h, i) => el("th", { textContent: i ? h : title })))]),
      el("tbody", {}, rows.map((r) =>
        el("tr", { dataset: { name: r.name } }, [
          el("td", { textContent: r.name }),
          ...["requests", "prompt", "completion", "reasoning", "cached"].map((k) =>
            el("td", { textContent: count(r[k]), dataset: { column: k } })),
        ]))),
    ]),
  ]);
}

function render(s) {
  const o = s.overall;
  $("overall").replaceChildren(
    tile("requests/s", rate(o.requestsPerSecond), "rps"),
    tile("error rate", percent(o.errorRate), "error-rate", o.errorRate >= 0.05),
    tile("p50 latency", ms(o.latencyMs && o.latencyMs.p50), "p50"),
    tile("p99 latency", ms(o.latencyMs && o.latencyMs.p99), "p99"),
    tile("first byte p50", ms(o.firstByteMs && o.firstByteMs.p50), "ttfb-p50"),
    tile("first byte p99", ms(o.firstByteMs && o.firstByteMs.p99), "ttfb-p99"),
    tile("streams open", count(s.streamsOpen), "streams"),
  );
  $("window").textContent = "last " + Math.round(s.windowSeconds / 60 * 10) / 10 + " min";
  $("models").replaceChildren(...(s.models.length ? s.models.map(model)
    : [el("p", { className: "empty", textContent: "No models configured and no traffic yet." })]));
  $("day").textContent = s.tokensToday.day + " UTC";
  $("tokens-model").replaceChildren(tokenTable("model", s.tokensToday.byModel));
  $("tokens-client").replaceChildren(tokenTable("client", s.tokensToday.byClient));
  const c = s.configuration;
  $("config").textContent = c ? "Configuration from " + c.source + ", loaded " + new Date(c.loadedAt).toLocaleString() : "";
  $("started").textContent = "Up since " + new Date(s.startedAt).toLocaleString();
  const updated = $("updated");
  updated.className = "";
  updated.textContent = "updated " + clock(s.generatedAt);
}

async function refresh() {
  try {
    const response = await fetch("status.json", { cache: "no-store" });
    if (!response.ok) throw new Error("status.json answered " + response.status);
    render(await response.json());
  } catch (error) {
    const updated = $("updated");
    updated.className = "stale";
    updated.textContent = "not updating: " + error.message;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}
refresh();
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** The page's HTML. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>azure-oai-proxy status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>azure-oai-proxy</h1><span id="window"></span><span id="updated">loading…</span></header>
<main>
<div class="tiles" id="overall"></div>
<h2>Models</h2>
<div class="models" id="models"></div>
<h2>Tokens today <span id="day" class="why"></span></h2>
<div id="tokens-model"></div>
<div id="tokens-client"></div>
</main>
<footer><div id="config"></div><div id="started"></div></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * Headers to send with the page: a content security policy that allows only its own inline
 * style and script (by hash) and fetches to its own origin.
 */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": [
    "default-src 'none'",
    `script-src ${sha256(SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
};
