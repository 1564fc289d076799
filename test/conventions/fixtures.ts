/**
 * Loads the recorded agents-sdk fixtures (/work/shared/fixtures/agents-sdk, see its README)
 * through the real decoders in src/otlp.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const FIXTURES = AGENTS_SDK_FIXTURES;
export const INSTRUMENTATIONS = ['genai', 'openinference', 'openllmetry'] as const;
export type Instrumentation = (typeof INSTRUMENTATIONS)[number];

/** The three runs of one instrumentation, in recording order (run 1 flights pass, 2 hotels pass, 3 flights fail). */
export function runSpans(inst: Instrumentation): Span[][] {
  return [1, 2, 3].map((n) =>
    decodeTraces(new Uint8Array(readFileSync(join(FIXTURES, inst, 'otlp-http', `000${n}-traces.pb`))), 'otlp_proto'),
  );
}

export function fixtureLogs(inst: Instrumentation): LogRecord[] {
  return decodeLogs(new Uint8Array(readFileSync(join(FIXTURES, inst, 'otlp-http', '0004-logs.pb'))), 'otlp_proto');
}

/** All spans the collector wrote to Kafka (`otlp_spans` topic) in one encoding, one entry per record. */
export function kafkaSpanRecords(encoding: 'otlp_proto' | 'otlp_json'): Span[][] {
  const dir = join(FIXTURES, 'kafka', encoding, 'otlp_spans');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => {
      const bytes = new Uint8Array(readFileSync(join(dir, f)));
      return decodeTraces(bytes, encoding);
    });
}

export function kafkaLogRecords(encoding: 'otlp_proto' | 'otlp_json'): LogRecord[] {
  const dir = join(FIXTURES, 'kafka', encoding, 'otlp_logs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .flatMap((f) => decodeLogs(new Uint8Array(readFileSync(join(dir, f))), encoding));
}
