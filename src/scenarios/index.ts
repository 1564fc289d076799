/**
 * Scenario generator: realistic multi-agent runs recorded with the real OpenTelemetry JS SDK in
 * the GenAI, OpenInference and OpenLLMetry conventions, serialized by @opentelemetry/otlp-transformer.
 * Used by the demo, tests and benchmarks. See README.md in this folder.
 */
export { generateScenario, ScenarioRun } from './generate.js';
export { generateFleet, batchFleet, FleetOptionsSchema, type FleetOptions, type FleetBatch } from './fleet.js';
export { kafkaRecordsFor, type KafkaRecordShape, type KafkaRecordsForRuns } from './kafka-records.js';
export { sendScenario, sendScenarioWith, type SendOptions, type SendResult } from './send.js';
export { scoreContents } from './score.js';
export { PASS_THRESHOLD, EVALUATOR_SERVICE } from './record.js';
export { encodeTraces, encodeLogs, type OtlpEncodingName } from './serialize.js';
export { SeededIdGenerator, SeededRandom, childSeed } from './prng.js';
export {
  ScenarioKindSchema,
  ScenarioConventionSchema,
  ScenarioOptionsSchema,
  ScenarioExpectationSchema,
  SCENARIO_KINDS,
  SCENARIO_CONVENTIONS,
  type ScenarioKind,
  type ScenarioConvention,
  type ScenarioOptions,
  type ScenarioExpectation,
} from './types.js';
