/**
 * C9 (hand-off seen only in the finish reason) reads `gen_ai.response.finish_reasons` in the forms real
 * instrumentations write, checked against their source:
 * - Microsoft Agent Framework python (microsoft/agent-framework `python/packages/core/agent_framework/observability.py`,
 *   core 1.13, `_get_response_attributes`): `json.dumps([finish_reason])`, a JSON-encoded array in ONE string
 *   (`'["tool_calls"]'`); Microsoft.Extensions.AI's `OpenTelemetryChatClient` (dotnet/extensions
 *   `src/Libraries/Microsoft.Extensions.AI/ChatCompletion/OpenTelemetryChatClient.cs`, .NET Agent Framework's chat
 *   spans) the same (`$"[\"{finishReason.Value.ToLowerInvariant()}\"]"`);
 * - other casings and synonyms of "the response asked for tool calls": Anthropic Messages / Bedrock Converse
 *   `tool_use`, Cohere `TOOL_CALL`, Semantic Kernel .NET's connector value `ToolCalls`. Gemini's `STOP` ends a
 *   function call and an answer alike: never read as a hand-off.
 * Run: Agent Framework agents routed in app code — the triage agent's `route_to_<agent>` is a declaration-only
 * function (`FunctionTool` without `func`: `_tools.py` `declaration_only`), returned to the app un-run (no
 * `execute_tool` span), which then runs the target under the same app span, contents not recorded.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, creditOf } from './sdk.js';

function routedRun(triageFinish: unknown): Span[] {
  return recordSpans((r) => {
    const app = r.start('support request', 0, {});
    const agent = (name: string, ms: number) => r.start(`invoke_agent ${name}`, ms, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.provider.name': 'microsoft.agent_framework', 'gen_ai.agent.name': name, 'gen_ai.agent.id': `${name}-2c1d`,
    }, app);
    const chat = (p: ReturnType<typeof agent>, s: number, e: number, id: string, finish: unknown) =>
      r.start('chat gpt-4o-mini', s, {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.id': id, 'gen_ai.response.finish_reasons': finish, 'gen_ai.usage.input_tokens': 90, 'gen_ai.usage.output_tokens': 12,
      }, p).end(at(e));
    const triage = agent('triage', 1);
    chat(triage, 2, 10, 'chatcmpl-t', triageFinish);
    triage.end(at(11));
    const billing = agent('billing', 12);
    chat(billing, 13, 20, 'chatcmpl-b', JSON.stringify(['stop']));
    billing.end(at(21));
    app.end(at(22));
  });
}

const linked = (spans: Span[]) => {
  const [first, second] = stepsFromSpans(spans).steps.filter((s) => s.kind === 'llm');
  return second!.causalInputs.includes(first!.stepId);
};

describe('finish reasons as a JSON string, and in other casings (C9)', () => {
  it("Agent Framework's JSON-encoded string '[\"tool_calls\"]' is read as the array it encodes", async () => {
    const spans = routedRun('["tool_calls"]');
    expect(linked(spans)).toBe(true);
    const credit = await creditOf(spans);
    expect(credit.get('triage')).toBeGreaterThan(0); // before: 0, billing 1
    expect(credit.get('triage')).toBeCloseTo((await creditOf(routedRun(['tool_calls']))).get('triage')!, 9);
  });

  for (const v of ['["tool_use"]', ['tool_use'], ['TOOL_CALLS'], ['ToolCalls'], 'TOOL_CALL', ['stop', 'tool_calls']]) {
    it(`${JSON.stringify(v)} is a tool-call finish`, () => expect(linked(routedRun(v))).toBe(true));
  }

  for (const v of ['["stop"]', ['STOP'], ['end_turn'], ['MALFORMED_FUNCTION_CALL'], '["tool_calls"', 'tool_calls_x', ['length']]) {
    it(`${JSON.stringify(v)} is not`, async () => {
      const spans = routedRun(v);
      expect(linked(spans)).toBe(false);
      expect((await creditOf(spans)).get('triage')).toBe(0);
    });
  }
});
