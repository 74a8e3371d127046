/**
 * The load generator, a child process of bench/run.ts so it never shares an event loop with
 * what it measures. It receives one job at a time over IPC (`{id, job}`) and answers
 * `{id, result | error, cpuMs}`. Closed-loop and fixed-rate HTTP load use an undici Pool;
 * streams use a bare socket client that sees each network read.
 */
import { Pool } from "undici";
import type {
  ClosedResult,
  Job,
  JobAnswer,
  RateResult,
  StreamsResult,
  Target,
  TransferResult,
} from "./lib/jobs.ts";
import { bigChatBody, chatBody, multipartFrame, STREAM_HEADER } from "./lib/payloads.ts";
import { RawConnection, requestHead } from "./lib/raw-http.ts";
import { Samples, summarize } from "./lib/stats.ts";

const CHAT = chatBody(false);
const CHAT_STREAM = chatBody(true);

function originOf(target: Target): string {
  return `http://${target.host}:${target.port}`;
}

function newPool(target: Target, connections: number): Pool {
  return new Pool(originOf(target), {
    connections,
    pipelining: 1,
    keepAliveTimeout: 120_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

async function closed(job: Extract<Job, { kind: "closed" }>): Promise<ClosedResult> {
  const pool = newPool(job.target, job.connections);
  const latency = new Samples();
  let requests = 0;
  let errors = 0;
  let non2xx = 0;
  const start = performance.now();
  const deadline = start + job.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const { statusCode, body } = await pool.request({
          path: job.target.chatPath,
          method: "POST",
          headers: job.target.headers,
          body: CHAT,
        });
        await body.dump({ limit: 1 << 20 });
        if (statusCode >= 300) non2xx++;
        requests++;
        latency.push(performance.now() - t0);
      } catch {
        errors++;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, worker));
  const elapsed = performance.now() - start;
  await pool.close();
  return {
    requests,
    errors,
    non2xx,
    rps: (requests / elapsed) * 1000,
    latencyMs: summarize(latency.values()),
  };
}

async function rate(job: Extract<Job, { kind: "rate" }>): Promise<RateResult> {
  const pool = newPool(job.target, job.connections);
  const period = 1000 / job.rate;
  const total = Math.round((job.rate * job.durationMs) / 1000);
  const latency: number[] = [];
  const service = new Samples();
  const late = new Samples();
  let completed = 0;
  let non2xx = 0;
  let pending = 0;
  let allSent: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allSent = resolve;
  });
  let sent = 0;
  const fire = (scheduled: number) => {
    const sentAt = performance.now();
    pending++;
    pool
      .request({
        path: job.target.chatPath,
        method: "POST",
        headers: job.target.headers,
        body: CHAT,
      })
      .then(async ({ statusCode, body }) => {
        await body.dump({ limit: 1 << 20 });
        const now = performance.now();
        if (statusCode >= 300) non2xx++;
        latency.push(now - scheduled);
        service.push(now - sentAt);
        completed++;
      })
      .catch(() => {})
      .finally(() => {
        pending--;
        if (sent === total && pending === 0) allSent();
      });
  };
  const start = performance.now() + 20;
  const pump = () => {
    const now = performance.now();
    while (sent < total && start + sent * period <= now) {
      const scheduled = start + sent * period;
      late.push(now - scheduled);
      sent++;
      fire(scheduled);
    }
    if (sent < total) setTimeout(pump, Math.max(0, start + sent * period - performance.now()));
  };
  setTimeout(pump, 20);
  await Promise.race([done, new Promise((r) => setTimeout(r, job.durationMs + 30_000))]);
  await pool.destroy();
  return {
    scheduled: total,
    completed,
    errors: total - completed,
    non2xx,
    latencyMs: latency,
    serviceMs: summarize(service.values()),
    lateMs: summarize(late.values()),
  };
}

/** Watches one SSE response read by read. */
class StreamObserver {
  private tail = "";
  first = -1;
  private previous = -1;
  kept = 0;
  coalesced = false;
  done = false;

  private readonly gaps: Samples | undefined;

  constructor(gaps: Samples | undefined) {
    this.gaps = gaps;
  }

  read(body: Buffer | undefined, at: number): void {
    if (body === undefined) return;
    const text = this.tail + body.toString("latin1");
    let position = 0;
    let events = 0;
    for (;;) {
      const end = text.indexOf("\n\n", position);
      if (end === -1) break;
      events++;
      const event = text.slice(position, end);
      position = end + 2;
      if (event.includes("prompt_filter_results") && !event.includes('"delta"')) continue; // Azure artefact
      if (event.startsWith("data: [DONE]")) this.done = true;
      if (this.first < 0) this.first = at;
      else this.gaps?.push(at - this.previous);
      this.previous = at;
      this.kept++;
    }
    this.tail = text.slice(position);
    if (events >= 2) this.coalesced = true;
  }
}

interface StreamTally {
  streams: number;
  completed: number;
  failed: number;
  coalesced: number;
  ttfc: Samples;
  gaps: Samples;
  durations: Samples;
  errors: Map<string, number>;
}

function newTally(): StreamTally {
  return {
    streams: 0,
    completed: 0,
    failed: 0,
    coalesced: 0,
    ttfc: new Samples(),
    gaps: new Samples(),
    durations: new Samples(),
    errors: new Map(),
  };
}

function tallyResult(t: StreamTally): StreamsResult {
  return {
    streams: t.streams,
    completed: t.completed,
    failed: t.failed,
    coalesced: t.coalesced,
    ttfcMs: summarize(t.ttfc.values()),
    gapMs: summarize(t.gaps.values()),
    durationMs: summarize(t.durations.values()),
    errors: [...t.errors].map(([message, count]) => `${count}× ${message}`),
  };
}

function noteError(t: StreamTally, message: string): void {
  t.errors.set(message, (t.errors.get(message) ?? 0) + 1);
}

function streamHead(target: Target, chunks: number, intervalMs: number): Buffer {
  return requestHead(
    "POST",
    target.chatPath,
    `${target.host}:${target.port}`,
    { ...target.headers, accept: "text/event-stream", [STREAM_HEADER]: `${chunks};${intervalMs}` },
    CHAT_STREAM.length,
  );
}

/** One stream on `conn`, recorded into `tally` when `record` is set. */
async function oneStream(
  conn: RawConnection,
  head: Buffer,
  chunks: number,
  timeoutMs: number,
  tally: StreamTally,
  record: boolean,
): Promise<void> {
  const observer = new StreamObserver(record ? tally.gaps : undefined);
  const sentAt = performance.now();
  try {
    const response = await conn.request(
      head,
      CHAT_STREAM,
      (b, at) => observer.read(b, at),
      timeoutMs,
    );
    if (!record) return;
    tally.streams++;
    const end = performance.now();
    if (response.status !== 200) {
      tally.failed++;
      noteError(tally, `status ${response.status}`);
      return;
    }
    if (!observer.done || observer.kept !== chunks + 1) {
      tally.failed++;
      noteError(tally, `incomplete stream (${observer.kept}/${chunks + 1} events)`);
      return;
    }
    tally.completed++;
    if (observer.coalesced) tally.coalesced++;
    tally.ttfc.push(observer.first - sentAt);
    tally.durations.push(end - sentAt);
  } catch (error) {
    if (!record) return;
    tally.streams++;
    tally.failed++;
    noteError(tally, (error as Error).message);
  }
}

async function streams(job: Extract<Job, { kind: "streams" }>): Promise<StreamsResult> {
  const { target } = job;
  const head = streamHead(target, job.chunks, job.intervalMs);
  const tally = newTally();
  const start = performance.now();
  const recordFrom = start + job.warmupMs;
  const deadline = recordFrom + job.durationMs;
  const streamMs = (job.chunks + 1) * job.intervalMs;
  const timeoutMs = streamMs + 30_000;
  const worker = async (index: number) => {
    // Spread the starts over one stream length so arrivals are steady, not in waves.
    await new Promise((r) => setTimeout(r, (index * streamMs) / job.concurrency));
    const conn = new RawConnection(target.host, target.port);
    try {
      while (performance.now() < deadline) {
        if (!conn.usable) {
          try {
            await conn.connect();
          } catch (error) {
            noteError(tally, `connect: ${(error as Error).message}`);
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
        }
        await oneStream(conn, head, job.chunks, timeoutMs, tally, performance.now() >= recordFrom);
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, (_, i) => worker(i)));
  return tallyResult(tally);
}

async function idleStreams(job: Extract<Job, { kind: "idle-streams" }>): Promise<StreamsResult> {
  const { target } = job;
  const head = streamHead(target, job.chunks, job.intervalMs);
  const tally = newTally();
  const conns = Array.from(
    { length: job.count },
    () => new RawConnection(target.host, target.port),
  );
  // Connect first, in batches, so the listen backlog is never the bottleneck being measured.
  for (let i = 0; i < conns.length; i += 100) {
    await Promise.all(
      conns
        .slice(i, i + 100)
        .map((c) => c.connect().catch((e: Error) => noteError(tally, `connect: ${e.message}`))),
    );
  }
  const runs = conns.map(async (conn, i) => {
    await new Promise((r) => setTimeout(r, (i * job.rampMs) / job.count));
    if (!conn.usable) {
      tally.streams++;
      tally.failed++;
      return;
    }
    await oneStream(conn, head, job.chunks, job.timeoutMs, tally, true);
  });
  await Promise.race([
    Promise.all(runs),
    new Promise((r) => setTimeout(r, job.timeoutMs + job.rampMs + 5000)),
  ]);
  for (const conn of conns) conn.close();
  return tallyResult(tally);
}

async function* uploadBody(bytes: number, head: Buffer, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  const block = Buffer.alloc(256 * 1024, 0x5a);
  for (let left = bytes; left > 0; left -= block.length) {
    yield left >= block.length ? block : block.subarray(0, left);
  }
  yield tail;
}

async function transfer(
  target: Target,
  path: string,
  headers: Record<string, string>,
  length: number,
  body: Buffer | AsyncIterable<Buffer>,
  timeoutMs: number,
): Promise<TransferResult> {
  const conn = new RawConnection(target.host, target.port);
  const chunks: Buffer[] = [];
  const start = performance.now();
  try {
    await conn.connect();
    const head = requestHead("POST", path, `${target.host}:${target.port}`, headers, length);
    const response = await conn.request(head, body, (b) => b && chunks.push(b), timeoutMs);
    const ms = performance.now() - start;
    let upstreamBytes: number | undefined;
    try {
      upstreamBytes = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { bytes?: number })
        .bytes;
    } catch {}
    return { status: response.status, ms, bytes: length, upstreamBytes, error: undefined };
  } catch (error) {
    return {
      status: 0,
      ms: performance.now() - start,
      bytes: length,
      upstreamBytes: undefined,
      error: (error as Error).message,
    };
  } finally {
    conn.close();
  }
}

async function upload(job: Extract<Job, { kind: "upload" }>): Promise<TransferResult> {
  const frame = multipartFrame(job.modelFirst);
  const length = frame.head.length + job.bytes + frame.tail.length;
  const headers: Record<string, string> = { ...job.target.headers };
  headers["content-type"] = `multipart/form-data; boundary=${frame.boundary}`;
  return transfer(
    job.target,
    job.target.uploadPath,
    headers,
    length,
    uploadBody(job.bytes, frame.head, frame.tail),
    job.timeoutMs,
  );
}

let bigBody: Buffer | undefined;
async function json(job: Extract<Job, { kind: "json" }>): Promise<TransferResult> {
  if (bigBody === undefined || Math.abs(bigBody.length - job.bytes) > 1 << 20)
    bigBody = bigChatBody(job.bytes);
  return transfer(
    job.target,
    job.target.chatPath,
    { ...job.target.headers },
    bigBody.length,
    bigBody,
    job.timeoutMs,
  );
}

async function run(job: Job): Promise<unknown> {
  switch (job.kind) {
    case "closed":
      return closed(job);
    case "rate":
      return rate(job);
    case "streams":
      return streams(job);
    case "idle-streams":
      return idleStreams(job);
    case "upload":
      return upload(job);
    case "json":
      return json(job);
  }
}

process.on("message", (message: { id: number; job: Job }) => {
  const cpu0 = process.cpuUsage();
  run(message.job).then(
    (result) => reply({ id: message.id, result, cpuMs: cpuSince(cpu0) }),
    (error: Error) =>
      reply({ id: message.id, error: error.stack ?? error.message, cpuMs: cpuSince(cpu0) }),
  );
});

function cpuSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

function reply(answer: JobAnswer): void {
  process.send?.(answer);
}

process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
process.send?.({ id: 0, result: "ready", cpuMs: 0 });
