/**
 * Benchmark telemetry recorded with the real OpenTelemetry JS SDK (BasicTracerProvider,
 * LoggerProvider) and serialized with the real @opentelemetry/otlp-transformer serializers, in
 * the OpenTelemetry GenAI conventions: a workflow root `invoke_agent`, one `invoke_agent <name>`
 * span per agent, and the agents' messages as `chat` / `execute_tool` spans that link to the
 * message they consumed. Ids and timestamps come from the seeded Rng, so the bytes are a function
 * of the options. One ExportTraceServiceRequest per trace, as the collector's kafka exporter writes
 * with `partition_traces_by_id: true`; one ExportLogsServiceRequest per evaluation log record.
 */
import { SpanKind, SpanStatusCode, context, trace, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type IdGenerator, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createRng, type Rng } from '../lib/rng.js';

export interface AgentTraceOptions {
  traces: number;
  /** Agents per trace (≥ 1). */
  agents: number;
  /** Message spans (chat / execute_tool) per trace (≥ 1); total spans = 1 + agents + messages. */
  messages: number;
  seed: number;
  /** Also produce one `gen_ai.evaluation.result` log record per trace (default true). */
  evaluations?: boolean;
  /** Encodings to serialize (default both). */
  encodings?: readonly ('otlp_proto' | 'otlp_json')[];
}

export interface RecordedTrace {
  traceId: string;
  rootSpanId: string;
  spanCount: number;
  proto?: Uint8Array;
  json?: Uint8Array;
  logsProto?: Uint8Array;
  logsJson?: Uint8Array;
}

class SeededIdGenerator implements IdGenerator {
  constructor(private readonly rng: Rng) {}
  private hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += Math.floor(this.rng.next() * 0x100000000).toString(16).padStart(8, '0');
    s = s.slice(0, chars);
    return /^0+$/.test(s) ? `1${s.slice(1)}` : s;
  }
  generateTraceId(): string {
    return this.hex(32);
  }
  generateSpanId(): string {
    return this.hex(16);
  }
}

const BASE_SECONDS = 1_795_575_745; // 2026-11-25, fixed so output does not depend on the wall clock

function hr(ms: number): HrTime {
  const whole = Math.floor(ms / 1000);
  return [BASE_SECONDS + whole, Math.round((ms - whole * 1000) * 1e6)];
}


/** Records `options.traces` multi-agent traces; see the module doc for their shape. */
export function recordAgentTraces(options: AgentTraceOptions): RecordedTrace[] {
  const { agents, messages } = options;
  if (agents < 1 || messages < 1) throw new Error('recordAgentTraces: agents and messages must be ≥ 1');
  const encodings = options.encodings ?? ['otlp_proto', 'otlp_json'];
  const withEvals = options.evaluations ?? true;
  const rng = createRng(options.seed);
  const spanExporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-agents', 'service.instance.id': 'bench-1' }),
    spanProcessors: [new SimpleSpanProcessor(spanExporter)],
    idGenerator: new SeededIdGenerator(rng.fork('ids')),
  });
  const tracer = provider.getTracer('agent-credit.bench', '1.0.0');
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'task-evaluator' }),
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  const logger = loggerProvider.getLogger('task-evaluator', '1.0');
  const agentNames = Array.from({ length: agents }, (_, i) => (i === 0 ? 'planner' : `worker_${i}`));
  const out: RecordedTrace[] = [];
  let clockMs = 0;
  for (let t = 0; t < options.traces; t++) {
    spanExporter.reset();
    logExporter.reset();
    const t0 = (clockMs += 1000);
    const root = tracer.startSpan('invoke_agent workflow', {
      kind: SpanKind.SERVER,
      startTime: hr(t0),
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'workflow', 'gen_ai.system': 'openai' },
    });
    const rootCtx = trace.setSpan(context.active(), root);
    const agentSpans = agentNames.map((name, i) =>
      tracer.startSpan(
        `invoke_agent ${name}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: hr(t0 + 1 + i),
          attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.agent.id': `agent-${i}` },
        },
        rootCtx,
      ),
    );
    let previous: ReturnType<typeof tracer.startSpan> | undefined;
    const stepMs = 2;
    for (let m = 0; m < messages; m++) {
      const a = m % agents;
      const parent = trace.setSpan(context.active(), agentSpans[a]!);
      const start = t0 + 1 + agents + m * stepMs;
      const isTool = m % 3 === 2;
      const links = previous ? [{ context: previous.spanContext(), attributes: { 'link.kind': 'consumed-output' } }] : [];
      const span = isTool
        ? tracer.startSpan(
            `execute_tool tool_${m % 7}`,
            {
              kind: SpanKind.INTERNAL,
              startTime: hr(start),
              links,
              attributes: {
                'gen_ai.operation.name': 'execute_tool',
                'gen_ai.tool.name': `tool_${m % 7}`,
                'gen_ai.tool.call.id': `call_${t}_${m}`,
                'gen_ai.tool.call.arguments': `{"query":"item ${rng.int(0, 9999)}"}`,
              },
            },
            parent,
          )
        : tracer.startSpan(
            'chat bench-model',
            {
              kind: SpanKind.CLIENT,
              startTime: hr(start),
              links,
              attributes: {
                'gen_ai.operation.name': 'chat',
                'gen_ai.request.model': 'bench-model',
                'gen_ai.usage.input_tokens': rng.int(50, 2000),
                'gen_ai.usage.output_tokens': rng.int(10, 500),
                'gen_ai.output.messages': `[{"role":"assistant","parts":[{"type":"text","content":"step ${m} of trace ${t}: ${rng.int(0, 1e6)}"}]}]`,
              },
            },
            parent,
          );
      if (isTool && rng.next() < 0.05) span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool failed' });
      span.end(hr(start + stepMs - 0.5));
      previous = span;
    }
    const end = t0 + 2 + agents + messages * stepMs;
    agentSpans.forEach((s) => s.end(hr(end)));
    root.end(hr(end + 1));
    const spans: ReadableSpan[] = spanExporter.getFinishedSpans();
    const ctx = root.spanContext();
    const rec: RecordedTrace = { traceId: ctx.traceId, rootSpanId: ctx.spanId, spanCount: spans.length };
    if (encodings.includes('otlp_proto')) rec.proto = ProtobufTraceSerializer.serializeRequest(spans);
    if (encodings.includes('otlp_json')) rec.json = JsonTraceSerializer.serializeRequest(spans);
    if (withEvals) {
      const score = Math.round(rng.next() * 100) / 100;
      logger.emit({
        eventName: 'gen_ai.evaluation.result',
        timestamp: hr(end + 2),
        observedTimestamp: hr(end + 2),
        severityNumber: SeverityNumber.INFO,
        context: trace.setSpanContext(context.active(), ctx),
        attributes: {
          'gen_ai.evaluation.name': 'task_success',
          'gen_ai.evaluation.score.value': score,
          'gen_ai.evaluation.score.label': score >= 0.5 ? 'pass' : 'fail',
        },
      });
      const logs = logExporter.getFinishedLogRecords();
      if (encodings.includes('otlp_proto')) rec.logsProto = ProtobufLogsSerializer.serializeRequest(logs);
      if (encodings.includes('otlp_json')) rec.logsJson = JsonLogsSerializer.serializeRequest(logs);
    }
    out.push(rec);
  }
  return out;
}

