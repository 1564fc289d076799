/**
 * Microsoft Agent Framework workflows (microsoft/agent-framework, python `agent_framework` core 1.13 /
 * `agent_framework_orchestrations` 1.0, and .NET `Microsoft.Agents.AI.Workflows`), recorded with the real
 * OpenTelemetry JS SDK in the shapes the framework writes:
 *
 * - `workflow.run` (`_workflow.py`; .NET `workflow_invoke`) around the run, `workflow.id`, `workflow.name`;
 * - per delivered message `executor.process <executor id>` (`observability.py` `create_processing_span`;
 *   .NET `Executor.ExecuteCoreAsync`), a child of the run span, with `executor.id`, `executor.type`,
 *   `message.type`, and a span LINK to the `message.send` span that sent the message ("linked (not nested)
 *   to the source publishing spans for causality tracking"; several links on a fan-in);
 * - `message.send` (`_workflow_context.py` `send_message`, kind PRODUCER; .NET
 *   `InProcessRunnerContext.SendMessageAsync`), a child of the SENDER's `executor.process`, with
 *   `message.type` and, when sent to one executor, `message.destination_executor_id` (.NET:
 *   `message.source_id`, `message.target_id`);
 * - `edge_group.process <EdgeGroup type>` (`_edge_runner.py`), the routing between them, linked to the
 *   same `message.send`, with `message.source_id` / `message.target_id`;
 * - inside an agent executor the agent's `invoke_agent <name>` (`gen_ai.provider.name`
 *   `microsoft.agent_framework`), its model calls `chat <model>` (`gen_ai.response.finish_reasons` a
 *   JSON-encoded list, `_get_response_attributes`) and function calls `execute_tool <tool>`.
 *
 * The hand-off orchestration (`_handoff.py`): each agent gets `handoff_to_<id>` tools that
 * `_AutoHandoffMiddleware` short-circuits (MiddlewareTermination before `FunctionTool.invoke`: no
 * `execute_tool` span); the executor then broadcasts the cleaned response to every other executor and sends
 * `AgentExecutorRequest(should_respond=True)` to the target (`target_id=handoff_target`), whose executor runs
 * its agent in the next superstep. Contents are off (the default): nothing names the call.
 */
import { describe, expect, it } from 'vitest';
import type { Span as OtelSpan } from '@opentelemetry/api';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];

/** Span builders in the framework's shapes (python, or .NET attribute names with `dotnet`). */
function maf(r: Recorder, dotnet = false) {
  const run = r.start(dotnet ? 'workflow_invoke' : 'workflow.run', 0, { 'workflow.id': 'wf-7c1e', 'workflow.name': 'support' });
  const edge = (ms: number, from: string, to: string | undefined, send: OtelSpan | undefined) => r.start(`edge_group.process FanOutEdgeGroup`, ms, {
    'edge_group.type': 'FanOutEdgeGroup', 'edge_group.id': `FanOutEdgeGroup/${from}`, 'message.source_id': from,
    ...(to === undefined ? {} : { 'message.target_id': to }), 'edge_group.delivered': true, 'edge_group.delivery_status': 'delivered',
  }, run, send === undefined ? [] : [send]).end(at(ms));
  const executor = (id: string, ms: number, from: OtelSpan[] = []) => r.start(`executor.process ${id}`, ms, {
    'executor.id': id, 'executor.type': dotnet ? 'Microsoft.Agents.AI.Workflows.Specialized.HandoffAgentExecutor' : 'HandoffAgentExecutor',
    'message.type': dotnet ? 'HandoffState' : 'standard', ...(dotnet ? {} : { 'message.payload_type': 'AgentExecutorRequest' }),
  }, run, from);
  const send = (from: OtelSpan, sourceId: string, ms: number, target?: string) => {
    const s = r.start('message.send', ms, dotnet
      ? { 'message.source_id': sourceId, ...(target === undefined ? {} : { 'message.target_id': target }) }
      : { 'message.type': 'AgentExecutorRequest', ...(target === undefined ? {} : { 'message.destination_executor_id': target }) }, from);
    s.end(at(ms));
    return s;
  };
  const invoke = (p: Parent, name: string, ms: number) => r.start(`invoke_agent ${name}`, ms, {
    'gen_ai.operation.name': 'invoke_agent', 'gen_ai.provider.name': 'microsoft.agent_framework', 'gen_ai.agent.name': name,
    'gen_ai.agent.id': `${name}-4d0b9a8e`,
  }, p);
  const chat = (p: Parent, s: number, e: number, finish: string) => r.start('chat gpt-4o', s, {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.response.finish_reasons': JSON.stringify([finish]), 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 14,
  }, p).end(at(e));
  const tool = (p: Parent, name: string, id: string, s: number, e: number) => r.start(`execute_tool ${name}`, s, {
    'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': id, 'gen_ai.tool.type': 'function',
  }, p).end(at(e));
  return { run, edge, executor, send, invoke, chat, tool };
}

/** triage hands a refund request to refund_agent (billing_agent only receives the broadcasts). */
function handoffRun(dotnet = false): Span[] {
  return recordSpans((r) => {
    const { run, edge, executor, send, invoke, chat, tool } = maf(r, dotnet);
    // superstep 1: the start executor (message from the workflow itself: no send span, no link)
    const triageEx = executor('triage', 1);
    const b0 = send(triageEx, 'triage', 2); // start agent broadcasts the user's message
    const triage = invoke(triageEx, 'triage', 3);
    chat(triage, 4, 12, 'tool_calls'); // asks for handoff_to_refund_agent: short-circuited, no tool span
    triage.end(at(13));
    const b1 = send(triageEx, 'triage', 14); // broadcast of the cleaned response
    const h = send(triageEx, 'triage', 15, 'refund_agent'); // the hand-off request
    triageEx.end(at(16));
    // superstep 2: deliveries, in send order
    edge(17, 'triage', undefined, b0);
    executor('refund_agent', 18, [b0]).end(at(18));
    executor('billing_agent', 18, [b0]).end(at(18));
    edge(19, 'triage', undefined, b1);
    executor('refund_agent', 20, [b1]).end(at(20));
    executor('billing_agent', 20, [b1]).end(at(20));
    edge(21, 'triage', 'refund_agent', h);
    const refundEx = executor('refund_agent', 22, [h]);
    const refund = invoke(refundEx, 'refund_agent', 23);
    chat(refund, 24, 30, 'tool_calls');
    tool(refund, 'process_refund', 'call_r1', 31, 33);
    chat(refund, 34, 40, 'stop');
    refund.end(at(41));
    send(refundEx, 'refund_agent', 42); // broadcast of its answer
    refundEx.end(at(43));
    run.end(at(44));
  });
}


describe('Microsoft Agent Framework hand-off workflow (executor spans linked to message.send, no content)', () => {
  it('agents, model calls and tool calls are read as GenAI (this worked before)', () => {
    const { steps, agents } = stepsFromSpans(handoffRun());
    expect(agents.map((a) => a.agentName)).toEqual(['triage', 'refund_agent']);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentName)).toEqual(['triage', 'refund_agent', 'refund_agent']);
    expect(steps.find((s) => s.toolName === 'process_refund')!.kind).toBe('tool');
  });

  it('the target agent\'s first model call reads the routing call, through the executor span\'s link to message.send', () => {
    const { steps } = stepsFromSpans(handoffRun());
    const routing = steps.find((s) => s.kind === 'llm' && s.agentName === 'triage')!;
    const first = steps.find((s) => s.kind === 'llm' && s.agentName === 'refund_agent')!;
    expect(first.causalInputs).toContain(routing.stepId);
  });

  it('the routing agent gets credit (before: triage 0, refund_agent 1)', async () => {
    const credit = await creditOf(handoffRun());
    expect(credit.get('triage')).toBeGreaterThan(0);
    expect(credit.get('refund_agent')).toBeGreaterThan(0);
  });

  it('the same with .NET\'s names (workflow_invoke, message.source_id / message.target_id on message.send)', async () => {
    const credit = await creditOf(handoffRun(true));
    expect(credit.get('triage')).toBeGreaterThan(0);
    expect(credit.get('refund_agent')).toBeGreaterThan(0);
  });
});

/** SequentialBuilder (`_sequential.py`): `input-conversation` → researcher → writer, each AgentExecutor sending its `AgentExecutorResponse` on. */
function sequentialRun(): Span[] {
  return recordSpans((r) => {
    const { run, executor, send, invoke, chat } = maf(r);
    const input = executor('input-conversation', 1);
    const s0 = send(input, 'input-conversation', 2);
    input.end(at(2));
    const resEx = executor('researcher', 3, [s0]);
    const res = invoke(resEx, 'researcher', 4);
    chat(res, 5, 15, 'stop');
    res.end(at(16));
    const s1 = send(resEx, 'researcher', 17);
    resEx.end(at(18));
    const wrEx = executor('writer', 19, [s1]);
    const wr = invoke(wrEx, 'writer', 20);
    chat(wr, 21, 30, 'stop');
    wr.end(at(31));
    wrEx.end(at(32));
    run.end(at(33));
  });
}

/** GroupChatBuilder with a selection function (round robin): the orchestrator executor has no model call of its own. */
function roundRobinRun(): Span[] {
  return recordSpans((r) => {
    const { run, executor, send, invoke, chat } = maf(r);
    const orch1 = executor('group_chat_orchestrator', 1);
    const toA = send(orch1, 'group_chat_orchestrator', 2, 'analyst');
    orch1.end(at(3));
    const aEx = executor('analyst', 4, [toA]);
    const a = invoke(aEx, 'analyst', 5);
    chat(a, 6, 14, 'stop');
    a.end(at(15));
    const back = send(aEx, 'analyst', 16, 'group_chat_orchestrator');
    aEx.end(at(17));
    const orch2 = executor('group_chat_orchestrator', 18, [back]);
    send(orch2, 'group_chat_orchestrator', 19, 'reviewer'); // broadcast (should_respond=False)
    const toB = send(orch2, 'group_chat_orchestrator', 20, 'reviewer');
    orch2.end(at(21));
    const bEx = executor('reviewer', 22, [toB]);
    const b = invoke(bEx, 'reviewer', 23);
    chat(b, 24, 30, 'stop');
    b.end(at(31));
    bEx.end(at(32));
    run.end(at(33));
  });
}

/** ConcurrentBuilder (`_concurrent.py`): a dispatcher fans out to two agents, the default aggregator (no model call) fans in. */
function concurrentRun(): Span[] {
  return recordSpans((r) => {
    const { run, executor, send, invoke, chat } = maf(r);
    const disp = executor('dispatcher', 1);
    const out = send(disp, 'dispatcher', 2);
    disp.end(at(3));
    const sends: OtelSpan[] = [];
    for (const [name, end] of [['legal', 14], ['finance', 16]] as const) {
      const ex = executor(name, 4, [out]);
      const ag = invoke(ex, name, 5);
      chat(ag, 6, end, 'stop');
      ag.end(at(end + 1));
      sends.push(send(ex, name, end + 2));
      ex.end(at(end + 3));
    }
    executor('aggregator', 20, sends).end(at(21));
    run.end(at(22));
  });
}

describe('Microsoft Agent Framework sequential, group chat and concurrent workflows (C11)', () => {
  it('sequential: the writer\'s model call reads the researcher\'s answer, and the researcher gets credit (before: 0)', async () => {
    const { steps } = stepsFromSpans(sequentialRun());
    const [res, wr] = steps.filter((s) => s.kind === 'llm');
    expect(wr!.causalInputs).toContain(res!.stepId);
    const credit = await creditOf(sequentialRun());
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });

  it('round-robin group chat: a manager without a model call passes the analyst\'s answer on to the reviewer', () => {
    const { steps } = stepsFromSpans(roundRobinRun());
    const [a, b] = steps.filter((s) => s.kind === 'llm');
    expect(b!.causalInputs).toContain(a!.stepId);
  });

  it('concurrent: agents fanned out side by side do not read each other (nothing changes)', () => {
    const { steps } = stepsFromSpans(concurrentRun());
    const [legal, finance] = steps.filter((s) => s.kind === 'llm');
    expect(finance!.causalInputs).not.toContain(legal!.stepId);
    expect(legal!.causalInputs).not.toContain(finance!.stepId);
  });

  it('a span named executor.process without executor.id links nothing', () => {
    const spans = recordSpans((r) => {
      const root = r.start('run', 0, {});
      const a = r.start('executor.process a', 1, {}, root);
      const ia = r.start('invoke_agent a', 2, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' }, a);
      r.start('chat m', 3, { 'gen_ai.operation.name': 'chat' }, ia).end(at(4));
      ia.end(at(5));
      const s = r.start('message.send', 6, {}, a);
      s.end(at(6));
      a.end(at(7));
      const b = r.start('executor.process b', 8, {}, root, [s]);
      const ib = r.start('invoke_agent b', 9, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'b' }, b);
      r.start('chat m', 10, { 'gen_ai.operation.name': 'chat' }, ib).end(at(11));
      ib.end(at(12));
      b.end(at(13));
      root.end(at(14));
    });
    const [x, y] = stepsFromSpans(spans).steps.filter((s) => s.kind === 'llm');
    expect(y!.causalInputs).not.toContain(x!.stepId);
  });
});
