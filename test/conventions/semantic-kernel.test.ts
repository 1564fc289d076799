/**
 * Semantic Kernel model-call operation names (microsoft/semantic-kernel). Its model diagnostics name a model call's
 * span `<operation> <model>` with `gen_ai.operation.name`:
 * - .NET `InternalUtilities/src/Diagnostics/ModelDiagnostics.cs`: `chat.completions` / `text.completions` from
 *   dotnet-1.12.0 (#6150) to dotnet-1.67.0; `chat` / `text_completion` from dotnet-1.67.1 (#13334);
 * - Python `utils/telemetry/model_diagnostics/decorators.py`: `chat.completions` / `text.completions` from
 *   python-1.4.0 (#6914), plus `chat.streaming_completions` / `text.streaming_completions` from python-1.10.0
 *   (#8902), to python-1.37.1; from python-1.38.0 `chat` and `text_completions` (plural, still so in 1.44).
 * Agents: `invoke_agent <name>` (`gen_ai.agent.{id,name}`), kernel functions `execute_tool <plugin>-<function>`.
 * Contents here as .NET writes them with sensitive diagnostics on: span events with `gen_ai.event.content` (E1).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, creditOf } from './sdk.js';

const J = JSON.stringify;
const FINDINGS = 'Hotel prices in Lisbon rose 12% this spring, driven by conference season.';

/** A researcher and a writer agent chained in app code; the writer is run on the researcher's answer. */
function skRun(chatOperation: string, textOperation = chatOperation): Span[] {
  return recordSpans((r) => {
    const root = r.start('report', 0, {});
    const agent = (name: string, ms: number) => r.start(`invoke_agent ${name}`, ms, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.agent.id': `${name}-6b1f`,
    }, root);
    const call = (op: string, p: ReturnType<typeof agent>, s: number, e: number, input: string, output: string | null, finish: string, calls: unknown[] = []) => {
      const c = r.start(`${op} gpt-4o`, s, { 'gen_ai.operation.name': op, 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.finish_reason': `["${finish}"]` }, p);
      c.addEvent('gen_ai.user.message', { 'gen_ai.event.content': J({ role: 'user', name: null, content: input, tool_calls: [] }) }, at(s));
      c.addEvent('gen_ai.choice', { 'gen_ai.event.content': J({ index: 0, message: { role: 'assistant', name: null, content: output, tool_calls: calls }, tool_calls: calls, finish_reason: finish }) }, at(e));
      c.end(at(e));
    };
    const researcher = agent('researcher', 1);
    const search = { id: 'call_s1', function: { name: 'Web-Search', arguments: { q: 'Lisbon hotel prices' } }, type: 'function' };
    call(chatOperation, researcher, 2, 8, 'Research Lisbon hotel prices.', null, 'ToolCalls', [search]);
    r.start('execute_tool Web-Search', 9, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'Web-Search', 'gen_ai.tool.call.id': 'call_s1' }, researcher).end(at(11));
    call(chatOperation, researcher, 12, 20, 'Research Lisbon hotel prices.', FINDINGS, 'Stop');
    researcher.end(at(21));
    const writer = agent('writer', 22);
    call(textOperation, writer, 23, 30, `Write a short note for travellers from these findings: ${FINDINGS}`, 'Book Lisbon hotels early: prices are up 12% this spring.', 'Stop');
    writer.end(at(31));
    root.end(at(32));
  });
}


describe('Semantic Kernel model calls under their pre-1.38 (Python) / pre-1.67.1 (.NET) operation names', () => {
  it('current names (chat) were read before: the baseline', async () => {
    const { steps } = stepsFromSpans(skRun('chat'));
    expect(steps.filter((s) => s.kind === 'llm').length).toBe(3);
    expect((await creditOf(skRun('chat'))).get('researcher')).toBeGreaterThan(0);
  });

  for (const [chat, text] of [['chat.completions', 'text.completions'], ['chat.streaming_completions', 'text.streaming_completions'], ['chat', 'text_completions']] as const) {
    it(`${chat} / ${text} spans are model calls (before: structure, no step)`, () => {
      const { steps } = stepsFromSpans(skRun(chat, text));
      const llm = steps.filter((s) => s.kind === 'llm');
      expect(llm.map((s) => s.agentName)).toEqual(['researcher', 'researcher', 'writer']);
      expect(llm[2]!.causalInputs).toContain(llm[1]!.stepId); // the writer read the researcher's answer (C8)
    });
  }

  it('the researcher gets credit as under the current names (before: 0)', async () => {
    const now = await creditOf(skRun('chat'));
    const old = await creditOf(skRun('chat.completions', 'text.completions'));
    expect(old.get('researcher')).toBeGreaterThan(0);
    expect(old.get('researcher')).toBeCloseTo(now.get('researcher')!, 9);
  });
});
