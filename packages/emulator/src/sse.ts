/**
 * Azure's streaming sequences for chat and legacy completions, artefacts included: a first
 * chunk with empty `choices` and only `prompt_filter_results`, and an annotation-only chunk
 * (no `delta`) after the third content chunk. Pure: returns formatted events.
 */
import {
  type ChatAnswer,
  type CompletionAnswer,
  chatFinishReason,
  chatUsage,
  completionUsage,
  contentFilterResults,
  promptFilterResults,
  SYSTEM_FINGERPRINT,
  type TextPlan,
} from "./answers.ts";

export const DONE_EVENT = "data: [DONE]\n\n";

export function sseEvent(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** The content chunk after which Azure's annotation-only chunk comes. */
const ANNOTATE_AFTER = 3;

function promptFilterChunk(promptCount: number) {
  return {
    choices: [],
    created: 0,
    id: "",
    model: "",
    object: "",
    prompt_filter_results: promptFilterResults(promptCount),
  };
}

function annotationChunk(index: number) {
  return {
    choices: [
      {
        content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 20 },
        content_filter_results: contentFilterResults(),
        finish_reason: null,
        index,
      },
    ],
    created: 0,
    id: "",
    model: "",
    object: "",
  };
}

/**
 * Content chunks of several choices, interleaved position by position as Azure does, with the
 * annotation chunk after each choice's third piece (or its last, when it has fewer).
 */
function contentChunks(
  plans: readonly TextPlan[],
  contentChunk: (index: number, piece: string) => unknown,
) {
  const chunks: unknown[] = [];
  const longest = Math.max(0, ...plans.map((p) => p.pieces.length));
  for (let position = 0; position < longest; position++) {
    plans.forEach((plan, index) => {
      const piece = plan.pieces[position];
      if (piece === undefined) return;
      chunks.push(contentChunk(index, piece));
      if (position + 1 === Math.min(ANNOTATE_AFTER, plan.pieces.length)) {
        chunks.push(annotationChunk(index));
      }
    });
  }
  return chunks;
}

export function chatStreamEvents(answer: ChatAnswer, includeUsage: boolean): string[] {
  const frame = (choices: unknown[]) => ({
    choices,
    created: answer.created,
    id: answer.id,
    model: answer.model,
    object: "chat.completion.chunk",
    system_fingerprint: SYSTEM_FINGERPRINT,
  });
  const choice = (
    index: number,
    delta: unknown,
    filters: unknown = {},
    finish: string | null = null,
  ) => ({
    content_filter_results: filters,
    delta,
    finish_reason: finish,
    index,
    logprobs: null,
  });
  const indices = Array.from({ length: answer.n }, (_, i) => i);
  const { content } = answer;
  const chunks: unknown[] = [promptFilterChunk(1)];

  if (content.kind === "text") {
    for (const i of indices) {
      chunks.push(frame([choice(i, { content: "", refusal: null, role: "assistant" })]));
    }
    const plans = indices.map(() => content.text);
    chunks.push(
      ...contentChunks(plans, (i, piece) =>
        frame([choice(i, { content: piece }, contentFilterResults())]),
      ),
    );
  } else {
    for (const i of indices) {
      const opening = {
        content: null,
        refusal: null,
        role: "assistant",
        tool_calls: [
          {
            function: { arguments: "", name: content.name },
            id: content.callId,
            index: 0,
            type: "function",
          },
        ],
      };
      chunks.push(frame([choice(i, opening)]));
    }
    for (const i of indices) {
      const args = { tool_calls: [{ function: { arguments: content.arguments }, index: 0 }] };
      chunks.push(frame([choice(i, args)]));
    }
  }

  for (const i of indices) {
    chunks.push(frame([choice(i, {}, {}, chatFinishReason(content))]));
  }
  if (includeUsage) chunks.push({ ...frame([]), usage: chatUsage(answer) });
  return [...chunks.map(sseEvent), DONE_EVENT];
}

export function completionStreamEvents(answer: CompletionAnswer, includeUsage: boolean): string[] {
  const frame = (choices: unknown[]) => ({
    choices,
    created: answer.created,
    id: answer.id,
    model: answer.model,
    object: "text_completion",
    system_fingerprint: SYSTEM_FINGERPRINT,
  });
  const choice = (index: number, text: string, filters: unknown, finish: string | null = null) => ({
    content_filter_results: filters,
    finish_reason: finish,
    index,
    logprobs: null,
    text,
  });
  const chunks: unknown[] = [
    promptFilterChunk(answer.promptCount),
    ...contentChunks(answer.choices, (i, piece) =>
      frame([choice(i, piece, contentFilterResults())]),
    ),
    ...answer.choices.map((plan, i) => frame([choice(i, "", {}, plan.finishReason)])),
  ];
  if (includeUsage) chunks.push({ ...frame([]), usage: completionUsage(answer) });
  return [...chunks.map(sseEvent), DONE_EVENT];
}
