/** Kafka source: config and record decoding; the consumer loop lives in src/runtime/kafka-pipeline.ts. */
export { KafkaSourceConfigSchema, SourceEncodingSchema, type KafkaSourceConfig, type KafkaSourceConfigInput, type SourceEncoding } from './config.js';
export { decodeRecord, recordEncoding, type DecodedRecord, type TelemetrySignal } from './record-decoder.js';
export { KafkaTelemetrySource, MissingTopicError, type SourceBatch, type SourceHandler, type SourceItem } from './kafka-source.js';
