/**
 * OpenInference's masking (`traceConfig`, the OPENINFERENCE_HIDE_* variables) writes the
 * placeholder `__REDACTED__` where a text was: recorded here by the real instrumentation and the
 * real openinference-core OITracer (test/support/js-instrumented-run.ts). A hidden text must count
 * as no text: read as one, every hidden text equalled every other, so steps were linked and credit
 * moved through the placeholder alone (in this run the researcher got 0.75, the writer 0.25;
 * with the placeholder read as no text 0 and 1, as when the texts are not recorded — the hand-over
 * is text passed in app code, C8, which the masking hides; unmasked 0.375 / 0.625).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { REDACTED_TEXT } from '../../src/conventions/attributes.js';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { canonicalArgs } from '../../src/conventions/messages.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Attributes, LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { jsRunLogBytes, jsRunTraceBytes, recordJsRun, type JsInstrumentedRun } from '../support/js-instrumented-run.js';
import { researchWriteRun } from '../support/openai-instrumented-run.js';

async function events(spans: Span[], logs: LogRecord[]): Promise<CreditEvent[]> {
  const asm = new EpisodeAssembler();
  asm.addSpans(spans);
  asm.addEvaluations(evaluationsFromLogs(logs));
  return (await Promise.all(asm.flush('shutdown').map((e) => processEpisode(e)))).flat().map((e) => ({ ...e, emitted_at_ms: 0 }));
}

/** The same spans as if the instrumentation had not recorded the hidden attributes at all. */
const withoutPlaceholders = (spans: Span[]): Span[] =>
  spans.map((s) => ({ ...s, attributes: Object.fromEntries(Object.entries(s.attributes).filter(([, v]) => v !== REDACTED_TEXT)) as Attributes }));

describe('OpenInference masked content (traceConfig)', () => {
  let run: JsInstrumentedRun;
  let spans: Span[];
  let logs: LogRecord[];
  beforeAll(async () => {
    run = await recordJsRun('openinference', researchWriteRun({ score: 1 }), { traceConfig: { hideInputText: true, hideOutputText: true, hideInputs: true, hideOutputs: true } });
    spans = decodeTraces(jsRunTraceBytes(run), 'otlp_proto');
    logs = decodeLogs(jsRunLogBytes(run), 'otlp_proto');
  });

  it('the real masking wrote the placeholder on the LLM and app spans', () => {
    const masked = spans.filter((s) => Object.values(s.attributes).includes(REDACTED_TEXT));
    expect(masked.some((s) => s.attributes['openinference.span.kind'] === 'LLM')).toBe(true);
    expect(masked.some((s) => s.attributes['openinference.span.kind'] === 'AGENT')).toBe(true);
  });

  it('no step carries the placeholder as its text or tool arguments', () => {
    const { steps } = stepsFromSpans(spans);
    expect(steps.length).toBeGreaterThan(3);
    for (const st of steps) {
      expect(st.inputText ?? '').not.toContain(REDACTED_TEXT);
      expect(st.outputText ?? '').not.toContain(REDACTED_TEXT);
    }
    // a hidden tool input is no arguments (tool calls are matched by name + arguments, C3)
    expect(canonicalArgs(REDACTED_TEXT)).toBeUndefined();
  });

  it('credit and every reward are those of the run without the hidden attributes: nothing flows through the placeholder', async () => {
    const masked = await events(spans, logs);
    expect(masked.some((e) => e.event_type === 'episode_credit')).toBe(true);
    expect(masked).toEqual(await events(withoutPlaceholders(spans), logs));
  });
});
