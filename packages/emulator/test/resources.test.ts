import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { type AzureResponse, fetchAzure, type Json, KEY } from "./client.ts";

type Style = "dated" | "v1";
const STYLES: readonly Style[] = ["dated", "v1"];
const PREVIEW = "2025-04-01-preview";

function resourceUrl(emulator: Emulator, style: Style, path: string): string {
  if (style === "v1") return `${emulator.url}/openai/v1/${path}`;
  const separator = path.includes("?") ? "&" : "?";
  return `${emulator.url}/openai/${path}${separator}api-version=${PREVIEW}`;
}

function auth(style: Style): Record<string, string> {
  return style === "dated" ? { "api-key": KEY } : { authorization: `Bearer ${KEY}` };
}

/** Calls a resource-scoped route in the given style; a body is sent as JSON (or as is, for FormData). */
function call(
  emulator: Emulator,
  style: Style,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<AzureResponse> {
  const init: RequestInit = { method, headers: { ...auth(style), ...headers } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  return fetchAzure(resourceUrl(emulator, style, path), init);
}

async function ok(res: AzureResponse, status = 200): Promise<Json> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text === "" ? undefined : JSON.parse(text);
}

function fileForm(bytes: Buffer, filename: string, purpose: string): FormData {
  const form = new FormData();
  form.append("purpose", purpose);
  form.append("file", new Blob([bytes], { type: "application/octet-stream" }), filename);
  return form;
}

async function upload(
  emulator: Emulator,
  style: Style,
  text: string,
  filename: string,
  purpose: string,
): Promise<Json> {
  const res = await call(
    emulator,
    style,
    "POST",
    "files",
    fileForm(Buffer.from(text), filename, purpose),
  );
  return ok(res, style === "dated" ? 201 : 200);
}

/** Retrieves until `done` holds (each retrieve also moves the object on). */
async function poll(get: () => Promise<Json>, done: (body: Json) => boolean): Promise<Json> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const body = await get();
    if (done(body)) return body;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("object never reached the expected state");
}

/** Parses a named-event SSE body into {event, data} pairs. */
async function namedEvents(res: AzureResponse): Promise<{ event: string; data: string }[]> {
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const text = await res.text();
  assert.ok(text.endsWith("\n\n"));
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((block) => {
      const match = /^event: (.+)\ndata: (.*)$/s.exec(block);
      assert.ok(match, `not a named SSE event: ${block}`);
      return { event: match[1] as string, data: match[2] as string };
    });
}

describe("emulator resources", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 1, jobDurationMs: 60 });
  });
  afterEach(() => emulator.clearFaults());
  after(() => emulator.close());

  describe("files", () => {
    for (const style of STYLES) {
      it(`uploads, lists, retrieves, reads and deletes a file (${style})`, async () => {
        const text = '{"messages":[]}\n';
        const file = await upload(emulator, style, text, "train.jsonl", "fine-tune");
        assert.match(file.id, /^file-/);
        assert.equal(file.object, "file");
        assert.equal(file.status, "processed");
        assert.equal(file.bytes, text.length);
        assert.equal(file.filename, "train.jsonl");
        assert.equal(file.purpose, "fine-tune");
        assert.equal(typeof file.created_at, "number");

        const listed = await ok(await call(emulator, style, "GET", "files?purpose=fine-tune"));
        assert.equal(listed.object, "list");
        assert.equal(typeof listed.has_more, "boolean");
        assert.ok(listed.data.some((f: Json) => f.id === file.id));
        assert.ok(listed.data.every((f: Json) => f.purpose === "fine-tune"));
        assert.equal(listed.first_id, listed.data[0].id);
        assert.equal(listed.last_id, listed.data.at(-1).id);
        const other = await ok(await call(emulator, style, "GET", "files?purpose=batch"));
        assert.ok(!other.data.some((f: Json) => f.id === file.id));

        assert.deepEqual(await ok(await call(emulator, style, "GET", `files/${file.id}`)), file);
        const content = await call(emulator, style, "GET", `files/${file.id}/content`);
        assert.equal(content.status, 200);
        assert.equal(await content.text(), text);

        assert.deepEqual(await ok(await call(emulator, style, "DELETE", `files/${file.id}`)), {
          id: file.id,
          object: "file",
          deleted: true,
        });
        const gone = await call(emulator, style, "GET", `files/${file.id}`);
        assert.equal(gone.status, 404);
        assert.equal((await gone.json()).error.code, "notFound");
      });
    }

    it("streams a 20 MB upload to disk and streams the same bytes back", async () => {
      const bytes = randomBytes(20 * 1024 * 1024);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const file = await ok(
        await call(emulator, "v1", "POST", "files", fileForm(bytes, "big.jsonl", "batch")),
      );
      assert.equal(file.bytes, bytes.length);
      const record = emulator.requests.at(-1);
      assert.equal(record?.style, "v1");
      assert.deepEqual(
        record?.multipart?.files.map((f) => [f.field, f.size, f.sha256]),
        [["file", bytes.length, sha256]],
      );
      assert.deepEqual(record?.multipart?.fields, { purpose: "batch" });

      const content = await call(emulator, "dated", "GET", `files/${file.id}/content`);
      assert.equal(content.headers.get("content-length"), String(bytes.length));
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of content.body ?? []) {
        hash.update(chunk);
        size += chunk.length;
      }
      assert.equal(size, bytes.length);
      assert.equal(hash.digest("hex"), sha256);
      await ok(await call(emulator, "v1", "DELETE", `files/${file.id}`));
    });

    it("refuses an upload without a purpose or a file, or with a bad key", async () => {
      const noPurpose = new FormData();
      noPurpose.append("file", new Blob(["x"]), "a.jsonl");
      const res = await call(emulator, "dated", "POST", "files", noPurpose);
      assert.equal(res.status, 400);
      assert.deepEqual((await res.json()).error.code, "invalidPayload");
      const noFile = new FormData();
      noFile.append("purpose", "batch");
      assert.equal((await call(emulator, "v1", "POST", "files", noFile)).status, 400);
      const denied = await fetchAzure(resourceUrl(emulator, "dated", "files"), {
        method: "POST",
        headers: { "api-key": "wrong" },
        body: fileForm(Buffer.from("x"), "a.jsonl", "batch"),
      });
      assert.equal(denied.status, 401);
      const missingVersion = await fetchAzure(`${emulator.url}/openai/files`, {
        headers: { "api-key": KEY },
      });
      assert.equal(missingVersion.status, 404);
    });
  });

  describe("uploads", () => {
    for (const style of STYLES) {
      it(`assembles a file from parts, and cancels (${style})`, async () => {
        const parts = [Buffer.from("first part\n"), Buffer.from("second part\n")];
        const total = Buffer.concat(parts);
        const created = await ok(
          await call(emulator, style, "POST", "uploads", {
            filename: "data.jsonl",
            purpose: "batch",
            bytes: total.length,
            mime_type: "text/jsonl",
          }),
        );
        assert.match(created.id, /^upload_/);
        assert.equal(created.object, "upload");
        assert.equal(created.status, "pending");
        assert.equal(created.file, null);

        const partIds: string[] = [];
        for (const part of parts) {
          const form = new FormData();
          form.append("data", new Blob([part]), "part");
          const added = await ok(
            await call(emulator, style, "POST", `uploads/${created.id}/parts`, form),
          );
          assert.match(added.id, /^part_/);
          assert.equal(added.object, "upload.part");
          assert.equal(added.upload_id, created.id);
          partIds.push(added.id);
        }
        const wrong = await call(emulator, style, "POST", `uploads/${created.id}/complete`, {
          part_ids: partIds.slice(0, 1),
        });
        assert.equal(wrong.status, 400);
        const done = await ok(
          await call(emulator, style, "POST", `uploads/${created.id}/complete`, {
            part_ids: partIds,
          }),
        );
        assert.equal(done.status, "completed");
        assert.equal(done.file.bytes, total.length);
        assert.equal(done.file.purpose, "batch");
        const content = await call(emulator, style, "GET", `files/${done.file.id}/content`);
        assert.equal(await content.text(), total.toString());

        const again = await call(emulator, style, "POST", `uploads/${created.id}/cancel`);
        assert.equal(again.status, 409);

        const other = await ok(
          await call(emulator, style, "POST", "uploads", {
            filename: "x.jsonl",
            purpose: "batch",
            bytes: 10,
            mime_type: "text/jsonl",
          }),
        );
        const cancelled = await ok(
          await call(emulator, style, "POST", `uploads/${other.id}/cancel`),
        );
        assert.equal(cancelled.status, "cancelled");
      });
    }
  });

  describe("fine-tuning", () => {
    for (const style of STYLES) {
      it(`runs a job from a base model to a fine-tuned model (${style})`, async () => {
        const training = await upload(emulator, style, '{"messages":[]}\n', "t.jsonl", "fine-tune");
        const job = await ok(
          await call(emulator, style, "POST", "fine_tuning/jobs", {
            model: "gpt-4o-mini-2024-07-18",
            training_file: training.id,
            suffix: "emu",
          }),
          style === "dated" ? 201 : 200,
        );
        assert.match(job.id, /^ftjob-/);
        assert.equal(job.object, "fine_tuning.job");
        assert.equal(job.status, "pending");
        assert.equal(job.model, "gpt-4o-mini-2024-07-18");
        assert.equal(job.fine_tuned_model, null);
        assert.equal(
          emulator.requests.at(-1)?.deployment,
          undefined,
          "a base model is no deployment",
        );

        const listed = await ok(await call(emulator, style, "GET", "fine_tuning/jobs?limit=1"));
        assert.equal(listed.object, "list");
        assert.equal(listed.data[0].id, job.id, "newest first");

        const done = await poll(
          async () => ok(await call(emulator, style, "GET", `fine_tuning/jobs/${job.id}`)),
          (j) => j.status === "succeeded",
        );
        assert.equal(done.fine_tuned_model, `gpt-4o-mini-2024-07-18.ft-${job.id.slice(6)}`);
        assert.equal(typeof done.finished_at, "number");
        assert.equal(done.result_files.length, 1);

        const events = await ok(
          await call(emulator, style, "GET", `fine_tuning/jobs/${job.id}/events`),
        );
        assert.deepEqual(
          events.data.map((e: Json) => e.message),
          [
            "Job enqueued. Waiting for jobs ahead to complete.",
            "Job started.",
            `Training tokens billed: ${done.trained_tokens}`,
            "Job succeeded.",
          ],
        );
        const checkpoints = await ok(
          await call(emulator, style, "GET", `fine_tuning/jobs/${job.id}/checkpoints`),
        );
        assert.deepEqual(
          checkpoints.data.map((c: Json) => c.step_number),
          [10, 20, 30],
        );
        assert.equal(checkpoints.data[0].object, "fine_tuning.job.checkpoint");

        const model = await ok(
          await call(emulator, style, "GET", `models/${done.fine_tuned_model}`),
        );
        assert.equal(model.model, "gpt-4o-mini-2024-07-18");
        assert.equal(model.fine_tune, job.id);
        assert.equal(model.capabilities.inference, true);
      });
    }

    it("pauses, resumes and cancels jobs, and refuses bad ones", async (t) => {
      // Its own emulator with jobs that take seconds: the suite's 60 ms jobs can finish before
      // the pause when the machine is busy.
      const emulator = await startEmulator({ chunkDelayMs: 1, jobDurationMs: 10_000 });
      t.after(() => emulator.close());
      const training = await upload(emulator, "dated", "{}\n", "t.jsonl", "fine-tune");
      const create = async () =>
        ok(
          await call(emulator, "dated", "POST", "fine_tuning/jobs", {
            model: "gpt-35-turbo",
            training_file: training.id,
          }),
          201,
        );
      const job = await create();
      const running = await ok(await call(emulator, "dated", "GET", `fine_tuning/jobs/${job.id}`));
      assert.equal(running.status, "running");
      const paused = await ok(
        await call(emulator, "v1", "POST", `fine_tuning/jobs/${job.id}/pause`),
      );
      assert.equal(paused.status, "paused");
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.equal(
        (await ok(await call(emulator, "v1", "GET", `fine_tuning/jobs/${job.id}`))).status,
        "paused",
      );
      const resumed = await ok(
        await call(emulator, "v1", "POST", `fine_tuning/jobs/${job.id}/resume`),
      );
      assert.equal(resumed.status, "running");

      const other = await create();
      const cancelled = await ok(
        await call(emulator, "dated", "POST", `fine_tuning/jobs/${other.id}/cancel`),
      );
      assert.equal(cancelled.status, "cancelled");
      const twice = await call(emulator, "dated", "POST", `fine_tuning/jobs/${other.id}/cancel`);
      assert.equal(twice.status, 409);
      assert.equal(
        (await call(emulator, "dated", "DELETE", `fine_tuning/jobs/${other.id}`)).status,
        204,
      );
      assert.equal(
        (await call(emulator, "dated", "GET", `fine_tuning/jobs/${other.id}`)).status,
        404,
      );

      const missing = await call(emulator, "dated", "POST", "fine_tuning/jobs", {
        model: "gpt-4o-mini",
        training_file: "file-nope",
      });
      assert.equal(missing.status, 400);
      assert.equal((await missing.json()).error.target, "training_file");
      const notTunable = await call(emulator, "v1", "POST", "fine_tuning/jobs", {
        model: "text-embedding-3-small",
        training_file: training.id,
      });
      assert.equal(notTunable.status, 400);
    });
  });

  describe("batches", () => {
    for (const style of STYLES) {
      it(`answers each input line with its deployment (${style})`, async () => {
        const lines = [
          {
            custom_id: "a",
            method: "POST",
            url: "/chat/completions",
            body: { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] },
          },
          {
            custom_id: "b",
            method: "POST",
            url: "/chat/completions",
            body: { model: "nope", messages: [{ role: "user", content: "Hi" }] },
          },
        ];
        const input = await upload(
          emulator,
          style,
          lines.map((l) => JSON.stringify(l)).join("\n"),
          "in.jsonl",
          "batch",
        );
        const batch = await ok(
          await call(emulator, style, "POST", "batches", {
            input_file_id: input.id,
            endpoint: "/chat/completions",
            completion_window: "24h",
            metadata: { purpose: "test" },
          }),
        );
        assert.match(batch.id, /^batch_/);
        assert.equal(batch.object, "batch");
        assert.equal(batch.status, "validating");
        assert.deepEqual(batch.metadata, { purpose: "test" });

        const listed = await ok(await call(emulator, style, "GET", "batches"));
        assert.equal(listed.data[0].id, batch.id);
        assert.equal(listed.first_id, batch.id);

        const done = await poll(
          async () => ok(await call(emulator, style, "GET", `batches/${batch.id}`)),
          (b) => b.status === "completed",
        );
        assert.deepEqual(done.request_counts, { total: 2, completed: 1, failed: 1 });
        const output = await (
          await call(emulator, style, "GET", `files/${done.output_file_id}/content`)
        ).text();
        const [line] = output
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        assert.equal(line.custom_id, "a");
        assert.equal(line.response.status_code, 200);
        assert.equal(line.response.body.object, "chat.completion");
        const errors = await (
          await call(emulator, style, "GET", `files/${done.error_file_id}/content`)
        ).text();
        const failed = JSON.parse(errors.trim());
        assert.equal(failed.custom_id, "b");
        assert.equal(failed.response.status_code, 404);
        assert.equal(failed.response.body.error.code, "DeploymentNotFound");
      });
    }

    it("cancels a batch and fails one whose input is not JSONL", async () => {
      const good = await upload(
        emulator,
        "v1",
        JSON.stringify({
          custom_id: "x",
          method: "POST",
          url: "/v1/embeddings",
          body: { model: "text-embedding-ada-002", input: "hi" },
        }),
        "in.jsonl",
        "batch",
      );
      const batch = await ok(
        await call(emulator, "v1", "POST", "batches", {
          input_file_id: good.id,
          endpoint: "/v1/embeddings",
          completion_window: "24h",
        }),
      );
      const cancelling = await ok(await call(emulator, "v1", "POST", `batches/${batch.id}/cancel`));
      assert.equal(cancelling.status, "cancelling");
      const cancelled = await poll(
        async () => ok(await call(emulator, "v1", "GET", `batches/${batch.id}`)),
        (b) => b.status === "cancelled",
      );
      assert.equal(typeof cancelled.cancelled_at, "number");

      const bad = await upload(emulator, "v1", "not json\n", "bad.jsonl", "batch");
      const failing = await ok(
        await call(emulator, "v1", "POST", "batches", {
          input_file_id: bad.id,
          endpoint: "/chat/completions",
          completion_window: "24h",
        }),
      );
      const failed = await poll(
        async () => ok(await call(emulator, "v1", "GET", `batches/${failing.id}`)),
        (b) => b.status === "failed",
      );
      assert.equal(failed.errors.data[0].code, "invalid_json_line");
      assert.equal(failed.errors.data[0].line, 1);

      const wrongPurpose = await upload(emulator, "v1", "{}", "t.jsonl", "fine-tune");
      const refused = await call(emulator, "v1", "POST", "batches", {
        input_file_id: wrongPurpose.id,
        endpoint: "/chat/completions",
        completion_window: "24h",
      });
      assert.equal(refused.status, 400);
    });
  });

  describe("responses", () => {
    for (const style of STYLES) {
      it(`creates, retrieves, lists input items and deletes a response (${style})`, async () => {
        const created = await ok(
          await call(emulator, style, "POST", "responses", {
            model: "gpt-4o",
            input: "Hello there",
          }),
        );
        assert.match(created.id, /^resp_/);
        assert.equal(created.object, "response");
        assert.equal(created.status, "completed");
        assert.equal(created.model, "gpt-4o");
        const [message] = created.output;
        assert.equal(message.type, "message");
        assert.equal(message.role, "assistant");
        assert.equal(message.content[0].type, "output_text");
        assert.equal(
          message.content[0].text,
          "Hello from the Azure OpenAI emulator (deployment gpt-4o). You said: Hello there",
        );
        assert.equal(created.usage.output_tokens, 12);
        assert.equal(emulator.requests.at(-1)?.deployment, "gpt-4o");

        assert.deepEqual(
          await ok(await call(emulator, style, "GET", `responses/${created.id}`)),
          created,
        );
        const items = await ok(
          await call(emulator, style, "GET", `responses/${created.id}/input_items`),
        );
        assert.equal(items.object, "list");
        assert.equal(items.data[0].role, "user");
        assert.deepEqual(items.data[0].content, [{ type: "input_text", text: "Hello there" }]);

        const deleted = await ok(await call(emulator, style, "DELETE", `responses/${created.id}`));
        assert.deepEqual(deleted, { id: created.id, object: "response", deleted: true });
        assert.equal((await call(emulator, style, "GET", `responses/${created.id}`)).status, 404);
      });
    }

    it("answers 404 DeploymentNotFound for an unknown deployment, and honours faults", async () => {
      const res = await call(emulator, "dated", "POST", "responses", {
        model: "nope",
        input: "Hi",
      });
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "DeploymentNotFound");
      emulator.injectFault({ kind: "429", deployment: "gpt-4o", retryAfterMs: 2000 });
      const limited = await call(emulator, "v1", "POST", "responses", {
        model: "gpt-4o",
        input: "Hi",
      });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get("retry-after"), "2");
      const embedding = await call(emulator, "v1", "POST", "responses", {
        model: "text-embedding-ada-002",
        input: "Hi",
      });
      assert.equal(embedding.status, 400);
      assert.equal((await embedding.json()).error.code, "OperationNotSupported");
    });

    it("streams the response event sequence with sequence numbers", async () => {
      const res = await call(
        emulator,
        "v1",
        "POST",
        "responses",
        { model: "gpt-4o", input: "Hi", stream: true },
        { "x-emulator-words": "3" },
      );
      const events = await namedEvents(res);
      assert.deepEqual(
        events.map((e) => e.event),
        [
          "response.created",
          "response.in_progress",
          "response.output_item.added",
          "response.content_part.added",
          "response.output_text.delta",
          "response.output_text.delta",
          "response.output_text.delta",
          "response.output_text.done",
          "response.content_part.done",
          "response.output_item.done",
          "response.completed",
        ],
      );
      const data = events.map((e) => JSON.parse(e.data));
      data.forEach((d, index) => {
        assert.equal(d.type, events[index]?.event);
        assert.equal(d.sequence_number, index);
      });
      assert.deepEqual(
        data.filter((d) => d.type === "response.output_text.delta").map((d) => d.delta),
        ["word1", " word2", " word3"],
      );
      assert.equal(data[0].response.status, "in_progress");
      const completed = data.at(-1).response;
      assert.equal(completed.status, "completed");
      assert.equal(completed.output[0].content[0].text, "word1 word2 word3");
      const stored = await ok(await call(emulator, "v1", "GET", `responses/${completed.id}`));
      assert.equal(stored.output[0].content[0].text, "word1 word2 word3");
    });

    it("runs background responses and cancels them", async () => {
      const queued = await ok(
        await call(emulator, "dated", "POST", "responses", {
          model: "gpt-4o-mini",
          input: "Hi",
          background: true,
        }),
      );
      assert.equal(queued.status, "queued");
      assert.deepEqual(queued.output, []);
      const done = await poll(
        async () => ok(await call(emulator, "dated", "GET", `responses/${queued.id}`)),
        (r) => r.status === "completed",
      );
      assert.equal(done.output.length, 1);

      const other = await ok(
        await call(emulator, "dated", "POST", "responses", {
          model: "gpt-4o-mini",
          input: "Hi",
          background: true,
        }),
      );
      const cancelled = await ok(
        await call(emulator, "dated", "POST", `responses/${other.id}/cancel`),
      );
      assert.equal(cancelled.status, "cancelled");
      const plain = await ok(
        await call(emulator, "dated", "POST", "responses", { model: "gpt-4o", input: "Hi" }),
      );
      assert.equal(
        (await call(emulator, "dated", "POST", `responses/${plain.id}/cancel`)).status,
        400,
      );
    });
  });

  describe("assistants", () => {
    const beta = { "openai-beta": "assistants=v2" };

    for (const style of STYLES) {
      it(`creates, lists, modifies and deletes assistants and threads (${style})`, async () => {
        const assistant = await ok(
          await call(
            emulator,
            style,
            "POST",
            "assistants",
            { model: "gpt-4o", name: "Helper", instructions: "Be brief." },
            beta,
          ),
        );
        assert.match(assistant.id, /^asst_/);
        assert.equal(assistant.object, "assistant");
        assert.equal(assistant.model, "gpt-4o");
        const record = emulator.requests.at(-1);
        assert.equal(record?.headers["openai-beta"], "assistants=v2");
        assert.equal(record?.deployment, "gpt-4o");

        const unknown = await call(emulator, style, "POST", "assistants", { model: "nope" }, beta);
        assert.equal(unknown.status, 400);
        assert.equal((await unknown.json()).error.param, "model");

        const listed = await ok(
          await call(emulator, style, "GET", "assistants?limit=1", undefined, beta),
        );
        assert.equal(listed.data[0].id, assistant.id);
        const modified = await ok(
          await call(
            emulator,
            style,
            "POST",
            `assistants/${assistant.id}`,
            { name: "Renamed", metadata: { k: "v" } },
            beta,
          ),
        );
        assert.equal(modified.name, "Renamed");
        assert.deepEqual(modified.metadata, { k: "v" });
        assert.equal(
          (await ok(await call(emulator, style, "GET", `assistants/${assistant.id}`))).name,
          "Renamed",
        );

        const thread = await ok(
          await call(
            emulator,
            style,
            "POST",
            "threads",
            { messages: [{ role: "user", content: "Hi" }] },
            beta,
          ),
        );
        assert.match(thread.id, /^thread_/);
        const message = await ok(
          await call(
            emulator,
            style,
            "POST",
            `threads/${thread.id}/messages`,
            { role: "user", content: "How are you?" },
            beta,
          ),
        );
        assert.match(message.id, /^msg_/);
        assert.deepEqual(message.content, [
          { type: "text", text: { value: "How are you?", annotations: [] } },
        ]);
        const messages = await ok(
          await call(emulator, style, "GET", `threads/${thread.id}/messages?order=asc`),
        );
        assert.deepEqual(
          messages.data.map((m: Json) => m.content[0].text.value),
          ["Hi", "How are you?"],
        );
        const changed = await ok(
          await call(emulator, style, "POST", `threads/${thread.id}/messages/${message.id}`, {
            metadata: { seen: "yes" },
          }),
        );
        assert.deepEqual(changed.metadata, { seen: "yes" });
        assert.deepEqual(
          await ok(
            await call(emulator, style, "GET", `threads/${thread.id}/messages/${message.id}`),
          ),
          changed,
        );

        assert.deepEqual(await ok(await call(emulator, style, "DELETE", `threads/${thread.id}`)), {
          id: thread.id,
          object: "thread.deleted",
          deleted: true,
        });
        assert.equal((await call(emulator, style, "GET", `threads/${thread.id}`)).status, 404);
        assert.deepEqual(
          await ok(await call(emulator, style, "DELETE", `assistants/${assistant.id}`)),
          {
            id: assistant.id,
            object: "assistant.deleted",
            deleted: true,
          },
        );
        const gone = await call(emulator, style, "GET", `assistants/${assistant.id}`);
        assert.equal(gone.status, 404);
        assert.equal((await gone.json()).error.type, "invalid_request_error");
      });
    }

    it("completes a run over a few retrieves and adds the assistant's message", async () => {
      const assistant = await ok(
        await call(emulator, "dated", "POST", "assistants", { model: "gpt-4o" }, beta),
      );
      const thread = await ok(await call(emulator, "dated", "POST", "threads", {}));
      await ok(
        await call(emulator, "dated", "POST", `threads/${thread.id}/messages`, {
          role: "user",
          content: "Tell me a joke",
        }),
      );
      const run = await ok(
        await call(
          emulator,
          "dated",
          "POST",
          `threads/${thread.id}/runs`,
          { assistant_id: assistant.id, model: "gpt-4o-mini" },
          beta,
        ),
      );
      assert.match(run.id, /^run_/);
      assert.equal(run.status, "queued");
      assert.equal(run.model, "gpt-4o-mini");
      assert.equal(emulator.requests.at(-1)?.deployment, "gpt-4o-mini");
      const busy = await call(emulator, "dated", "POST", `threads/${thread.id}/messages`, {
        role: "user",
        content: "again",
      });
      assert.equal(busy.status, 400, "no messages while a run is active");

      const statuses: string[] = [];
      const done = await poll(
        async () => ok(await call(emulator, "dated", "GET", `threads/${thread.id}/runs/${run.id}`)),
        (r) => {
          statuses.push(r.status);
          return r.status === "completed";
        },
      );
      assert.deepEqual(statuses, ["in_progress", "completed"]);
      assert.equal(typeof done.completed_at, "number");
      assert.ok(done.usage.completion_tokens > 0);

      const messages = await ok(
        await call(emulator, "dated", "GET", `threads/${thread.id}/messages`),
      );
      const [answer] = messages.data;
      assert.equal(answer.role, "assistant");
      assert.equal(answer.run_id, run.id);
      assert.equal(answer.assistant_id, assistant.id);
      assert.equal(
        answer.content[0].text.value,
        "Hello from the Azure OpenAI emulator (deployment gpt-4o-mini). You said: Tell me a joke",
      );
      const steps = await ok(
        await call(emulator, "dated", "GET", `threads/${thread.id}/runs/${run.id}/steps`),
      );
      assert.equal(steps.data.length, 1);
      assert.equal(steps.data[0].step_details.message_creation.message_id, answer.id);
      const step = await ok(
        await call(
          emulator,
          "dated",
          "GET",
          `threads/${thread.id}/runs/${run.id}/steps/${steps.data[0].id}`,
        ),
      );
      assert.equal(step.status, "completed");
      const runs = await ok(await call(emulator, "dated", "GET", `threads/${thread.id}/runs`));
      assert.equal(runs.data[0].id, run.id);
    });

    it("completes a run on its own after the job duration", async () => {
      const assistant = await ok(
        await call(emulator, "v1", "POST", "assistants", { model: "gpt-4o" }),
      );
      const run = await ok(
        await call(emulator, "v1", "POST", "threads/runs", {
          assistant_id: assistant.id,
          thread: { messages: [{ role: "user", content: "Hi" }] },
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 80));
      const messages = await ok(
        await call(emulator, "v1", "GET", `threads/${run.thread_id}/messages`),
      );
      assert.equal(messages.data[0].role, "assistant");
      const listed = await ok(await call(emulator, "v1", "GET", `threads/${run.thread_id}/runs`));
      assert.equal(listed.data[0].status, "completed");
    });

    it("asks for tool outputs, then completes with them", async () => {
      const assistant = await ok(
        await call(emulator, "v1", "POST", "assistants", {
          model: "gpt-4o",
          tools: [
            { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
          ],
        }),
      );
      const run = await ok(
        await call(emulator, "v1", "POST", "threads/runs", {
          assistant_id: assistant.id,
          thread: { messages: [{ role: "user", content: "What is the weather in Oslo?" }] },
        }),
      );
      const waiting = await poll(
        async () =>
          ok(await call(emulator, "v1", "GET", `threads/${run.thread_id}/runs/${run.id}`)),
        (r) => r.status === "requires_action",
      );
      const [toolCall] = waiting.required_action.submit_tool_outputs.tool_calls;
      assert.equal(toolCall.function.name, "get_weather");
      const wrong = await call(
        emulator,
        "v1",
        "POST",
        `threads/${run.thread_id}/runs/${run.id}/submit_tool_outputs`,
        {
          tool_outputs: [{ tool_call_id: "call_other", output: "x" }],
        },
      );
      assert.equal(wrong.status, 400);
      const submitted = await ok(
        await call(
          emulator,
          "v1",
          "POST",
          `threads/${run.thread_id}/runs/${run.id}/submit_tool_outputs`,
          {
            tool_outputs: [{ tool_call_id: toolCall.id, output: "Sunny, 21C" }],
          },
        ),
      );
      assert.equal(submitted.status, "in_progress");
      await poll(
        async () =>
          ok(await call(emulator, "v1", "GET", `threads/${run.thread_id}/runs/${run.id}`)),
        (r) => r.status === "completed",
      );
      const messages = await ok(
        await call(emulator, "v1", "GET", `threads/${run.thread_id}/messages?limit=1`),
      );
      assert.match(messages.data[0].content[0].text.value, /You said: Sunny, 21C$/);
      const steps = await ok(
        await call(
          emulator,
          "v1",
          "GET",
          `threads/${run.thread_id}/runs/${run.id}/steps?order=asc`,
        ),
      );
      assert.deepEqual(
        steps.data.map((s: Json) => [s.type, s.status]),
        [
          ["tool_calls", "completed"],
          ["message_creation", "completed"],
        ],
      );
      assert.equal(steps.data[0].step_details.tool_calls[0].function.output, "Sunny, 21C");
    });

    it("streams a run as Assistants events ending with done", async () => {
      const assistant = await ok(
        await call(emulator, "dated", "POST", "assistants", { model: "gpt-4o" }),
      );
      const thread = await ok(
        await call(emulator, "dated", "POST", "threads", {
          messages: [{ role: "user", content: "Hi" }],
        }),
      );
      const res = await call(
        emulator,
        "dated",
        "POST",
        `threads/${thread.id}/runs`,
        { assistant_id: assistant.id, stream: true },
        { "x-emulator-words": "2" },
      );
      const events = await namedEvents(res);
      assert.deepEqual(
        events.map((e) => e.event),
        [
          "thread.run.created",
          "thread.run.queued",
          "thread.run.in_progress",
          "thread.run.step.created",
          "thread.run.step.in_progress",
          "thread.message.created",
          "thread.message.in_progress",
          "thread.message.delta",
          "thread.message.delta",
          "thread.message.completed",
          "thread.run.step.completed",
          "thread.run.completed",
          "done",
        ],
      );
      assert.equal(events.at(-1)?.data, "[DONE]");
      const created = JSON.parse(events[0]?.data ?? "{}");
      assert.equal(created.status, "queued");
      const deltas = events
        .filter((e) => e.event === "thread.message.delta")
        .map((e) => JSON.parse(e.data));
      assert.deepEqual(
        deltas.map((d) => d.delta.content[0].text.value),
        ["word1", " word2"],
      );
      const run = await ok(
        await call(emulator, "dated", "GET", `threads/${thread.id}/runs/${created.id}`),
      );
      assert.equal(run.status, "completed");

      const cancel = await call(
        emulator,
        "dated",
        "POST",
        `threads/${thread.id}/runs/${created.id}/cancel`,
      );
      assert.equal(cancel.status, 400, "a completed run cannot be cancelled");
    });

    it("cancels a queued run", async () => {
      const assistant = await ok(
        await call(emulator, "v1", "POST", "assistants", { model: "gpt-4o" }),
      );
      const thread = await ok(await call(emulator, "v1", "POST", "threads"));
      const run = await ok(
        await call(emulator, "v1", "POST", `threads/${thread.id}/runs`, {
          assistant_id: assistant.id,
        }),
      );
      const cancelling = await ok(
        await call(emulator, "v1", "POST", `threads/${thread.id}/runs/${run.id}/cancel`),
      );
      assert.equal(cancelling.status, "cancelling");
      const cancelled = await ok(
        await call(emulator, "v1", "GET", `threads/${thread.id}/runs/${run.id}`),
      );
      assert.equal(cancelled.status, "cancelled");
    });
  });

  describe("vector stores", () => {
    for (const style of STYLES) {
      it(`creates stores, files and file batches that complete quickly (${style})`, async () => {
        const first = await upload(emulator, style, "alpha beta", "a.txt", "assistants");
        const second = await upload(emulator, style, "gamma delta", "b.txt", "assistants");
        const third = await upload(emulator, style, "epsilon", "c.txt", "assistants");
        const store = await ok(
          await call(emulator, style, "POST", "vector_stores", {
            name: "docs",
            file_ids: [first.id],
          }),
        );
        assert.match(store.id, /^vs_/);
        assert.equal(store.object, "vector_store");
        assert.equal(store.status, "in_progress");
        assert.deepEqual(store.file_counts, {
          in_progress: 1,
          completed: 0,
          failed: 0,
          cancelled: 0,
          total: 1,
        });
        const ready = await ok(await call(emulator, style, "GET", `vector_stores/${store.id}`));
        assert.equal(ready.status, "completed");
        assert.equal(ready.usage_bytes, first.bytes);

        const listed = await ok(await call(emulator, style, "GET", "vector_stores"));
        assert.equal(listed.data[0].id, store.id);
        const renamed = await ok(
          await call(emulator, style, "POST", `vector_stores/${store.id}`, { name: "renamed" }),
        );
        assert.equal(renamed.name, "renamed");

        const added = await ok(
          await call(emulator, style, "POST", `vector_stores/${store.id}/files`, {
            file_id: second.id,
          }),
        );
        assert.equal(added.object, "vector_store.file");
        assert.equal(added.status, "in_progress");
        const retrieved = await ok(
          await call(emulator, style, "GET", `vector_stores/${store.id}/files/${second.id}`),
        );
        assert.equal(retrieved.status, "completed");
        const files = await ok(
          await call(emulator, style, "GET", `vector_stores/${store.id}/files?filter=completed`),
        );
        assert.deepEqual(files.data.map((f: Json) => f.id).sort(), [first.id, second.id].sort());
        const content = await ok(
          await call(
            emulator,
            style,
            "GET",
            `vector_stores/${store.id}/files/${second.id}/content`,
          ),
        );
        assert.equal(content.data[0].text, "gamma delta");
        const search = await ok(
          await call(emulator, style, "POST", `vector_stores/${store.id}/search`, {
            query: "gamma",
          }),
        );
        assert.equal(search.object, "vector_store.search_results.page");
        assert.equal(search.data.length, 2);
        assert.deepEqual(
          await ok(
            await call(emulator, style, "DELETE", `vector_stores/${store.id}/files/${second.id}`),
          ),
          { id: second.id, object: "vector_store.file.deleted", deleted: true },
        );

        const batch = await ok(
          await call(emulator, style, "POST", `vector_stores/${store.id}/file_batches`, {
            file_ids: [second.id, third.id],
          }),
        );
        assert.match(batch.id, /^vsfb_/);
        assert.equal(batch.object, "vector_store.files_batch");
        assert.equal(batch.status, "in_progress");
        const batchDone = await ok(
          await call(emulator, style, "GET", `vector_stores/${store.id}/file_batches/${batch.id}`),
        );
        assert.equal(batchDone.status, "completed");
        assert.equal(batchDone.file_counts.completed, 2);
        const batchFiles = await ok(
          await call(
            emulator,
            style,
            "GET",
            `vector_stores/${store.id}/file_batches/${batch.id}/files`,
          ),
        );
        assert.equal(batchFiles.data.length, 2);

        const other = await ok(
          await call(emulator, style, "POST", `vector_stores/${store.id}/file_batches`, {
            file_ids: [await upload(emulator, style, "z", "z.txt", "assistants").then((f) => f.id)],
          }),
        );
        const cancelled = await ok(
          await call(
            emulator,
            style,
            "POST",
            `vector_stores/${store.id}/file_batches/${other.id}/cancel`,
          ),
        );
        assert.equal(cancelled.status, "cancelled");

        assert.deepEqual(
          await ok(await call(emulator, style, "DELETE", `vector_stores/${store.id}`)),
          {
            id: store.id,
            object: "vector_store.deleted",
            deleted: true,
          },
        );
        assert.equal((await call(emulator, style, "GET", `vector_stores/${store.id}`)).status, 404);
      });
    }
  });

  describe("models and unknown paths", () => {
    it("describes models with Azure's capabilities, lifecycle and deprecation", async () => {
      for (const style of STYLES) {
        const model = await ok(await call(emulator, style, "GET", "models/gpt-4o-mini"));
        assert.deepEqual(Object.keys(model.capabilities).sort(), [
          "chat_completion",
          "completion",
          "embeddings",
          "fine_tune",
          "inference",
          "scale_types",
        ]);
        assert.equal(model.capabilities.fine_tune, true);
        assert.equal(model.lifecycle_status, "generally-available");
        assert.equal(typeof model.deprecation.inference, "number");
        assert.equal(typeof model.deprecation.fine_tune, "number");
      }
    });

    it("answers Azure's 404 for unknown resource paths", async () => {
      for (const path of ["containers", "files/x/y/z", "threads/t/nothing"]) {
        for (const style of STYLES) {
          const res = await call(emulator, style, "GET", path);
          assert.equal(res.status, 404);
          assert.deepEqual(await res.json(), {
            error: { code: "404", message: "Resource not found" },
          });
        }
      }
    });
  });
});
