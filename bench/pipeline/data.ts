/**
 * Realistic input for the pipeline, latency and memory sections: a fleet from the scenario
 * generator (src/scenarios, real OTel SDK + OTLP serializers; all kinds and conventions), shaped
 * as the collector's kafka exporter writes it (one spans record per trace, one logs record per
 * evaluation, key = trace id).
 */
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';

export interface FleetRecords {
  episodes: number;
  spans: number;
  spanRecords: { key: string; value: Uint8Array }[];
  logRecords: { key: string; value: Uint8Array }[];
  encoding: 'otlp_proto' | 'otlp_json';
}

export async function fleetRecords(episodes: number, seed: number, encoding: 'otlp_proto' | 'otlp_json'): Promise<FleetRecords> {
  const runs = await generateFleet({ episodes, seed });
  const { spans, logs } = kafkaRecordsFor(runs, encoding);
  return {
    episodes,
    spans: runs.reduce((s, r) => s + r.spans.length, 0),
    spanRecords: spans.map((r) => ({ key: r.key, value: r.value })),
    logRecords: logs.map((r) => ({ key: r.key, value: r.value })),
    encoding,
  };
}
