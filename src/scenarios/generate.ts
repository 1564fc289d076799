/**
 * `generateScenario`: plan → record with the OTel SDK → serialize. See types.ts for the kinds.
 */
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { planScenario } from './plan.js';
import { childSeed } from './prng.js';
import { recordScenario } from './record.js';
import { scoreContents } from './score.js';
import { logsToJson, logsToProto, tracesToJson, tracesToProto } from './serialize.js';
import { SCENARIO_CONVENTIONS, SCENARIO_KINDS, SCENARIO_OPTION_KEYS, ScenarioOptionsSchema, scenarioOptionError, type ScenarioConvention, type ScenarioExpectation, type ScenarioKind, type ScenarioOptions } from './types.js';

/**
 * One generated run. Spans and log records are the SDK's own objects; the OTLP bytes are
 * serialized on first access (fleets that batch many runs into one request never pay for them).
 */
export class ScenarioRun {
  private cache: { tracesProto?: Uint8Array; tracesJson?: string; logsProto?: Uint8Array; logsJson?: string } = {};

  constructor(
    readonly traceId: string,
    readonly rootSpanId: string,
    readonly spans: ReadableSpan[],
    readonly logRecords: ReadableLogRecord[],
    readonly expected: ScenarioExpectation,
  ) {}

  /** ExportTraceServiceRequest, protobuf (ProtobufTraceSerializer). */
  get tracesProto(): Uint8Array {
    return (this.cache.tracesProto ??= tracesToProto(this.spans));
  }
  /** ExportTraceServiceRequest, OTLP/JSON text (JsonTraceSerializer bytes as a string). */
  get tracesJson(): string {
    return (this.cache.tracesJson ??= tracesToJson(this.spans));
  }
  /** ExportLogsServiceRequest with the evaluation event, protobuf. */
  get logsProto(): Uint8Array {
    return (this.cache.logsProto ??= logsToProto(this.logRecords));
  }
  /** ExportLogsServiceRequest with the evaluation event, OTLP/JSON text. */
  get logsJson(): string {
    return (this.cache.logsJson ??= logsToJson(this.logRecords));
  }
  /** Alias of `tracesProto` (name used in docs/contracts.md). */
  get traces(): Uint8Array {
    return this.tracesProto;
  }
  /** Alias of `logsProto` (name used in docs/contracts.md). */
  get logs(): Uint8Array {
    return this.logsProto;
  }
}

/**
 * Generates one deterministic run: same options → identical spans, ids, timestamps and bytes.
 * Accepts `generateScenario({ kind, convention, seed, agents?, steps? })` or the
 * docs/contracts.md form `generateScenario(kind, convention, { seed, ... })`.
 * Throws a message naming the option when options are invalid.
 */
export async function generateScenario(options: ScenarioOptions): Promise<ScenarioRun>;
export async function generateScenario(
  kind: ScenarioKind,
  convention: ScenarioConvention,
  options?: Omit<ScenarioOptions, 'kind' | 'convention' | 'seed'> & { seed?: number },
): Promise<ScenarioRun>;
export async function generateScenario(
  a: ScenarioOptions | ScenarioKind,
  convention?: ScenarioConvention,
  rest?: Omit<ScenarioOptions, 'kind' | 'convention' | 'seed'> & { seed?: number },
): Promise<ScenarioRun> {
  const raw = typeof a === 'string' ? { seed: 1, ...rest, kind: a, convention } : a;
  const parsed = ScenarioOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw scenarioOptionError('scenario', parsed.error.issues[0]!, SCENARIO_OPTION_KEYS);
  }
  const options = parsed.data;
  const plan = planScenario(options);
  const score = scoreContents(plan.messageContents, plan.requiredContent, plan.forbiddenContent);
  // Ids depend on kind and convention too, so runs of different kinds with one seed never share a trace id.
  const idSeed = childSeed(options.seed, SCENARIO_KINDS.indexOf(options.kind) * 8 + SCENARIO_CONVENTIONS.indexOf(options.convention));
  const recorded = await recordScenario(plan, options.convention, idSeed, score, options.stepEvaluationsBy);
  const idOf = (key: string | undefined) => (key === undefined ? undefined : recorded.spanIds.get(key));
  const expected: ScenarioExpectation = {
    kind: options.kind,
    convention: options.convention,
    agents: [...plan.agents],
    saboteur: plan.saboteur,
    redundant: plan.redundant,
    flaggedSpanIds: plan.stepFlags.map((f) => idOf(f.key)!),
    firstErrorSpanId: idOf(plan.firstErrorKey),
    fixSpanId: idOf(plan.fixKey),
    score,
    label: recorded.label,
    requiredContent: [...plan.requiredContent],
    forbiddenContent: [...plan.forbiddenContent],
  };
  return new ScenarioRun(recorded.traceId, recorded.rootSpanId, recorded.spans, recorded.logRecords, expected);
}
