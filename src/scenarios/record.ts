/**
 * Records a planned run with the real OpenTelemetry JS SDK: a BasicTracerProvider with a seeded
 * IdGenerator and an in-memory collecting processor for the spans, a LoggerProvider for the
 * `gen_ai.evaluation.result` event. Every timestamp is explicit, so the output is deterministic.
 */
import { ROOT_CONTEXT, SpanStatusCode, trace, type Context, type HrTime, type Link, type SpanContext, type Tracer } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AlwaysOnSampler, BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { shapeSpan, type ShapeContext } from './conventions.js';
import type { PlannedSpan, ScenarioPlan } from './plan.js';
import { SeededIdGenerator } from './prng.js';
import type { ScenarioConvention } from './types.js';

const SCOPE_NAME = 'agent-credit.scenarios';
const SCOPE_VERSION = '0.1.0';
export const EVALUATOR_SERVICE = 'task-evaluator';
/** A run passes when its score is at least this. */
export const PASS_THRESHOLD = 0.5;

export interface RecordedScenario {
  readonly traceId: string;
  readonly rootSpanId: string;
  /** In the order the SDK exported them (children end before their parents). */
  readonly spans: ReadableSpan[];
  readonly logRecords: ReadableLogRecord[];
  /** Plan key → span id. */
  readonly spanIds: ReadonlyMap<string, string>;
  readonly score: number;
  readonly label: 'pass' | 'fail';
}

function nsToHrTime(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

/**
 * Records `plan` in `convention`. `seed` drives the trace/span ids; `score` is the system
 * evaluation to emit (label pass when >= PASS_THRESHOLD).
 */
/**
 * The `gen_ai.response.id` the scenario's LLM spans record (GenAI and OpenLLMetry conventions; set
 * after the span starts, as an instrumentation does once the response is in). Derived from the
 * span id so it is unique per run and deterministic.
 */
function responseIdOf(spanId: string): string {
  return `chatcmpl-${spanId}`;
}

export async function recordScenario(
  plan: ScenarioPlan,
  convention: ScenarioConvention,
  seed: number,
  score: number,
  stepEvaluationsBy: 'span-context' | 'response-id' = 'span-context',
): Promise<RecordedScenario> {
  const finished: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    idGenerator: new SeededIdGenerator(seed),
    sampler: new AlwaysOnSampler(),
    // Explicit limits: output must not depend on OTEL_*_LIMIT variables, and big runs link many steps.
    spanLimits: {
      attributeCountLimit: 4096,
      attributeValueLengthLimit: Number.POSITIVE_INFINITY,
      linkCountLimit: 4096,
      eventCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
    },
    resource: resourceFromAttributes({
      'service.name': `${plan.workflow}-${convention}`,
      'service.version': '1.0.0',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
    }),
    spanProcessors: [collectSpans(finished)],
  });
  const tracer = provider.getTracer(SCOPE_NAME, SCOPE_VERSION);
  const contexts = new Map<string, SpanContext>();
  // A derived id so that conversation ids differ per run without consuming span-id randomness.
  const conversationId = `conv_${new SeededIdGenerator(seed ^ 0x5bd1e995).generateSpanId()}`;
  const shapeCtx: ShapeContext = { plan, conversationId };
  const responseIds = new Map<string, string>();

  recordSpan(tracer, convention, plan.root, ROOT_CONTEXT, contexts, shapeCtx, responseIds);
  await provider.forceFlush();
  const spans = [...finished];

  const rootCtx = contexts.get(plan.root.key)!;
  const label = score >= PASS_THRESHOLD ? 'pass' : 'fail';
  const logRecords = await recordEvaluation(plan, contexts, rootCtx, score, label, stepEvaluationsBy === 'response-id' ? responseIds : undefined);
  const spanIds = new Map([...contexts].map(([k, c]) => [k, c.spanId]));
  return { traceId: rootCtx.traceId, rootSpanId: rootCtx.spanId, spans, logRecords, spanIds, score, label };
}

function recordSpan(
  tracer: Tracer,
  convention: ScenarioConvention,
  planned: PlannedSpan,
  parent: Context,
  contexts: Map<string, SpanContext>,
  shapeCtx: ShapeContext,
  responseIds: Map<string, string>,
): void {
  const shape = shapeSpan(convention, planned, shapeCtx);
  const links: Link[] = planned.links.flatMap((key) => {
    const context = contexts.get(key);
    // Links only point backwards in the plan; a missing key is a plan bug, not a runtime case.
    if (!context) throw new Error(`scenario plan links ${planned.key} to unknown step ${key}`);
    return [{ context, attributes: { 'link.reason': 'consumed_output' } }];
  });
  const span = tracer.startSpan(shape.name, { kind: shape.kind, attributes: shape.attributes, startTime: nsToHrTime(planned.startNs), links }, parent);
  contexts.set(planned.key, span.spanContext());
  if (planned.role === 'llm' && convention !== 'openinference') {
    const responseId = responseIdOf(span.spanContext().spanId);
    span.setAttribute('gen_ai.response.id', responseId);
    responseIds.set(planned.key, responseId);
  }
  const childParent = trace.setSpan(parent, span);
  for (const child of planned.children) recordSpan(tracer, convention, child, childParent, contexts, shapeCtx, responseIds);
  if (planned.error) {
    span.recordException({ name: planned.error.type, message: planned.error.message }, nsToHrTime(planned.endNs - 1_000n));
    span.setStatus({ code: SpanStatusCode.ERROR, message: planned.error.message });
  } else if (convention !== 'genai') {
    // OpenInference and OpenLLMetry set OK explicitly; GenAI semconv leaves success UNSET.
    span.setStatus({ code: SpanStatusCode.OK });
  }
  span.end(nsToHrTime(planned.endNs));
}

/** `byResponseId`: step verdicts name the step's response id instead of carrying its span context. */
async function recordEvaluation(
  plan: ScenarioPlan,
  contexts: ReadonlyMap<string, SpanContext>,
  rootCtx: SpanContext,
  score: number,
  label: 'pass' | 'fail',
  byResponseId?: ReadonlyMap<string, string>,
): Promise<ReadableLogRecord[]> {
  const records: ReadableLogRecord[] = [];
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': EVALUATOR_SERVICE, 'telemetry.sdk.language': 'nodejs' }),
    processors: [collectLogs(records)],
    logRecordLimits: { attributeCountLimit: 128, attributeValueLengthLimit: Number.POSITIVE_INFINITY },
  });
  const logger = provider.getLogger(`${SCOPE_NAME}.evaluator`, SCOPE_VERSION);
  for (const flag of plan.stepFlags) {
    const target = contexts.get(flag.key);
    if (!target) throw new Error(`scenario plan flags unknown step ${flag.key}`);
    const at = nsToHrTime(flag.atNs);
    const responseId = byResponseId?.get(flag.key);
    logger.emit({
      eventName: 'gen_ai.evaluation.result',
      timestamp: at,
      observedTimestamp: at,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      attributes: {
        'gen_ai.evaluation.name': flag.name,
        'gen_ai.evaluation.score.value': 0,
        'gen_ai.evaluation.score.label': 'fail',
        'gen_ai.evaluation.explanation': flag.explanation,
        ...(responseId !== undefined ? { 'gen_ai.response.id': responseId } : {}),
      },
      context: responseId !== undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, target),
    });
  }
  const time = nsToHrTime(plan.evaluatedAtNs);
  logger.emit({
    eventName: 'gen_ai.evaluation.result',
    timestamp: time,
    observedTimestamp: time,
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    attributes: {
      'gen_ai.evaluation.name': 'task_success',
      'gen_ai.evaluation.score.value': score,
      'gen_ai.evaluation.score.label': label,
      'gen_ai.evaluation.explanation': explanation(plan, score),
    },
    context: trace.setSpanContext(ROOT_CONTEXT, rootCtx),
  });
  await provider.forceFlush();
  return records;
}

/**
 * Collects ended spans synchronously, in end order (what SimpleSpanProcessor + InMemorySpanExporter
 * deliver, without their per-span promise and export round trip: ~3x faster for fleets).
 */
function collectSpans(into: ReadableSpan[]): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd: (span) => void into.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

/** Collects emitted log records synchronously, in emit order (also used by test/support recorders). */
export function collectLogs(into: ReadableLogRecord[]): LogRecordProcessor {
  return {
    onEmit: (record) => void into.push(record),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

function explanation(plan: ScenarioPlan, score: number): string {
  const missing = plan.requiredContent.filter((r) => !plan.messageContents.some((c) => c.includes(r)));
  const harmful = plan.forbiddenContent.filter((f) => plan.messageContents.some((c) => c.includes(f)));
  const parts = [`${plan.requiredContent.length - missing.length}/${plan.requiredContent.length} requirements met`];
  if (missing.length > 0) parts.push(`missing: ${missing.join(', ')}`);
  if (harmful.length > 0) parts.push(`harmful change seen: ${harmful.join(', ')}`);
  return `${parts.join('; ')} (score ${score.toFixed(3)})`;
}
