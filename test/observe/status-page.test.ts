import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import type { TargetView } from "../../src/observe/route-targets.ts";
import { StatusBoard, type StatusSnapshot } from "../../src/observe/status.ts";
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from "../../src/observe/status-page.ts";
import { noChromium, startBrowser } from "../helpers/browser.ts";

const T0 = Date.parse("2026-12-04T12:00:00Z");

/** Five minutes of known traffic: gpt-4o (with 6 failures and a cooling target) and o3. */
function knownSnapshot(): StatusSnapshot {
  let now = T0;
  const views: TargetView[] = [
    { id: "east/gpt-4o", resource: "east", deployment: "gpt-4o", coolingUntil: 0, failures: 0 },
    {
      id: "west/gpt-4o",
      resource: "west",
      deployment: "gpt-4o",
      coolingUntil: T0 + 345_000,
      failures: 0,
    },
    { id: "east/o3", resource: "east", deployment: "o3", coolingUntil: 0, failures: 0 },
  ];
  const board = new StatusBoard({
    now: () => now,
    openStreams: () => 2,
    targets: {
      pools: () => [
        { model: "gpt-4o", targets: views.slice(0, 2) },
        { model: "o3", targets: views.slice(2) },
      ],
      all: () => views,
    },
  });
  board.configLoaded("/etc/azure-oai-proxy/config.yaml", T0);
  now += 300_000;
  const gpt4o: RequestRecord = {
    operation: "chat.completions",
    model: "gpt-4o",
    deployment: "gpt-4o",
    target: "east/gpt-4o",
    client: "team-a",
    firstByteMs: 200,
    usage: { prompt: 1000, completion: 250, reasoning: 0, cached: 500 },
  };
  for (let i = 0; i < 120; i++) board.record(gpt4o, 200, 800);
  for (let i = 0; i < 6; i++) {
    board.record(
      {
        ...gpt4o,
        usage: undefined,
        attempts: [{ target: "west/gpt-4o", status: 429, ms: 3, failover: "azure 429" }],
      },
      429,
      5,
    );
  }
  const o3: RequestRecord = {
    operation: "POST /v1/responses",
    model: "o3",
    deployment: "o3",
    target: "east/o3",
    client: "team-b",
    firstByteMs: 1500,
    usage: { prompt: 2000, completion: 4000, reasoning: 3000, cached: 0 },
  };
  for (let i = 0; i < 30; i++) board.record(o3, 200, 5000);
  return board.snapshot();
}

async function serve(snapshot: StatusSnapshot): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === "/status") {
      response.writeHead(200, STATUS_PAGE_HEADERS).end(STATUS_PAGE_HTML);
    } else if (request.url === "/status.json") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(snapshot));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("status page in a real browser", { skip: noChromium }, () => {
  let server: Server;
  let url: string;
  let snapshot: StatusSnapshot;
  let browser: Awaited<ReturnType<typeof startBrowser>>;
  before(async () => {
    snapshot = knownSnapshot();
    ({ server, url } = await serve(snapshot));
    browser = await startBrowser({ viewport: { width: 1200, height: 1000 } });
  });
  after(async () => {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("renders the figures of status.json, within its own content security policy", async () => {
    const page = await browser.context.newPage();
    try {
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(`${url}/status`);
      await page.waitForSelector('[data-model="gpt-4o"]');
      // innerText: the text as rendered, what a person reads.
      const text = (selector: string) =>
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
        page.locator(selector).first().innerText();
      const overall = (name: string) => text(`#overall [data-figure="${name}"]`);
      assert.equal(await overall("rps"), "0.52");
      assert.equal(await overall("error-rate"), "3.9 %");
      assert.equal(await overall("p50"), `${snapshot.overall.latencyMs?.p50} ms`);
      assert.equal(await overall("p99"), "5 s");
      assert.equal(await overall("ttfb-p50"), `${snapshot.overall.firstByteMs?.p50} ms`);
      assert.equal(await overall("streams"), "2");

      const gpt4o = '[data-model="gpt-4o"]';
      assert.equal(await text(`${gpt4o} [data-figure="requests"]`), "126");
      assert.equal(await text(`${gpt4o} [data-figure="error-rate"]`), "4.8 %");
      assert.equal(await text(`${gpt4o} [data-target="east/gpt-4o"] .state`), "serving");
      assert.equal(
        await text(`${gpt4o} [data-target="west/gpt-4o"] .state`),
        "cooling until 12:05:45 PM",
      );
      assert.match(
        await text(`${gpt4o} [data-target="west/gpt-4o"] .why`),
        /^azure 429 · 6 attempts, 6 failed$/,
      );
      assert.equal(await text('[data-model="o3"] [data-figure="requests"]'), "30");

      const cell = (table: string, row: string, column: string) =>
        text(`[data-tokens="${table}"] tr[data-name="${row}"] [data-column="${column}"]`);
      assert.equal(await cell("model", "gpt-4o", "prompt"), "120,000");
      assert.equal(await cell("model", "gpt-4o", "cached"), "60,000");
      assert.equal(await cell("model", "o3", "reasoning"), "90,000");
      assert.equal(await cell("client", "team-b", "completion"), "120,000");
      assert.equal(await cell("client", "team-a", "requests"), "120");
      assert.match(
        await text("#config"),
        /^Configuration from \/etc\/azure-oai-proxy\/config\.yaml/,
      );
      assert.deepEqual(problems, []);

      // STATUS_PAGE_SCREENSHOT=docs/status-page.png refreshes the one in the docs.
      const path =
        process.env.STATUS_PAGE_SCREENSHOT ?? join(tmpdir(), "azure-oai-proxy-status-page.png");
      await page.screenshot({ path, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("fits a phone's width without sideways scrolling", async () => {
    const page = await browser.context.newPage();
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${url}/status`);
      await page.waitForSelector('[data-model="o3"]');
      const widths = (await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]",
      )) as number[];
      assert.ok((widths[0] as number) <= (widths[1] as number), `page ${widths[0]} px wide`);
      await page.screenshot({
        path: join(tmpdir(), "azure-oai-proxy-status-page-phone.png"),
        fullPage: true,
      });
    } finally {
      await page.close();
    }
  });

  it("says it is not updating when status.json cannot be read", async () => {
    const page = await browser.context.newPage();
    try {
      await page.route("**/status.json", (route) => route.fulfill({ status: 401, body: "" }));
      await page.goto(`${url}/status`);
      await page.waitForSelector("#updated.stale");
      assert.equal(
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
        await page.locator("#updated").innerText(),
        "not updating: status.json answered 401",
      );
    } finally {
      await page.close();
    }
  });
});
