import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  adaptationForAzureError,
  adaptedHeader,
  adaptForReasoning,
  applyAdaptations,
} from "../../src/adapters/reasoning-params.ts";

const azure400 = (message: string, param: string | null = null) => ({
  error: { message, type: "invalid_request_error", param, code: "unsupported_parameter" },
});

describe("adaptForReasoning", () => {
  it("renames max_tokens and removes non-default sampling parameters, listing each change", () => {
    const { body, adapted } = adaptForReasoning({
      model: "o3",
      messages: [],
      max_tokens: 100,
      temperature: 0.2,
      top_p: 1,
      presence_penalty: 0.5,
      logprobs: true,
    });
    assert.deepEqual(body, { model: "o3", messages: [], max_completion_tokens: 100, top_p: 1 });
    assert.deepEqual(adapted, [
      "max_tokens->max_completion_tokens",
      "-temperature",
      "-presence_penalty",
      "-logprobs",
    ]);
    assert.equal(
      adaptedHeader(adapted),
      "max_tokens->max_completion_tokens,-temperature,-presence_penalty,-logprobs",
    );
  });

  it("drops max_tokens when max_completion_tokens is already there", () => {
    const { body, adapted } = adaptForReasoning({ max_tokens: 10, max_completion_tokens: 20 });
    assert.deepEqual(body, { max_completion_tokens: 20 });
    assert.deepEqual(adapted, ["-max_tokens"]);
  });

  it("leaves a body reasoning models accept untouched", () => {
    const body = { model: "o3", messages: [], temperature: 1, max_completion_tokens: 5 };
    const adapted = adaptForReasoning(body);
    assert.equal(adapted.body, body);
    assert.deepEqual(adapted.adapted, []);
    assert.equal(adaptedHeader(adapted.adapted), undefined);
  });
});

describe("adaptationForAzureError", () => {
  const body = { model: "o3", messages: [], max_tokens: 50, temperature: 0.2 };

  it("renames the parameter Azure says to replace", () => {
    const error = azure400(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      "max_tokens",
    );
    assert.equal(adaptationForAzureError(400, error, body), "max_tokens->max_completion_tokens");
  });

  it("removes a parameter whose value Azure refuses", () => {
    const error = azure400(
      "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
      "temperature",
    );
    assert.equal(adaptationForAzureError(400, error, body), "-temperature");
  });

  it("removes a parameter Azure does not support at all", () => {
    const error = azure400("Unsupported parameter: 'stop' is not supported with this model.");
    assert.equal(adaptationForAzureError(400, error, { ...body, stop: ["x"] }), "-stop");
  });

  it("gives nothing for other errors, other statuses, absent or essential parameters", () => {
    assert.equal(
      adaptationForAzureError(400, azure400("Invalid 'messages': empty."), body),
      undefined,
    );
    assert.equal(
      adaptationForAzureError(
        500,
        azure400("Unsupported parameter: 'max_tokens' is not supported with this model."),
        body,
      ),
      undefined,
    );
    assert.equal(
      adaptationForAzureError(
        400,
        azure400("Unsupported parameter: 'top_p' is not supported with this model."),
        body,
      ),
      undefined,
    );
    assert.equal(
      adaptationForAzureError(
        400,
        azure400("Unsupported value: 'messages' does not support this."),
        body,
      ),
      undefined,
    );
  });

  it("applies remembered changes to a later request of the same deployment", () => {
    assert.deepEqual(
      applyAdaptations(body, ["max_tokens->max_completion_tokens", "-temperature"]),
      {
        model: "o3",
        messages: [],
        max_completion_tokens: 50,
      },
    );
  });
});
