/**
 * Translation: CPU per translated request and per translated stream event (chat ↔ Responses,
 * chat ↔ Anthropic), beside the untranslated path's in the same run. Pure functions measured in
 * the bench process itself; the figures belong to azure-oai-proxy alone.
 */
import { measureTranslation } from "../translation.ts";
import type { BenchContext, ScenarioResult } from "./common.ts";

export async function translation(ctx: BenchContext): Promise<ScenarioResult> {
  const cost = measureTranslation(ctx.quick ? 0.25 : 1);
  ctx.log(
    `translation: request plain ${cost.request.plain.toFixed(1)} µs, Responses ${cost.request.responses.toFixed(1)} µs, Anthropic ${cost.request.anthropic.toFixed(1)} µs; event plain ${cost.event.plain.toFixed(2)} µs, Responses ${cost.event.responses.toFixed(2)} µs, Anthropic ${cost.event.anthropic.toFixed(2)} µs`,
  );
  const request = { compare: "le", base: "abs", offset: 50, text: "≤ 50 µs" } as const;
  const event = { compare: "le", base: "abs", offset: 5, text: "≤ 5 µs" } as const;
  const figure = (
    id: string,
    label: string,
    value: number,
    digits: number,
    target?: typeof request | typeof event,
  ) => ({
    id,
    scenario: "translation",
    label,
    unit: "µs",
    digits,
    values: { proxy: value },
    ...(target === undefined ? {} : { target }),
  });
  return {
    figures: [
      figure(
        "translation.request.plain",
        "Translation: untranslated chat request (CPU)",
        cost.request.plain,
        1,
      ),
      figure(
        "translation.request.responses",
        "Translation: chat ↔ Responses, per request (CPU)",
        cost.request.responses,
        1,
        request,
      ),
      figure(
        "translation.request.anthropic",
        "Translation: chat ↔ Anthropic, per request (CPU)",
        cost.request.anthropic,
        1,
        request,
      ),
      figure(
        "translation.event.plain",
        "Translation: untranslated stream event (CPU)",
        cost.event.plain,
        2,
      ),
      figure(
        "translation.event.responses",
        "Translation: Responses stream event → chat chunk (CPU)",
        cost.event.responses,
        2,
        event,
      ),
      figure(
        "translation.event.anthropic",
        "Translation: Anthropic stream event → chat chunk (CPU)",
        cost.event.anthropic,
        2,
        event,
      ),
    ],
    raw: cost,
  };
}
