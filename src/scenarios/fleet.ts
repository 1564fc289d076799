/**
 * Many runs at once, for demos and benchmarks, plus the fast path that packs many traces into
 * a few OTLP requests (as an SDK's BatchSpanProcessor or the collector's batch processor does).
 */
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { generateScenario, type ScenarioRun } from './generate.js';
import { SeededRandom, childSeed } from './prng.js';
import { encodeLogs, encodeTraces, type OtlpEncodingName } from './serialize.js';
import { SCENARIO_CONVENTIONS, SCENARIO_KINDS, ScenarioConventionSchema, ScenarioKindSchema, scenarioOptionError } from './types.js';

export const FleetOptionsSchema = z.object({
  episodes: z.number().int().min(1),
  seed: z.number().int(),
  /** Relative weights per kind; kinds not named get weight 0. Default: all kinds equally. */
  mix: z.partialRecord(ScenarioKindSchema, z.number().min(0)).optional(),
  /** Conventions to draw from uniformly. Default: all three. */
  conventions: z.array(ScenarioConventionSchema).min(1).optional(),
  agents: z.number().int().min(3).optional(),
  steps: z.number().int().min(1).optional(),
  /** Start of the first run (unix ms); runs follow each other by `spacingMs`. Default: seeded per run. */
  baseTimeMs: z.number().int().min(0).optional(),
  spacingMs: z.number().int().min(0).optional(),
}).strict(); // a misspelt option was dropped without a word
export type FleetOptions = z.input<typeof FleetOptionsSchema>;

/**
 * Generates `episodes` runs; episode i uses seed `childSeed(seed, i)`, so a fleet is
 * deterministic and any run can be regenerated alone. Kinds that need a 4th agent get it even
 * when `agents` is 3.
 */
export async function generateFleet(options: FleetOptions): Promise<ScenarioRun[]> {
  const parsed = FleetOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw scenarioOptionError('fleet', parsed.error.issues[0]!, Object.keys(FleetOptionsSchema.shape));
  }
  const o = parsed.data;
  const weights = SCENARIO_KINDS.map((k) => (o.mix ? (o.mix[k] ?? 0) : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) throw new Error('invalid fleet option "mix": at least one kind needs a positive weight');
  const conventions = o.conventions ?? [...SCENARIO_CONVENTIONS];
  const rng = new SeededRandom(o.seed);
  const runs: ScenarioRun[] = [];
  for (let i = 0; i < o.episodes; i++) {
    let r = rng.next() * total;
    let k = 0;
    while (k < weights.length - 1 && r >= weights[k]!) r -= weights[k++]!;
    const kind = SCENARIO_KINDS[k]!;
    const convention = rng.pick(conventions);
    const minAgents = kind === 'redundant' || kind === 'saboteur' ? 4 : 3;
    runs.push(
      await generateScenario({
        kind,
        convention,
        seed: childSeed(o.seed, i),
        agents: o.agents === undefined ? undefined : Math.max(o.agents, minAgents),
        steps: o.steps,
        baseTimeMs: o.baseTimeMs === undefined ? undefined : o.baseTimeMs + i * (o.spacingMs ?? 60_000),
      }),
    );
  }
  return runs;
}

/** One OTLP request body with many traces (or many log records). */
export interface FleetBatch {
  readonly traceIds: readonly string[];
  readonly traces: Uint8Array;
  readonly logs: Uint8Array;
}

/**
 * Packs runs into requests of at most `tracesPerRequest` traces each, serialized once per
 * request in `encoding` (JSON as UTF-8 bytes). The fast path for benchmarks.
 */
export function batchFleet(runs: readonly ScenarioRun[], encoding: OtlpEncodingName, tracesPerRequest = 64): FleetBatch[] {
  if (!Number.isInteger(tracesPerRequest) || tracesPerRequest < 1) throw new Error('batchFleet: "tracesPerRequest" must be a positive integer');
  const batches: FleetBatch[] = [];
  for (let i = 0; i < runs.length; i += tracesPerRequest) {
    const slice = runs.slice(i, i + tracesPerRequest);
    const spans: ReadableSpan[] = slice.flatMap((r) => r.spans);
    const logs: ReadableLogRecord[] = slice.flatMap((r) => r.logRecords);
    batches.push({ traceIds: slice.map((r) => r.traceId), traces: encodeTraces(spans, encoding), logs: encodeLogs(logs, encoding) });
  }
  return batches;
}
