/**
 * How each instrumentation convention names and attributes the spans of a planned run.
 *
 * - genai: OpenTelemetry GenAI semantic conventions (semconv 1.38 names): `invoke_agent {name}`,
 *   `chat {model}`, `execute_tool {tool}`; messages in `gen_ai.input.messages` /
 *   `gen_ai.output.messages` (parts format). Hand-offs (not in the registry) as `agent_handoff`
 *   spans with `gen_ai.handoff.{from,to}_agent`, like the OpenTelemetry contrib OpenAI Agents
 *   instrumentation.
 * - openinference: `openinference.span.kind` AGENT/LLM/TOOL/CHAIN, `agent.name`, `graph.node.*`,
 *   flattened `llm.input_messages.*` / `llm.output_messages.*`, `input.value` / `output.value`;
 *   hand-offs as TOOL spans `handoff to {agent}` (as openinference-instrumentation-openai-agents).
 * - openllmetry: `traceloop.span.kind` workflow/agent/tool/handoff, `traceloop.entity.name`,
 *   `traceloop.workflow.name`, LLM spans `openai.chat` without an agent name (the agent is the
 *   nearest `*.agent` ancestor), prompts/completions as `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`.
 */
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { PlannedMessage, PlannedSpan, ScenarioPlan } from './plan.js';
import type { ScenarioConvention } from './types.js';

export interface SpanShape {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
}

/** Per-run identifiers shared by all spans (conversation / session id). */
export interface ShapeContext {
  readonly plan: ScenarioPlan;
  readonly conversationId: string;
}

export function shapeSpan(convention: ScenarioConvention, span: PlannedSpan, ctx: ShapeContext): SpanShape {
  switch (convention) {
    case 'genai':
      return genaiShape(span, ctx);
    case 'openinference':
      return openInferenceShape(span, ctx);
    case 'openllmetry':
      return openLlmetryShape(span, ctx);
  }
}

function genaiParts(m: PlannedMessage): unknown[] {
  const parts: unknown[] = [];
  if (m.role === 'tool') return [{ type: 'tool_call_response', id: m.toolCallId, response: m.content ?? '' }];
  if (m.content !== undefined) parts.push({ type: 'text', content: m.content });
  if (m.toolCall) parts.push({ type: 'tool_call', id: m.toolCall.id, name: m.toolCall.name, arguments: JSON.parse(m.toolCall.arguments) as unknown });
  return parts;
}

function genaiShape(span: PlannedSpan, ctx: ShapeContext): SpanShape {
  const { plan } = ctx;
  const common: Attributes = { 'gen_ai.provider.name': plan.provider, 'gen_ai.conversation.id': ctx.conversationId };
  switch (span.role) {
    case 'root':
      // A plain workflow span: no gen_ai operation, so it is structure, not an agent.
      return { name: `workflow ${plan.workflow}`, kind: SpanKind.INTERNAL, attributes: { 'gen_ai.conversation.id': ctx.conversationId } };
    case 'agent':
      return {
        name: `invoke_agent ${span.agent}`,
        kind: SpanKind.INTERNAL,
        attributes: {
          ...common,
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': span.agent,
          'gen_ai.agent.id': `agent_${span.agent}`,
          'gen_ai.request.model': plan.model,
        },
      };
    case 'llm': {
      const output = [{ role: 'assistant', parts: genaiParts({ role: 'assistant', content: span.output, toolCall: span.toolCall }), finish_reason: span.toolCall ? 'tool_call' : 'stop' }];
      return {
        name: `chat ${plan.model}`,
        kind: SpanKind.CLIENT,
        attributes: {
          ...common,
          'gen_ai.operation.name': 'chat',
          'gen_ai.agent.name': span.agent,
          'gen_ai.agent.id': `agent_${span.agent}`,
          'gen_ai.request.model': plan.model,
          'gen_ai.response.model': plan.model,
          'gen_ai.response.finish_reasons': [span.toolCall ? 'tool_call' : 'stop'],
          'gen_ai.usage.input_tokens': span.usage?.inputTokens ?? 0,
          'gen_ai.usage.output_tokens': span.usage?.outputTokens ?? 0,
          'gen_ai.input.messages': JSON.stringify((span.input ?? []).map((m) => ({ role: m.role, parts: genaiParts(m) }))),
          'gen_ai.output.messages': JSON.stringify(output),
        },
      };
    }
    case 'handoff':
      // Hand-offs are not in the semconv registry; this is the form the OpenTelemetry contrib
      // instrumentation of the OpenAI Agents SDK writes (see the agents-sdk fixture).
      return {
        name: `agent_handoff ${span.agent}`,
        kind: SpanKind.INTERNAL,
        attributes: {
          ...common,
          'gen_ai.operation.name': 'agent_handoff',
          'gen_ai.agent.name': span.agent,
          'gen_ai.agent.id': `agent_${span.agent}`,
          'gen_ai.handoff.from_agent': span.agent,
          'gen_ai.handoff.to_agent': span.handoffTo,
          'gen_ai.tool.call.id': span.toolCall!.id,
        },
      };
    case 'tool': {
      const call = span.toolCall!;
      const attributes: Attributes = {
        ...common,
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.agent.name': span.agent,
        'gen_ai.agent.id': `agent_${span.agent}`,
        'gen_ai.tool.name': call.name,
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.call.id': call.id,
        'gen_ai.tool.call.arguments': call.arguments,
      };
      if (span.output !== undefined) attributes['gen_ai.tool.call.result'] = span.output;
      if (span.error) attributes['error.type'] = span.error.type;
      return { name: `execute_tool ${call.name}`, kind: SpanKind.INTERNAL, attributes };
    }
  }
}

function oiMessages(prefix: string, messages: readonly PlannedMessage[]): Attributes {
  const out: Attributes = {};
  messages.forEach((m, i) => {
    const p = `${prefix}.${i}.message`;
    out[`${p}.role`] = m.role;
    if (m.content !== undefined) out[`${p}.content`] = m.content;
    if (m.toolCallId) out[`${p}.tool_call_id`] = m.toolCallId;
    if (m.toolCall) {
      out[`${p}.tool_calls.0.tool_call.id`] = m.toolCall.id;
      out[`${p}.tool_calls.0.tool_call.function.name`] = m.toolCall.name;
      out[`${p}.tool_calls.0.tool_call.function.arguments`] = m.toolCall.arguments;
    }
  });
  return out;
}

function openInferenceShape(span: PlannedSpan, ctx: ShapeContext): SpanShape {
  const { plan } = ctx;
  const session: Attributes = { 'session.id': ctx.conversationId };
  switch (span.role) {
    case 'root':
      return { name: plan.workflow, kind: SpanKind.INTERNAL, attributes: { ...session, 'openinference.span.kind': 'CHAIN', 'input.value': plan.task } };
    case 'agent': {
      const attributes: Attributes = { ...session, 'openinference.span.kind': 'AGENT', 'agent.name': span.agent, 'graph.node.id': span.agent };
      if (span.invokedBy) attributes['graph.node.parent_id'] = span.invokedBy;
      return { name: span.agent!, kind: SpanKind.INTERNAL, attributes };
    }
    case 'llm': {
      const input = span.input ?? [];
      const attributes: Attributes = {
        ...session,
        'openinference.span.kind': 'LLM',
        'llm.system': plan.provider,
        'llm.provider': plan.provider,
        'llm.model_name': plan.model,
        'input.value': JSON.stringify(input.map((m) => ({ role: m.role, content: m.content ?? null }))),
        'input.mime_type': 'application/json',
        'output.value': span.output ?? '',
        'output.mime_type': 'text/plain',
        ...oiMessages('llm.input_messages', input),
        ...oiMessages('llm.output_messages', [{ role: 'assistant', content: span.output, toolCall: span.toolCall }]),
        'llm.token_count.prompt': span.usage?.inputTokens ?? 0,
        'llm.token_count.completion': span.usage?.outputTokens ?? 0,
        'llm.token_count.total': (span.usage?.inputTokens ?? 0) + (span.usage?.outputTokens ?? 0),
      };
      return { name: 'generation', kind: SpanKind.INTERNAL, attributes };
    }
    case 'tool': {
      const call = span.toolCall!;
      const attributes: Attributes = {
        ...session,
        'openinference.span.kind': 'TOOL',
        'tool.name': call.name,
        'tool_call.id': call.id,
        'input.value': call.arguments,
        'input.mime_type': 'application/json',
      };
      if (span.output !== undefined) attributes['output.value'] = span.output;
      return { name: call.name, kind: SpanKind.INTERNAL, attributes };
    }
    case 'handoff':
      return {
        name: `handoff to ${span.handoffTo}`,
        kind: SpanKind.INTERNAL,
        attributes: { ...session, 'openinference.span.kind': 'TOOL', 'tool.name': span.toolCall!.name, 'tool_call.id': span.toolCall!.id, 'input.value': span.agent!, 'output.value': span.handoffTo! },
      };
  }
}

function olMessages(prefix: string, messages: readonly PlannedMessage[]): Attributes {
  const out: Attributes = {};
  messages.forEach((m, i) => {
    out[`${prefix}.${i}.role`] = m.role;
    if (m.content !== undefined) out[`${prefix}.${i}.content`] = m.content;
    if (m.toolCallId) out[`${prefix}.${i}.tool_call_id`] = m.toolCallId;
    if (m.toolCall) {
      out[`${prefix}.${i}.tool_calls.0.id`] = m.toolCall.id;
      out[`${prefix}.${i}.tool_calls.0.name`] = m.toolCall.name;
      out[`${prefix}.${i}.tool_calls.0.arguments`] = m.toolCall.arguments;
    }
  });
  return out;
}

function openLlmetryShape(span: PlannedSpan, ctx: ShapeContext): SpanShape {
  const { plan } = ctx;
  const wf: Attributes = { 'traceloop.workflow.name': plan.workflow };
  switch (span.role) {
    case 'root':
      return {
        name: `${plan.workflow}.workflow`,
        kind: SpanKind.INTERNAL,
        attributes: { ...wf, 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': plan.workflow, 'traceloop.entity.input': JSON.stringify({ task: plan.task }) },
      };
    case 'agent':
      return {
        name: `${span.agent}.agent`,
        kind: SpanKind.INTERNAL,
        attributes: { ...wf, 'traceloop.span.kind': 'agent', 'traceloop.entity.name': span.agent, 'gen_ai.agent.name': span.agent, 'gen_ai.operation.name': 'invoke_agent' },
      };
    case 'llm': {
      const input = span.input ?? [];
      return {
        name: `${plan.provider === 'openai' ? 'openai' : plan.provider}.chat`,
        kind: SpanKind.CLIENT,
        attributes: {
          'llm.request.type': 'chat',
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': plan.provider,
          'gen_ai.request.model': plan.model,
          'gen_ai.response.model': plan.model,
          'gen_ai.usage.input_tokens': span.usage?.inputTokens ?? 0,
          'gen_ai.usage.output_tokens': span.usage?.outputTokens ?? 0,
          'llm.usage.total_tokens': (span.usage?.inputTokens ?? 0) + (span.usage?.outputTokens ?? 0),
          ...olMessages('gen_ai.prompt', input),
          ...olMessages('gen_ai.completion', [{ role: 'assistant', content: span.output, toolCall: span.toolCall }]),
        },
      };
    }
    case 'tool': {
      const call = span.toolCall!;
      const attributes: Attributes = {
        ...wf,
        'traceloop.span.kind': 'tool',
        'traceloop.entity.name': call.name,
        'traceloop.entity.input': call.arguments,
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': call.name,
        'gen_ai.tool.call.id': call.id,
        'gen_ai.tool.call.arguments': call.arguments,
      };
      if (span.output !== undefined) {
        attributes['traceloop.entity.output'] = span.output;
        attributes['gen_ai.tool.call.result'] = span.output;
      }
      return { name: `${call.name}.tool`, kind: SpanKind.INTERNAL, attributes };
    }
    case 'handoff':
      return {
        name: `${span.agent} → ${span.handoffTo}.handoff`,
        kind: SpanKind.INTERNAL,
        attributes: {
          ...wf,
          'traceloop.span.kind': 'handoff',
          'traceloop.entity.name': `${span.agent} → ${span.handoffTo}`,
          'gen_ai.operation.name': 'handoff',
          'gen_ai.agent.name': span.agent,
          'gen_ai.handoff.from_agent': span.agent,
          'gen_ai.handoff.to_agent': span.handoffTo,
        },
      };
  }
}
