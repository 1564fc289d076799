/**
 * Sends generated runs to an OTLP/HTTP endpoint with the real OpenTelemetry exporters (the
 * `--demo` mode feeds the embedded receiver this way, exactly as an instrumented app would).
 */
import { OTLPLogExporter as OTLPLogExporterJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OTLPLogExporterProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ScenarioRun } from './generate.js';

export interface SendOptions {
  /** Default `http/protobuf`. */
  protocol?: 'http/protobuf' | 'http/json';
  headers?: Record<string, string>;
  /** Per export call; default 10000. */
  timeoutMillis?: number;
}

export interface SendResult {
  spans: number;
  logRecords: number;
}

/**
 * POSTs the runs' spans to `${endpoint}/v1/traces` and their evaluation events to
 * `${endpoint}/v1/logs` (endpoint like `http://127.0.0.1:4318`). Rejects with the exporter's
 * error when the receiver refuses or is unreachable.
 */
export async function sendScenario(endpoint: string, runs: ScenarioRun | readonly ScenarioRun[], options: SendOptions = {}): Promise<SendResult> {
  const list = Array.isArray(runs) ? (runs as readonly ScenarioRun[]) : [runs as ScenarioRun];
  const base = endpoint.replace(/\/+$/, '');
  const config = { headers: options.headers, timeoutMillis: options.timeoutMillis ?? 10_000 };
  const json = options.protocol === 'http/json';
  const traceExporter = json ? new OTLPTraceExporterJson({ ...config, url: `${base}/v1/traces` }) : new OTLPTraceExporterProto({ ...config, url: `${base}/v1/traces` });
  const logExporter = json ? new OTLPLogExporterJson({ ...config, url: `${base}/v1/logs` }) : new OTLPLogExporterProto({ ...config, url: `${base}/v1/logs` });
  return sendScenarioWith({ traces: traceExporter, logs: logExporter }, list);
}

/**
 * Exports the runs' spans, then their log records, with the given exporters (any transport: the
 * OTLP/gRPC ones, say), and shuts them down. Rejects with the exporter's error.
 */
export async function sendScenarioWith(exporters: { traces: SpanExporter; logs: LogRecordExporter }, runs: ScenarioRun | readonly ScenarioRun[]): Promise<SendResult> {
  const list = Array.isArray(runs) ? (runs as readonly ScenarioRun[]) : [runs as ScenarioRun];
  try {
    const spans = list.flatMap((r) => r.spans);
    const logRecords = list.flatMap((r) => r.logRecords);
    await exportOnce((cb) => exporters.traces.export(spans, cb), 'traces');
    await exportOnce((cb) => exporters.logs.export(logRecords, cb), 'logs');
    return { spans: spans.length, logRecords: logRecords.length };
  } finally {
    await Promise.allSettled([exporters.traces.shutdown(), exporters.logs.shutdown()]);
  }
}

function exportOnce(run: (cb: (result: ExportResult) => void) => void, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    run((result) => {
      if (result.code === ExportResultCode.SUCCESS) resolve();
      else reject(new Error(`OTLP ${what} export failed: ${result.error?.message ?? 'unknown error'}`, { cause: result.error }));
    });
  });
}
