/**
 * Test spans from the real OpenTelemetry JS SDK (BasicTracerProvider + InMemorySpanExporter),
 * serialized with @opentelemetry/otlp-transformer and decoded by src/otlp — the production path.
 */
import { context, SpanKind, trace, type Span as OtelSpan, type Tracer } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeTraces } from '../../src/otlp/index.js';

export interface RunShape {
  /** Child spans under the root (LLM/tool calls), default 3. */
  children?: number;
  /** `gen_ai.conversation.id` on every span. */
  conversationId?: string;
  /** Root is a SERVER span with a remote parent (a caller not exported to us). */
  remoteParent?: boolean;
  /** The agent is reached over RPC: root (INTERNAL) → CLIENT → SERVER → children, all exported. */
  rpcHop?: boolean;
  /** Extra attribute bytes per child span (for byte caps). */
  payloadChars?: number;
}

/**
 * Records `runs` agent runs (one trace each) and returns each run's spans in export order:
 * children first, the root last (spans are exported when they end).
 */
export function recordRuns(runs: readonly RunShape[]): Span[][] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'episodes-test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('agent-credit.episodes.test', '1.0.0');
  const traceIds: string[] = [];
  for (const run of runs) traceIds.push(recordRun(tracer, run));
  const bytes = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
  if (!bytes) throw new Error('serializer returned nothing');
  const spans = decodeTraces(bytes, 'otlp_proto');
  return traceIds.map((t) => spans.filter((s) => s.traceId === t));
}

function recordRun(tracer: Tracer, run: RunShape): string {
  const conv = run.conversationId === undefined ? {} : { 'gen_ai.conversation.id': run.conversationId };
  let parentCtx = context.active();
  if (run.remoteParent === true) {
    const remote = tracer.startSpan('remote caller', { root: true });
    parentCtx = trace.setSpan(context.active(), remote); // never ended: not exported
  }
  const root: OtelSpan = tracer.startSpan(
    'invoke_agent planner',
    { kind: run.remoteParent === true ? SpanKind.SERVER : SpanKind.INTERNAL, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', ...conv }, ...(run.remoteParent === true ? {} : { root: true }) },
    parentCtx,
  );
  let ctx = trace.setSpan(context.active(), root);
  const hop: OtelSpan[] = [];
  if (run.rpcHop === true) {
    const client = tracer.startSpan('POST /agent', { kind: SpanKind.CLIENT }, ctx);
    const server = tracer.startSpan('handle /agent', { kind: SpanKind.SERVER }, trace.setSpan(context.active(), client));
    hop.push(server, client); // end order: server first
    ctx = trace.setSpan(context.active(), server);
  }
  const n = run.children ?? 3;
  for (let i = 0; i < n; i++) {
    const child = tracer.startSpan(
      i % 2 === 0 ? 'chat model' : 'execute_tool search',
      { attributes: { 'gen_ai.operation.name': i % 2 === 0 ? 'chat' : 'execute_tool', ...conv, ...(run.payloadChars ? { 'gen_ai.output.messages': 'x'.repeat(run.payloadChars) } : {}) } },
      ctx,
    );
    child.end();
  }
  for (const h of hop) h.end();
  root.end();
  return root.spanContext().traceId;
}

/** The run's root span (no parent, or the SERVER entry span). */
export function rootOf(spans: readonly Span[]): Span {
  const ids = new Set(spans.map((s) => s.spanId));
  const r = spans.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId));
  if (!r) throw new Error('no root');
  return r;
}

/** A system-level task_success evaluation of the run (as evaluationsFromLogs would give it). */
export function evaluationOf(spans: readonly Span[], score = 1, spanId: string | undefined = rootOf(spans).spanId): Evaluation {
  return { name: 'task_success', score, label: score >= 0.5 ? 'pass' : 'fail', traceId: spans[0]!.traceId, spanId, source: 'log-event', timeUnixNano: 1n };
}

export function spanKeys(spans: readonly Span[]): string[] {
  return spans.map((s) => `${s.traceId}/${s.spanId}`).sort();
}
