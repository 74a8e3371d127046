/** Model families named in the configuration file (`api:`), for deployments whose names say nothing. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type PoolStack, startPoolStack } from "../helpers/stack.ts";

describe("api: in the configuration file", () => {
  let stack: PoolStack;
  before(async () => {
    stack = await startPoolStack({
      resources: {
        main: {
          chunkDelayMs: 0,
          listDeployments: false,
          deployments: [
            { id: "team-a", model: "claude-haiku-4-5" },
            { id: "team-b", model: "gpt-5.1-codex" },
          ],
        },
      },
      yaml: (urls) => `
resources:
  main: { endpoint: "${urls.main}", apiKey: "\${EMULATOR_KEY}" }
models:
  haiku:
    api: anthropic
    targets: [{ resource: main, deployment: team-a }]
  coder:
    targets: [{ resource: main, deployment: team-b, api: responses }]
`,
    });
  });
  after(() => stack.close());

  for (const [model, path] of [
    ["haiku", "/anthropic/v1/messages"],
    ["coder", "/openai/v1/responses"],
  ] as const) {
    it(`sends ${model} over the API the file names`, async () => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer anything" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        object: string;
        choices: { message: { content: string } }[];
      };
      assert.equal(body.object, "chat.completion");
      assert.match(body.choices[0]?.message.content ?? "", /You said: Hi/);
      assert.equal(stack.emulators.main?.requests.at(-1)?.path, path);
    });
  }
});
