/**
 * In-process throughput (no broker): OTLP decode (src/otlp) against generic baselines, and episode
 * assembly (src/episodes) against a bare Map-grouping lower bound. Single thread = one core.
 */
import { decodeTraces } from '../../src/otlp/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { throughput, type Throughput } from '../lib/timing.js';
import { protobufjsDecode, protobufjsDecodeToObject } from './otlp-proto-baseline.js';

export interface DecodeResult {
  encoding: 'otlp_proto' | 'otlp_json';
  records: number;
  spans: number;
  bytes: number;
  ours: Throughput;
  baselines: { name: string; result: Throughput }[];
}

const utf8 = new TextDecoder();

/** Decode spans/s of our decoder and of the baselines over the same records. */
export function decodeBenchmark(records: readonly Uint8Array[], encoding: 'otlp_proto' | 'otlp_json', minMs: number): DecodeResult {
  const spans = records.reduce((s, r) => s + decodeTraces(r, encoding).length, 0);
  const bytes = records.reduce((s, r) => s + r.byteLength, 0);
  const ours = throughput(() => {
    let n = 0;
    for (const r of records) n += decodeTraces(r, encoding).length;
    return n;
  }, minMs);
  const baselines: DecodeResult['baselines'] = [];
  if (encoding === 'otlp_proto') {
    baselines.push({
      name: 'protobufjs 7 reflection decode (message objects, no conversion)',
      result: throughput(() => records.reduce((n, r) => n + protobufjsDecode(r), 0), minMs),
    });
    baselines.push({
      name: 'protobufjs 7 decode + toObject (plain objects)',
      result: throughput(() => records.reduce((n, r) => n + protobufjsDecodeToObject(r), 0), minMs),
    });
  } else {
    baselines.push({
      name: 'TextDecoder + JSON.parse only (no OTLP mapping)',
      result: throughput(() => {
        let n = 0;
        for (const r of records) {
          const o = JSON.parse(utf8.decode(r)) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
          for (const rs of o.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
        }
        return n;
      }, minMs),
    });
  }
  return { encoding, records: records.length, spans, bytes, ours, baselines };
}

/** Lower bound of any assembler: spans grouped into arrays by trace id, nothing else. */
export function naiveGrouping(batches: readonly (readonly Span[])[]): number {
  const groups = new Map<string, Span[]>();
  let n = 0;
  for (const batch of batches) {
    for (const s of batch) {
      let g = groups.get(s.traceId);
      if (!g) groups.set(s.traceId, (g = []));
      g.push(s);
      n++;
    }
  }
  return n;
}
