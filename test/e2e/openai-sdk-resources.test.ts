/**
 * The official `openai` SDK against the real proxy in front of the Azure OpenAI emulator, for the
 * resource-scoped surface: files, uploads, fine-tuning, batches, Responses, Assistants, vector
 * stores and any other `/v1/` path, in both Azure API styles (dated and v1). Each test checks
 * what the client got and what Azure (the emulator) received.
 *
 * The emulator's asynchronous objects (jobs, batches, runs, …) are given a long duration, so they
 * move only when retrieved: each retrieve moves one status on, and every test is deterministic.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { greeting, planText } from "@azure-oai-proxy/emulator/answers";
import { responseStreamEvents } from "@azure-oai-proxy/emulator/resources/responses";
import OpenAI, { toFile } from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";
import {
  assertResourceUpstream,
  bulkBytes,
  resourcePath,
  STYLE_ENV,
  STYLES,
  sdkClient,
  sdkError,
  sha256,
  testBytes,
} from "./sdk-harness.ts";

const MB = 1024 * 1024;
/** Long enough that nothing moves on its own during a test: only retrieves move objects. */
const JOB_DURATION_MS = 60_000;
const BASE_MODEL = "gpt-4o-mini-2024-07-18";

/** A chat fine-tuning file: one conversation per line. */
function trainingJsonl(lines: number): Buffer {
  const rows = Array.from({ length: lines }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: `Question ${i}?` },
        { role: "assistant", content: `Answer ${i}.` },
      ],
    }),
  );
  return Buffer.from(`${rows.join("\n")}\n`);
}

/** A batch input file whose lines name the `gpt-4o` deployment (the proxy does not rewrite it). */
function batchJsonl(prompts: readonly string[], deployment = "gpt-4o"): Buffer {
  const rows = prompts.map((content, i) =>
    JSON.stringify({
      custom_id: `request-${i + 1}`,
      method: "POST",
      url: "/chat/completions",
      body: { model: deployment, messages: [{ role: "user", content }] },
    }),
  );
  return Buffer.from(`${rows.join("\n")}\n`);
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** Every `event:` name of a raw SSE body, in order. */
function sseEventNames(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("event: "))
    .map((line) => line.slice("event: ".length));
}

for (const style of STYLES) {
  describe(`the OpenAI SDK on resource-scoped routes through the proxy, ${style} style`, () => {
    let stack: Stack;
    let client: OpenAI;
    before(async () => {
      stack = await startStack({
        env: STYLE_ENV[style],
        emulator: { jobDurationMs: JOB_DURATION_MS },
      });
      client = sdkClient(stack);
    });
    after(() => stack.close());

    /** Checks the last `method` request to `path` (below /openai/ or /openai/v1/) and returns it. */
    const upstream = (method: string, path: string) =>
      assertResourceUpstream(stack, style, method, path);

    const upload = async (bytes: Buffer, filename: string, purpose: "fine-tune" | "batch") =>
      client.files.create({ file: await toFile(bytes, filename), purpose });

    // ---- files ----

    it(`uploads a JSONL training file and reads back the same bytes (${style})`, async () => {
      const jsonl = trainingJsonl(20);
      const file = await upload(jsonl, "train.jsonl", "fine-tune");
      assert.match(file.id, /^file-/);
      assert.equal(file.object, "file");
      assert.equal(file.bytes, jsonl.length);
      assert.equal(file.filename, "train.jsonl");
      assert.equal(file.purpose, "fine-tune");
      assert.equal(file.status, "processed");

      const request = upstream("POST", "files");
      assert.match(String(request.headers["content-type"]), /^multipart\/form-data; boundary=/);
      assert.equal(request.multipart?.fields.purpose, "fine-tune");
      const sent = request.multipart?.files[0];
      assert.equal(sent?.field, "file");
      assert.equal(sent?.filename, "train.jsonl");
      assert.equal(sent?.size, jsonl.length);
      assert.equal(sent?.sha256, sha256(jsonl));

      const content = await client.files.content(file.id);
      assert.deepEqual(Buffer.from(await content.arrayBuffer()), jsonl);
      upstream("GET", `files/${file.id}/content`);
    });

    it(`uploads a 25 MB file through the proxy and reads back the same bytes (${style})`, async () => {
      const big = bulkBytes(25 * MB, `big-${style}`);
      const file = await upload(big, "weights.bin", "fine-tune");
      assert.equal(file.bytes, big.length);

      const request = upstream("POST", "files");
      const sent = request.multipart?.files[0];
      assert.equal(sent?.size, big.length, "the emulator received every byte");
      assert.equal(sent?.sha256, sha256(big), "and the same bytes");
      assert.equal(request.aborted, false);

      const response = await client.files.content(file.id);
      assert.equal(response.headers.get("content-length"), String(big.length));
      const back = Buffer.from(await response.arrayBuffer());
      assert.equal(back.length, big.length);
      assert.equal(sha256(back), sha256(big), "the download is the same bytes");
    });

    it(`relays a file download without piling up listeners on the client's response (${style})`, async () => {
      const bytes = bulkBytes(2 * MB, `leak-${style}`);
      const file = await upload(bytes, "leak.bin", "fine-tune");
      const warnings: string[] = [];
      const onWarning = (warning: Error) => {
        if (warning.name === "MaxListenersExceededWarning") warnings.push(warning.message);
      };
      process.on("warning", onWarning);
      try {
        const response = await client.files.content(file.id);
        const body = response.body;
        assert.ok(body);
        let received = 0;
        // A reader slower than loopback, as real clients are: the proxy must wait for drain.
        for await (const chunk of body) {
          received += chunk.length;
          await tick();
        }
        assert.equal(received, bytes.length);
        await tick(); // warnings are emitted on the next tick
      } finally {
        process.off("warning", onWarning);
      }
      assert.deepEqual(warnings, []);
    });

    it(`lists files filtered by purpose, retrieves one and deletes it (${style})`, async () => {
      const training = await upload(trainingJsonl(2), "listed.jsonl", "fine-tune");
      const batchInput = await upload(batchJsonl(["Hi"]), "batch-input.jsonl", "batch");

      const fineTune = await collect(client.files.list({ purpose: "fine-tune" }));
      const ids = fineTune.map((f) => f.id);
      assert.ok(ids.includes(training.id), "the fine-tune file is listed");
      assert.ok(!ids.includes(batchInput.id), "the batch file is filtered out");
      assert.ok(fineTune.every((f) => f.purpose === "fine-tune"));
      assert.equal(upstream("GET", "files").query.purpose, "fine-tune");

      const batchFiles = await collect(client.files.list({ purpose: "batch" }));
      assert.deepEqual(
        batchFiles.map((f) => f.id),
        [batchInput.id],
      );

      const retrieved = await client.files.retrieve(training.id);
      assert.deepEqual(retrieved, training);
      upstream("GET", `files/${training.id}`);

      const deleted = await client.files.delete(training.id);
      assert.deepEqual(deleted, { id: training.id, object: "file", deleted: true });
      upstream("DELETE", `files/${training.id}`);

      const error = await sdkError(() => client.files.retrieve(training.id));
      assert.ok(error instanceof OpenAI.NotFoundError, error.constructor.name);
      assert.equal(error.code, "notFound");
    });

    // ---- uploads ----

    it(`uploads a file in two parts with the Uploads API and completes it (${style})`, async () => {
      const first = testBytes(3 * MB, `part1-${style}`);
      const second = testBytes(1 * MB + 17, `part2-${style}`);
      const whole = Buffer.concat([first, second]);
      const created = await client.uploads.create({
        bytes: whole.length,
        filename: "two-parts.jsonl",
        mime_type: "application/jsonl",
        purpose: "fine-tune",
      });
      assert.match(created.id, /^upload_/);
      assert.equal(created.status, "pending");
      assert.equal(created.bytes, whole.length);
      assert.deepEqual(upstream("POST", "uploads").json, {
        bytes: whole.length,
        filename: "two-parts.jsonl",
        mime_type: "application/jsonl",
        purpose: "fine-tune",
      });

      const parts = [];
      for (const [index, bytes] of [first, second].entries()) {
        const part = await client.uploads.parts.create(created.id, {
          data: await toFile(bytes, `part-${index}`),
        });
        assert.match(part.id, /^part_/);
        assert.equal(part.upload_id, created.id);
        const sent = upstream("POST", `uploads/${created.id}/parts`).multipart?.files[0];
        assert.equal(sent?.field, "data");
        assert.equal(sent?.size, bytes.length);
        assert.equal(sent?.sha256, sha256(bytes));
        parts.push(part);
      }

      const completed = await client.uploads.complete(created.id, {
        part_ids: parts.map((p) => p.id),
      });
      assert.equal(completed.status, "completed");
      assert.deepEqual(upstream("POST", `uploads/${created.id}/complete`).json, {
        part_ids: parts.map((p) => p.id),
      });
      const file = completed.file;
      assert.ok(file);
      assert.equal(file.bytes, whole.length);
      assert.equal(file.filename, "two-parts.jsonl");
      const back = Buffer.from(await (await client.files.content(file.id)).arrayBuffer());
      assert.equal(sha256(back), sha256(whole), "the parts were joined in order");
    });

    it(`cancels a pending upload (${style})`, async () => {
      const created = await client.uploads.create({
        bytes: 10,
        filename: "never.jsonl",
        mime_type: "application/jsonl",
        purpose: "batch",
      });
      const cancelled = await client.uploads.cancel(created.id);
      assert.equal(cancelled.id, created.id);
      assert.equal(cancelled.status, "cancelled");
      upstream("POST", `uploads/${created.id}/cancel`);
      const error = await sdkError(() =>
        client.uploads.complete(created.id, { part_ids: ["part_x"] }),
      );
      assert.equal(error.status, 409);
    });

    // ---- fine-tuning ----

    it(`creates a fine-tuning job with the base model name passed unchanged (${style})`, async () => {
      const training = await upload(trainingJsonl(10), "ft.jsonl", "fine-tune");
      const job = await client.fineTuning.jobs.create({
        model: BASE_MODEL,
        training_file: training.id,
        suffix: "e2e",
        hyperparameters: { n_epochs: 2 },
      });
      assert.match(job.id, /^ftjob-/);
      assert.equal(job.object, "fine_tuning.job");
      assert.equal(job.model, BASE_MODEL);
      assert.equal(job.status, "pending");
      assert.equal(job.training_file, training.id);

      const request = upstream("POST", "fine_tuning/jobs");
      assert.equal(request.deployment, undefined, "no deployment is addressed");
      assert.deepEqual(request.json, {
        model: BASE_MODEL,
        training_file: training.id,
        suffix: "e2e",
        hyperparameters: { n_epochs: 2 },
      });
    });

    it(`pages through fine-tuning jobs with limit and after (${style})`, async () => {
      const training = await upload(trainingJsonl(3), "paged.jsonl", "fine-tune");
      const created = [];
      for (let i = 0; i < 3; i++) {
        created.push(
          await client.fineTuning.jobs.create({ model: BASE_MODEL, training_file: training.id }),
        );
      }
      const all = await collect(client.fineTuning.jobs.list());
      const newestFirst = all.map((j) => j.id);
      for (const job of created) assert.ok(newestFirst.includes(job.id));

      const first = await client.fineTuning.jobs.list({ limit: 1 });
      assert.equal(first.data.length, 1);
      assert.equal(first.data[0]?.id, newestFirst[0]);
      assert.equal(first.has_more, true);
      assert.equal(upstream("GET", "fine_tuning/jobs").query.limit, "1");

      const firstId = newestFirst[0] ?? "";
      const next = await client.fineTuning.jobs.list({ limit: 2, after: firstId });
      assert.deepEqual(
        next.data.map((j) => j.id),
        newestFirst.slice(1, 3),
      );
      const query = upstream("GET", "fine_tuning/jobs").query;
      assert.equal(query.limit, "2");
      assert.equal(query.after, firstId);

      // The SDK's auto-pagination follows `after` through the proxy, one job per page.
      const paged = await collect(client.fineTuning.jobs.list({ limit: 1 }));
      assert.deepEqual(
        paged.map((j) => j.id),
        newestFirst,
      );
    });

    it(`pauses, resumes and completes a job, then lists its events and checkpoints (${style})`, async () => {
      const training = await upload(trainingJsonl(8), "lifecycle.jsonl", "fine-tune");
      const job = await client.fineTuning.jobs.create({
        model: BASE_MODEL,
        training_file: training.id,
      });
      const running = await client.fineTuning.jobs.retrieve(job.id);
      assert.equal(running.status, "running");
      upstream("GET", `fine_tuning/jobs/${job.id}`);

      const paused = await client.fineTuning.jobs.pause(job.id);
      assert.equal(paused.status, "paused");
      upstream("POST", `fine_tuning/jobs/${job.id}/pause`);
      const resumed = await client.fineTuning.jobs.resume(job.id);
      assert.equal(resumed.status, "running");
      upstream("POST", `fine_tuning/jobs/${job.id}/resume`);

      const done = await client.fineTuning.jobs.retrieve(job.id);
      assert.equal(done.status, "succeeded");
      assert.equal(done.fine_tuned_model, `${BASE_MODEL}.ft-${job.id.replace(/^ftjob-/, "")}`);
      assert.equal(done.result_files.length, 1);

      const events = await collect(client.fineTuning.jobs.listEvents(job.id));
      assert.deepEqual(
        events.map((e) => e.message),
        [
          "Job enqueued. Waiting for jobs ahead to complete.",
          "Job started.",
          "Job paused.",
          "Job started.",
          `Training tokens billed: ${done.trained_tokens}`,
          "Job succeeded.",
        ],
      );
      upstream("GET", `fine_tuning/jobs/${job.id}/events`);
      const firstTwo = await client.fineTuning.jobs.listEvents(job.id, { limit: 2 });
      assert.equal(firstTwo.data.length, 2);
      assert.equal(firstTwo.has_more, true);
      assert.equal(upstream("GET", `fine_tuning/jobs/${job.id}/events`).query.limit, "2");

      const checkpoints = await collect(client.fineTuning.jobs.checkpoints.list(job.id));
      assert.deepEqual(
        checkpoints.map((c) => c.step_number),
        [10, 20, 30],
      );
      assert.ok(checkpoints.every((c) => c.fine_tuning_job_id === job.id));
      upstream("GET", `fine_tuning/jobs/${job.id}/checkpoints`);
    });

    it(`cancels a fine-tuning job (${style})`, async () => {
      const training = await upload(trainingJsonl(2), "cancel.jsonl", "fine-tune");
      const job = await client.fineTuning.jobs.create({
        model: BASE_MODEL,
        training_file: training.id,
      });
      const cancelled = await client.fineTuning.jobs.cancel(job.id);
      assert.equal(cancelled.status, "cancelled");
      upstream("POST", `fine_tuning/jobs/${job.id}/cancel`);
      const again = await sdkError(() => client.fineTuning.jobs.cancel(job.id));
      assert.equal(again.status, 409);
      assert.equal(again.code, "unexpectedEntityState");
    });

    // ---- batches ----

    it(`runs a batch whose lines name a deployment and reads its output file (${style})`, async () => {
      const prompts = ["First question", "Second question"];
      const input = await upload(batchJsonl(prompts), "batch.jsonl", "batch");
      const batch = await client.batches.create({
        input_file_id: input.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
        metadata: { suite: "e2e" },
      });
      assert.match(batch.id, /^batch_/);
      assert.equal(batch.status, "validating");
      assert.deepEqual(upstream("POST", "batches").json, {
        input_file_id: input.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
        metadata: { suite: "e2e" },
      });

      const statuses = [batch.status as string];
      let current = batch;
      while (current.status !== "completed" && statuses.length < 10) {
        current = await client.batches.retrieve(batch.id);
        statuses.push(current.status);
      }
      assert.deepEqual(statuses, ["validating", "in_progress", "finalizing", "completed"]);
      upstream("GET", `batches/${batch.id}`);
      assert.deepEqual(current.request_counts, { total: 2, completed: 2, failed: 0 });
      assert.ok(current.output_file_id);

      const output = await (await client.files.content(current.output_file_id)).text();
      const lines = output
        .trim()
        .split("\n")
        .map(
          (line) =>
            JSON.parse(line) as {
              custom_id: string;
              response: {
                status_code: number;
                body: { choices: { message: { content: string } }[] };
              };
            },
        );
      assert.deepEqual(
        lines.map((l) => [
          l.custom_id,
          l.response.status_code,
          l.response.body.choices[0]?.message.content,
        ]),
        prompts.map((p, i) => [`request-${i + 1}`, 200, greeting("gpt-4o", p)]),
      );
    });

    it(`lists and cancels batches (${style})`, async () => {
      const input = await upload(batchJsonl(["Cancel me"]), "cancel-batch.jsonl", "batch");
      const batch = await client.batches.create({
        input_file_id: input.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      const listed = await collect(client.batches.list({ limit: 100 }));
      assert.ok(listed.some((b) => b.id === batch.id));
      assert.equal(upstream("GET", "batches").query.limit, "100");

      const cancelling = await client.batches.cancel(batch.id);
      assert.equal(cancelling.status, "cancelling");
      upstream("POST", `batches/${batch.id}/cancel`);
      const cancelled = await client.batches.retrieve(batch.id);
      assert.equal(cancelled.status, "cancelled");
      assert.equal(typeof cancelled.cancelled_at, "number");
    });

    // ---- responses ----

    it(`creates a response for gpt-3.5-turbo on the gpt-35-turbo deployment (${style})`, async () => {
      const said = "Hello Responses API";
      // A nested `model` (here in metadata, written first) is data: only the top-level one maps.
      const response = await client.responses.create({
        metadata: { model: "gpt-3.5-turbo" },
        model: "gpt-3.5-turbo",
        input: said,
        instructions: "Be nice.",
      });
      assert.match(response.id, /^resp_/);
      assert.equal(response.object, "response");
      assert.equal(response.status, "completed");
      assert.equal(response.model, "gpt-35-turbo");
      assert.equal(response.output_text, greeting("gpt-35-turbo", said));

      const request = upstream("POST", "responses");
      assert.equal(request.path, resourcePath(style, "responses"), "no deployment in the path");
      assert.equal(request.deployment, "gpt-35-turbo");
      assert.deepEqual(request.json, {
        metadata: { model: "gpt-3.5-turbo" },
        model: "gpt-35-turbo",
        input: said,
        instructions: "Be nice.",
      });
    });

    it(`streams a response as named events the SDK parses in order (${style})`, async () => {
      const said = "Stream a response";
      const stream = await client.responses.create({
        model: "gpt-3.5-turbo",
        input: said,
        stream: true,
      });
      const events: ResponseStreamEvent[] = await collect(stream);
      const text = greeting("gpt-35-turbo", said);
      const deltas = planText(text).pieces;
      assert.deepEqual(
        events.map((e) => e.type),
        [
          "response.created",
          "response.in_progress",
          "response.output_item.added",
          "response.content_part.added",
          ...deltas.map(() => "response.output_text.delta"),
          "response.output_text.done",
          "response.content_part.done",
          "response.output_item.done",
          "response.completed",
        ],
      );
      assert.deepEqual(
        events.map((e) => e.sequence_number),
        events.map((_, i) => i),
      );
      assert.deepEqual(
        events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])),
        deltas,
      );
      const last = events.at(-1);
      assert.ok(last?.type === "response.completed");
      const message = last.response.output[0];
      const part = message?.type === "message" ? message.content[0] : undefined;
      assert.equal(part?.type === "output_text" ? part.text : undefined, text);
      const request = upstream("POST", "responses");
      assert.equal((request.json as { model?: string }).model, "gpt-35-turbo");
      assert.equal((request.json as { stream?: boolean }).stream, true);
    });

    it(`passes the Responses SSE stream byte for byte, event lines included (${style})`, async () => {
      const said = "Raw stream please";
      const response = await fetch(`${stack.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${EMULATOR_KEY}` },
        body: JSON.stringify({ model: "gpt-3.5-turbo", input: said, stream: true }),
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const raw = await response.text();
      const names = sseEventNames(raw);
      assert.equal(names[0], "response.created");
      assert.equal(names.at(-1), "response.completed");

      // The emulator's stream is a function of the finished response: rebuild it and compare.
      const blocks = raw.split("\n\n").filter((b) => b !== "");
      const completed = JSON.parse(
        (blocks.at(-1) ?? "").split("\n")[1]?.slice("data: ".length) ?? "{}",
      ) as { response: Parameters<typeof responseStreamEvents>[0] };
      const expected = responseStreamEvents(
        completed.response,
        planText(greeting("gpt-35-turbo", said)),
      ).join("");
      assert.equal(raw, expected, "every byte, event: lines included, as Azure sent it");
    });

    it(`retrieves, lists the input items of and deletes a stored response (${style})`, async () => {
      const response = await client.responses.create({
        model: "gpt-4o",
        input: [
          { role: "developer", content: "Answer in one line." },
          { role: "user", content: "What is stored?" },
        ],
      });
      const retrieved = await client.responses.retrieve(response.id);
      assert.equal(retrieved.id, response.id);
      assert.equal(retrieved.output_text, greeting("gpt-4o", "What is stored?"));
      upstream("GET", `responses/${response.id}`);

      const replay = await collect(await client.responses.retrieve(response.id, { stream: true }));
      assert.equal(replay[0]?.type, "response.created");
      assert.equal(replay.at(-1)?.type, "response.completed");
      assert.equal(upstream("GET", `responses/${response.id}`).query.stream, "true");

      const items = await collect(client.responses.inputItems.list(response.id));
      assert.deepEqual(
        items.map((i) => (i.type === "message" ? i.role : i.type)),
        ["user", "developer"],
        "newest first, as OpenAI lists them",
      );
      upstream("GET", `responses/${response.id}/input_items`);

      const deleted = await client.responses.delete(response.id).asResponse();
      assert.equal(deleted.status, 200);
      assert.deepEqual(await deleted.json(), {
        id: response.id,
        object: "response",
        deleted: true,
      });
      upstream("DELETE", `responses/${response.id}`);
      const error = await sdkError(() => client.responses.retrieve(response.id));
      assert.ok(error instanceof OpenAI.NotFoundError, error.constructor.name);
    });

    it(`cancels a background response (${style})`, async () => {
      const response = await client.responses.create({
        model: "gpt-3.5-turbo",
        input: "Take your time",
        background: true,
      });
      assert.equal(response.status, "queued");
      assert.equal(upstream("POST", "responses").deployment, "gpt-35-turbo");
      const cancelled = await client.responses.cancel(response.id);
      assert.equal(cancelled.status, "cancelled");
      upstream("POST", `responses/${response.id}/cancel`);
      const later = await client.responses.retrieve(response.id);
      assert.equal(later.status, "cancelled");
    });

    it(`answers an unknown Responses deployment with DeploymentNotFound (${style})`, async () => {
      const error = await sdkError(() =>
        client.responses.create({ model: "no-such-deployment", input: "Hi" }),
      );
      assert.ok(error instanceof OpenAI.NotFoundError, error.constructor.name);
      assert.equal(error.code, "DeploymentNotFound");
      assert.equal(upstream("POST", "responses").deployment, "no-such-deployment");
    });

    // ---- assistants ----

    it(`creates an assistant for gpt-3.5-turbo on the gpt-35-turbo deployment (${style})`, async () => {
      const assistant = await client.beta.assistants.create({
        model: "gpt-3.5-turbo",
        name: "Helper",
        instructions: "Help.",
      });
      assert.match(assistant.id, /^asst_/);
      assert.equal(assistant.model, "gpt-35-turbo");
      const request = upstream("POST", "assistants");
      assert.equal(request.headers["openai-beta"], "assistants=v2");
      assert.deepEqual(request.json, {
        model: "gpt-35-turbo",
        name: "Helper",
        instructions: "Help.",
      });

      // Modifying maps too (model names match the table case-insensitively).
      const updated = await client.beta.assistants.update(assistant.id, {
        model: "GPT-3.5-Turbo",
        name: "Renamed",
      });
      assert.equal(updated.model, "gpt-35-turbo");
      assert.equal(updated.name, "Renamed");
      const modify = upstream("POST", `assistants/${assistant.id}`);
      assert.deepEqual(modify.json, { model: "gpt-35-turbo", name: "Renamed" });

      const error = await sdkError(() => client.beta.assistants.create({ model: "no-such-model" }));
      assert.ok(error instanceof OpenAI.BadRequestError, error.constructor.name);
      assert.equal(error.code, "model_not_found");
      assert.equal(error.param, "model");
      assert.equal(upstream("POST", "assistants").deployment, "no-such-model");
    });

    it(`runs a thread to completion and lists the assistant's reply and the run steps (${style})`, async () => {
      const assistant = await client.beta.assistants.create({ model: "gpt-3.5-turbo" });
      const thread = await client.beta.threads.create();
      assert.match(thread.id, /^thread_/);
      upstream("POST", "threads");
      const said = "What can a proxy do?";
      const message = await client.beta.threads.messages.create(thread.id, {
        role: "user",
        content: said,
      });
      assert.match(message.id, /^msg_/);
      assert.equal(
        upstream("POST", `threads/${thread.id}/messages`).headers["openai-beta"],
        "assistants=v2",
      );

      const run = await client.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 5 },
      );
      assert.equal(run.status, "completed");
      assert.equal(run.model, "gpt-35-turbo");
      const created = upstream("POST", `threads/${thread.id}/runs`);
      assert.deepEqual(created.json, { assistant_id: assistant.id });
      assert.equal(created.headers["openai-beta"], "assistants=v2");
      const polled = upstream("GET", `threads/${thread.id}/runs/${run.id}`);
      assert.equal(polled.headers["openai-beta"], "assistants=v2");

      const messages = await collect(client.beta.threads.messages.list(thread.id));
      const reply = messages[0];
      assert.equal(reply?.role, "assistant");
      assert.equal(reply?.run_id, run.id);
      const part = reply?.content[0];
      assert.equal(
        part?.type === "text" ? part.text.value : undefined,
        greeting("gpt-35-turbo", said),
      );
      assert.equal(messages[1]?.id, message.id);
      upstream("GET", `threads/${thread.id}/messages`);

      const steps = await collect(
        client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id }),
      );
      assert.equal(steps.length, 1);
      const step = steps[0];
      assert.equal(step?.type, "message_creation");
      assert.equal(step?.status, "completed");
      assert.equal(
        step?.step_details.type === "message_creation"
          ? step.step_details.message_creation.message_id
          : undefined,
        reply?.id,
      );
      upstream("GET", `threads/${thread.id}/runs/${run.id}/steps`);
    });

    it(`streams a run's events through the proxy with the model mapped (${style})`, async () => {
      const assistant = await client.beta.assistants.create({ model: "gpt-4o" });
      const thread = await client.beta.threads.create({
        messages: [{ role: "user", content: "Stream the run" }],
      });
      const stream = client.beta.threads.runs.stream(thread.id, {
        assistant_id: assistant.id,
        model: "gpt-3.5-turbo",
      });
      const events: string[] = [];
      const deltas: string[] = [];
      stream.on("event", (event) => events.push(event.event));
      stream.on("textDelta", (delta) => deltas.push(delta.value ?? ""));
      const finalRun = await stream.finalRun();
      const text = greeting("gpt-35-turbo", "Stream the run");
      assert.equal(finalRun.status, "completed");
      assert.equal(finalRun.model, "gpt-35-turbo");
      assert.equal(deltas.join(""), text);
      assert.equal(events[0], "thread.run.created");
      assert.equal(events.at(-1), "thread.run.completed");
      assert.ok(events.includes("thread.message.delta"));
      const request = upstream("POST", `threads/${thread.id}/runs`);
      assert.deepEqual(request.json, {
        assistant_id: assistant.id,
        model: "gpt-35-turbo",
        stream: true,
      });
      assert.equal(request.headers["openai-beta"], "assistants=v2");
    });

    it(`creates a thread and runs it in one call with the model mapped (${style})`, async () => {
      const assistant = await client.beta.assistants.create({ model: "gpt-4o" });
      const said = "One call please";
      const run = await client.beta.threads.createAndRunPoll(
        {
          assistant_id: assistant.id,
          model: "gpt-3.5-turbo",
          thread: { messages: [{ role: "user", content: said }] },
        },
        { pollIntervalMs: 5 },
      );
      assert.equal(run.status, "completed");
      assert.equal(run.model, "gpt-35-turbo");
      const request = upstream("POST", "threads/runs");
      assert.deepEqual(request.json, {
        assistant_id: assistant.id,
        model: "gpt-35-turbo",
        thread: { messages: [{ role: "user", content: said }] },
      });
      assert.equal(request.deployment, "gpt-35-turbo");
      const [reply] = await collect(client.beta.threads.messages.list(run.thread_id));
      const part = reply?.content[0];
      assert.equal(
        part?.type === "text" ? part.text.value : undefined,
        greeting("gpt-35-turbo", said),
      );
    });

    it(`completes a function-tool round trip, streaming the tool outputs' answer (${style})`, async () => {
      const assistant = await client.beta.assistants.create({
        model: "gpt-4o-mini",
        tools: [
          {
            type: "function",
            function: {
              name: "get_weather",
              parameters: { type: "object", properties: { city: { type: "string" } } },
            },
          },
        ],
      });
      const thread = await client.beta.threads.create({
        messages: [{ role: "user", content: "What is the weather in Paris?" }],
      });
      const waiting = await client.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 5 },
      );
      assert.equal(waiting.status, "requires_action");
      const call = waiting.required_action?.submit_tool_outputs.tool_calls[0];
      assert.equal(call?.function.name, "get_weather");

      const stream = client.beta.threads.runs.submitToolOutputsStream(waiting.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call?.id ?? "", output: "Sunny and warm" }],
      });
      const deltas: string[] = [];
      stream.on("textDelta", (delta) => deltas.push(delta.value ?? ""));
      const finalRun = await stream.finalRun();
      assert.equal(finalRun.status, "completed");
      assert.equal(deltas.join(""), greeting("gpt-4o-mini", "Sunny and warm"));
      const request = upstream(
        "POST",
        `threads/${thread.id}/runs/${waiting.id}/submit_tool_outputs`,
      );
      assert.deepEqual(request.json, {
        tool_outputs: [{ tool_call_id: call?.id, output: "Sunny and warm" }],
        stream: true,
      });
      assert.equal(request.headers["openai-beta"], "assistants=v2");
    });

    // ---- vector stores ----

    it(`creates a vector store, adds files one by one and as a batch, then deletes it (${style})`, async () => {
      const docs = await Promise.all(
        ["alpha", "beta", "gamma"].map(async (name) =>
          client.files.create({
            file: await toFile(Buffer.from(`The ${name} document.`), `${name}.txt`),
            purpose: "assistants",
          }),
        ),
      );
      const [alpha, beta, gamma] = docs as [
        OpenAI.FileObject,
        OpenAI.FileObject,
        OpenAI.FileObject,
      ];
      const store = await client.vectorStores.create({ name: "e2e docs" });
      assert.match(store.id, /^vs_/);
      assert.equal(store.name, "e2e docs");
      assert.deepEqual(upstream("POST", "vector_stores").json, { name: "e2e docs" });

      const added = await client.vectorStores.files.create(store.id, { file_id: alpha.id });
      assert.equal(added.id, alpha.id);
      assert.equal(added.status, "in_progress");
      upstream("POST", `vector_stores/${store.id}/files`);

      const batch = await client.vectorStores.fileBatches.create(store.id, {
        file_ids: [beta.id, gamma.id],
      });
      assert.match(batch.id, /^vsfb_/);
      assert.equal(batch.status, "in_progress");
      assert.equal(batch.file_counts.total, 2);
      upstream("POST", `vector_stores/${store.id}/file_batches`);
      const finished = await client.vectorStores.fileBatches.retrieve(batch.id, {
        vector_store_id: store.id,
      });
      assert.equal(finished.status, "completed");
      assert.equal(finished.file_counts.completed, 2);
      upstream("GET", `vector_stores/${store.id}/file_batches/${batch.id}`);

      const files = await collect(client.vectorStores.files.list(store.id));
      assert.deepEqual(new Set(files.map((f) => f.id)), new Set([alpha.id, beta.id, gamma.id]));
      upstream("GET", `vector_stores/${store.id}/files`);
      const inBatch = await collect(
        client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id }),
      );
      assert.deepEqual(new Set(inBatch.map((f) => f.id)), new Set([beta.id, gamma.id]));
      upstream("GET", `vector_stores/${store.id}/file_batches/${batch.id}/files`);

      const retrieved = await client.vectorStores.retrieve(store.id);
      assert.equal(retrieved.status, "completed");
      assert.equal(retrieved.file_counts.completed, 3);
      upstream("GET", `vector_stores/${store.id}`);

      const found = await collect(client.vectorStores.search(store.id, { query: "document" }));
      assert.equal(found.length, 3);
      assert.ok(found.some((r) => r.content[0]?.text === "The alpha document."));
      assert.deepEqual(upstream("POST", `vector_stores/${store.id}/search`).json, {
        query: "document",
      });

      const deleted = await client.vectorStores.delete(store.id);
      assert.deepEqual(deleted, { id: store.id, object: "vector_store.deleted", deleted: true });
      upstream("DELETE", `vector_stores/${store.id}`);
      const error = await sdkError(() => client.vectorStores.retrieve(store.id));
      assert.ok(error instanceof OpenAI.NotFoundError, error.constructor.name);
    });

    // ---- any other path ----

    it(`forwards any other /v1 path resource-scoped with its query and body (${style})`, async () => {
      const error = await sdkError(() => client.get("/evals", { query: { limit: 2 } }));
      assert.ok(error instanceof OpenAI.NotFoundError, error.constructor.name);
      const listed = upstream("GET", "evals");
      assert.equal(listed.query.limit, "2");

      const body = { name: "my eval", data_source_config: { type: "custom" } };
      await sdkError(() => client.post("/evals/eval_123/runs", { body }));
      const posted = upstream("POST", "evals/eval_123/runs");
      assert.deepEqual(posted.json, body);
      assert.equal(posted.deployment, undefined);
    });
  });
}
