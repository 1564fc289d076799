/**
 * Semantic Kernel's finish reason (microsoft/semantic-kernel, read in python-1.44.1 / dotnet-1.80.0 source): its model
 * diagnostics write the SINGULAR `gen_ai.response.finish_reason` —
 * - Python `utils/telemetry/model_diagnostics/decorators.py` `_set_completion_response`:
 *   `",".join(str(c.finish_reason) for c in completions)`, the `str()` of `contents/utils/finish_reason.py`
 *   `FinishReason(str, Enum)`: `FinishReason.TOOL_CALLS` (several choices comma-joined);
 * - .NET `InternalUtilities/src/Diagnostics/ModelDiagnostics.cs` `SetFinishReasons`: `[` + the connector's
 *   `Metadata["FinishReason"]` values quoted and comma-joined + `]` (OpenAI: `["ToolCalls"]`, `"N/A"` when none).
 * Run: two `ChatCompletionAgent`s routed in app code — the triage agent runs with `FunctionChoiceBehavior.Auto(
 * auto_invoke=False)` (.NET `autoInvoke: false`), so the routing function call is returned to the app un-run (no
 * `execute_tool` span); the app then invokes the target agent under the same span. Contents not recorded.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, creditOf } from './sdk.js';

function skRoutedRun(triageFinish: string, stop: string, plural?: string[]): Span[] {
  return recordSpans((r) => {
    const app = r.start('support request', 0, {});
    const agent = (name: string, ms: number) => r.start(`invoke_agent ${name}`, ms, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.agent.id': `${name}-7e0a`,
    }, app);
    const chat = (p: ReturnType<typeof agent>, s: number, e: number, id: string, finish: string, finishes?: string[]) =>
      r.start('chat gpt-4o', s, {
        'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.id': id,
        'gen_ai.response.finish_reason': finish, 'gen_ai.usage.input_tokens': 80, 'gen_ai.usage.output_tokens': 15,
        ...(finishes === undefined ? {} : { 'gen_ai.response.finish_reasons': finishes }),
      }, p).end(at(e));
    const triage = agent('triage', 1);
    chat(triage, 2, 10, 'chatcmpl-t', triageFinish, plural);
    triage.end(at(11));
    const billing = agent('billing', 12);
    chat(billing, 13, 20, 'chatcmpl-b', stop);
    billing.end(at(21));
    app.end(at(22));
  });
}

const linked = (spans: Span[]) => {
  const [first, second] = stepsFromSpans(spans).steps.filter((s) => s.kind === 'llm');
  return second!.causalInputs.includes(first!.stepId);
};

describe("Semantic Kernel's singular gen_ai.response.finish_reason (C9)", () => {
  it('Python `FinishReason.TOOL_CALLS`: the routing agent gets credit (before: 0)', async () => {
    const spans = skRoutedRun('FinishReason.TOOL_CALLS', 'FinishReason.STOP');
    expect(linked(spans)).toBe(true);
    expect((await creditOf(spans)).get('triage')).toBeGreaterThan(0);
  });

  it('.NET `["ToolCalls"]`: the routing agent gets credit (before: 0)', async () => {
    const spans = skRoutedRun('["ToolCalls"]', '["Stop"]');
    expect(linked(spans)).toBe(true);
    expect((await creditOf(spans)).get('triage')).toBeGreaterThan(0);
  });

  it('several choices, comma-joined (Python) or listed (.NET)', () => {
    expect(linked(skRoutedRun('FinishReason.STOP,FinishReason.TOOL_CALLS', 'FinishReason.STOP'))).toBe(true);
    expect(linked(skRoutedRun('["Stop","ToolCalls"]', '["Stop"]'))).toBe(true);
  });

  it('an answer (`STOP`, `Stop`), no reason (`None`, `N/A`) is no hand-off; the spec key wins when both are written', async () => {
    for (const f of ['FinishReason.STOP', '["Stop"]', 'None', '["N/A"]', 'FinishReason.LENGTH']) {
      const spans = skRoutedRun(f, 'FinishReason.STOP');
      expect(linked(spans)).toBe(false);
      expect((await creditOf(spans)).get('triage')).toBe(0);
    }
    expect(linked(skRoutedRun('FinishReason.TOOL_CALLS', 'FinishReason.STOP', ['stop']))).toBe(false);
  });
});
