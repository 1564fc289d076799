/**
 * Kafka record keys and values shaped like the OpenTelemetry Collector's kafka exporter writes
 * them with `partition_traces_by_id: true` and `partition_logs_by_trace_id: true` (contrib
 * kafkaexporter): one spans record per trace holding an ExportTraceServiceRequest with only that
 * trace, one logs record per log record; key = the trace id as 32 lowercase hex characters; no
 * headers. Only keys and values: producing them is the Kafka code's job.
 */
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ScenarioRun } from './generate.js';
import { encodeLogs, encodeTraces, type OtlpEncodingName } from './serialize.js';

export interface KafkaRecordShape {
  /** UTF-8 of the 32-char lowercase hex trace id; empty for log records without a trace. */
  readonly key: string;
  readonly value: Uint8Array;
}

export interface KafkaRecordsForRuns {
  /** For the spans topic (collector default `otlp_spans`). */
  readonly spans: KafkaRecordShape[];
  /** For the logs topic (collector default `otlp_logs`). */
  readonly logs: KafkaRecordShape[];
}

export function kafkaRecordsFor(runs: ScenarioRun | readonly ScenarioRun[], encoding: OtlpEncodingName = 'otlp_proto'): KafkaRecordsForRuns {
  const list = Array.isArray(runs) ? (runs as readonly ScenarioRun[]) : [runs as ScenarioRun];
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const run of list) {
    for (const span of run.spans) {
      const id = span.spanContext().traceId;
      let group = byTrace.get(id);
      if (!group) byTrace.set(id, (group = []));
      group.push(span);
    }
  }
  const spans = [...byTrace].map(([traceId, group]) => ({ key: traceId, value: encodeTraces(group, encoding) }));
  const logs = list.flatMap((run) =>
    run.logRecords.map((record: ReadableLogRecord) => ({ key: record.spanContext?.traceId ?? '', value: encodeLogs([record], encoding) })),
  );
  return { spans, logs };
}
