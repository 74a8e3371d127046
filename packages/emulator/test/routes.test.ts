import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkApiVersion } from "../src/api-version.ts";
import {
  type CredentialCheck,
  isAuthorized,
  type KeyCheck,
  keyCheck,
  sentDisabledKey,
} from "../src/auth.ts";
import { operationsOf } from "../src/catalog.ts";
import { Lifecycle } from "../src/resources/lifecycle.ts";
import { matchRoute, requestStyle } from "../src/routes.ts";

describe("emulator routes", () => {
  it("matches dated inference paths and decodes the deployment segment", () => {
    assert.deepEqual(matchRoute("POST", "/openai/deployments/my%20gpt/chat/completions"), {
      kind: "inference",
      style: "dated",
      op: "chat/completions",
      deployment: "my gpt",
    });
    assert.deepEqual(matchRoute("POST", "/openai/deployments/w/audio/transcriptions"), {
      kind: "inference",
      style: "dated",
      op: "audio/transcriptions",
      deployment: "w",
    });
  });

  it("matches v1 inference paths without a deployment", () => {
    assert.deepEqual(matchRoute("POST", "/openai/v1/embeddings"), {
      kind: "inference",
      style: "v1",
      op: "embeddings",
    });
  });

  it("matches listings only on GET", () => {
    assert.equal(matchRoute("GET", "/openai/deployments")?.kind, "list-deployments");
    assert.equal(matchRoute("GET", "/openai/deployments/x")?.kind, "get-deployment");
    assert.equal(matchRoute("GET", "/openai/models")?.kind, "list-models");
    assert.equal(matchRoute("GET", "/openai/v1/models/gpt-4o")?.kind, "get-model");
    assert.equal(matchRoute("POST", "/openai/deployments"), undefined);
  });

  it("finds no route for unknown or malformed paths", () => {
    for (const [method, path] of [
      ["GET", "/openai/deployments/gpt-4o/chat/completions"],
      ["POST", "/openai/deployments/gpt-4o/chat"],
      ["POST", "/openai/deployments//chat/completions"],
      ["POST", "/openai/deployments/%E0%A4%A/chat/completions"],
      ["POST", "/v1/chat/completions"],
      ["POST", "/openai/v1/chat/completions/"],
    ] as const) {
      assert.equal(matchRoute(method, path), undefined, `${method} ${path}`);
    }
  });

  it("matches resource routes in both styles, literal segments before parameters", () => {
    assert.deepEqual(matchRoute("POST", "/openai/threads/runs"), {
      kind: "resource",
      style: "dated",
      op: "runs.createThreadAndRun",
      params: {},
    });
    assert.deepEqual(matchRoute("POST", "/openai/v1/threads/thread_1"), {
      kind: "resource",
      style: "v1",
      op: "threads.modify",
      params: { thread_id: "thread_1" },
    });
    assert.deepEqual(matchRoute("GET", "/openai/files/file%2Dabc/content"), {
      kind: "resource",
      style: "dated",
      op: "files.content",
      params: { file_id: "file-abc" },
    });
    assert.equal(matchRoute("PUT", "/openai/files"), undefined);
    assert.equal(matchRoute("GET", "/openai/files/"), undefined);
    assert.equal(matchRoute("GET", "/openai/v1/containers"), undefined);
  });

  it("tells the request style from the path", () => {
    assert.equal(requestStyle("/openai/deployments/x/embeddings"), "dated");
    assert.equal(requestStyle("/openai/v1/embeddings"), "v1");
    assert.equal(requestStyle("/healthz"), "other");
  });
});

describe("emulator api-version rules", () => {
  it("requires a dated api-version on the dated style", () => {
    assert.equal(checkApiVersion("dated", "2024-10-21"), undefined);
    assert.equal(checkApiVersion("dated", "2025-04-01-preview"), undefined);
    assert.equal(checkApiVersion("dated", undefined)?.status, 404);
    assert.equal(checkApiVersion("dated", "2024-10-21-beta")?.status, 400);
    assert.equal(checkApiVersion("dated", "latest")?.status, 400);
  });

  it("takes nothing or preview on the v1 style", () => {
    assert.equal(checkApiVersion("v1", undefined), undefined);
    assert.equal(checkApiVersion("v1", "preview"), undefined);
    assert.equal(checkApiVersion("v1", "2024-10-21")?.status, 400);
  });
});

describe("emulator auth rules", () => {
  const keysOnly = (isKey: KeyCheck): CredentialCheck => ({
    isKey,
    isEntraToken: () => false,
    keyless: false,
  });
  const isKey = keysOnly(keyCheck(["k1", "k2"]));

  it("takes the key only from api-key on the dated style", () => {
    assert.equal(isAuthorized("dated", { "api-key": "k2" }, isKey), true);
    assert.equal(isAuthorized("dated", { authorization: "Bearer k1" }, isKey), false);
    assert.equal(isAuthorized("dated", { authorization: "Bearer entra:k1" }, isKey), true);
  });

  it("takes the key from api-key or Bearer on the v1 style", () => {
    assert.equal(isAuthorized("v1", { authorization: "Bearer k1" }, isKey), true);
    assert.equal(isAuthorized("v1", { "api-key": "k1" }, isKey), true);
    assert.equal(isAuthorized("v1", { authorization: "Bearer nope" }, isKey), false);
  });

  it("decides by api-key alone when it is present", () => {
    assert.equal(
      isAuthorized("v1", { "api-key": "bad", authorization: "Bearer k1" }, isKey),
      false,
    );
  });

  it("accepts any non-empty key when no keys are configured", () => {
    const any = keysOnly(keyCheck([]));
    assert.equal(isAuthorized("dated", { "api-key": "whatever" }, any), true);
    assert.equal(isAuthorized("dated", { "api-key": "" }, any), false);
    assert.equal(isAuthorized("dated", {}, any), false);
  });
});

describe("emulator model capabilities", () => {
  it("lets each model family serve only its own operations", () => {
    assert.deepEqual(operationsOf("gpt-4o-2024-11-20"), ["chat/completions"]);
    assert.deepEqual(operationsOf("gpt-35-turbo-instruct"), ["completions"]);
    assert.deepEqual(operationsOf("text-embedding-3-large"), ["embeddings"]);
    assert.deepEqual(operationsOf("gpt-image-1"), ["images/generations", "images/edits"]);
    assert.deepEqual(operationsOf("whisper"), ["audio/transcriptions", "audio/translations"]);
    assert.deepEqual(operationsOf("tts-hd"), ["audio/speech"]);
    assert.deepEqual(operationsOf("my-custom-model"), ["chat/completions"]);
  });
});

describe("emulator lifecycles", () => {
  it("moves one step per retrieve and all steps within the duration", () => {
    const entered: string[] = [];
    const lifecycle = new Lifecycle(["queued", "in_progress", "completed"], 0, 100, (s) => {
      entered.push(s);
    });
    lifecycle.tick(49);
    assert.equal(lifecycle.status, "queued");
    lifecycle.poke(49);
    assert.equal(lifecycle.status, "in_progress");
    lifecycle.tick(99);
    assert.equal(lifecycle.status, "in_progress");
    lifecycle.tick(100);
    assert.equal(lifecycle.status, "completed");
    assert.equal(lifecycle.settled, true);
    assert.deepEqual(entered, ["in_progress", "completed"]);
  });

  it("stays put when frozen and starts over on restart", () => {
    const lifecycle = new Lifecycle<string>(["pending", "running", "succeeded"], 0, 100);
    lifecycle.poke(0);
    lifecycle.freeze();
    lifecycle.tick(1000);
    assert.equal(lifecycle.status, "running");
    lifecycle.restart(["paused"], 1000);
    assert.equal(lifecycle.status, "paused");
    lifecycle.restart(["running", "succeeded"], 1000);
    lifecycle.tick(1100);
    assert.equal(lifecycle.status, "succeeded");
  });

  it("accepts only issued Entra tokens when keys are disabled", () => {
    const keyless: CredentialCheck = {
      isKey: keyCheck(["k1"]),
      isEntraToken: (token) => token === "issued",
      keyless: true,
    };
    assert.equal(isAuthorized("dated", { authorization: "Bearer issued" }, keyless), true);
    assert.equal(isAuthorized("v1", { authorization: "Bearer issued" }, keyless), true);
    assert.equal(isAuthorized("dated", { "api-key": "k1" }, keyless), false);
    assert.equal(isAuthorized("v1", { authorization: "Bearer k1" }, keyless), false);
    assert.equal(isAuthorized("dated", { authorization: "Bearer entra:k1" }, keyless), false);
    assert.equal(sentDisabledKey({ "api-key": "k1" }, keyless), true);
    assert.equal(sentDisabledKey({ authorization: "Bearer k1" }, keyless), false);
  });
});
