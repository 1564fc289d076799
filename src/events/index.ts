/** Public API of the output events: zod schemas (one source of truth for the JSON Schemas in `schemas/`), types, builder, ids. */
export * from './schemas.js';
export { outcomeToEvents, type BuildOptions, type CreditEvents } from './build.js';
export { eventId } from './event-id.js';
export { AgentBoard, type AgentBoardOptions, type AgentBoardSnapshot, type AgentStanding } from './agent-board.js';
export { TrainingLedger, type LedgerOutcome, type TrainingEpisode, type TrainingLedgerOptions, type TrainingLedgerStats } from './training-ledger.js';
export { TRAINING_RECORD_VERSION, TrainingRecordSchema, trainingRecord, type TrainingRecord } from './training-record.js';
