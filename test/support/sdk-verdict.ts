/** A judge's verdict as the OTel JS SDK emits it, for tests of the evaluation paths. */
import { ROOT_CONTEXT, trace as otelTrace, TraceFlags } from '@opentelemetry/api';
import { LoggerProvider, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { encodeLogs } from '../../src/scenarios/index.js';
import { collectLogs } from '../../src/scenarios/record.js';

/** The trace every verdictAt names. */
export const VERDICT_TRACE_ID = 'ab'.repeat(16);

/** OTLP/protobuf of a gen_ai.evaluation.result (task_success = 1) on VERDICT_TRACE_ID, emitted by the SDK's LoggerProvider at `timestamp` (HrTime: [seconds, nanoseconds]). */
export function verdictAt(timestamp: [number, number]): Uint8Array {
  const records: ReadableLogRecord[] = [];
  const provider = new LoggerProvider({ processors: [collectLogs(records)] });
  provider.getLogger('judge').emit({
    eventName: 'gen_ai.evaluation.result',
    timestamp,
    attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 1 },
    context: otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: VERDICT_TRACE_ID, spanId: 'cd'.repeat(8), traceFlags: TraceFlags.SAMPLED }),
  });
  return encodeLogs(records, 'otlp_proto');
}
