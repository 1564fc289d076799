/** Kafka sink: output topics, event/dead-letter records, non-transactional event sink. */
export { KafkaSinkConfigSchema, KafkaSinkTopicsSchema, type KafkaSinkConfig, type KafkaSinkTopics } from './config.js';
export { DLQ_HEADERS, deadLetterRecord, eventRecord, failedEpisodeRecord, oversizeEventRecord, publishableEventRecord, routeEvent } from './event-records.js';
export { KafkaEventSink, MissingOutputTopicError, OutputTopicRecordLimitError, RECORD_OVERHEAD_BYTES, checkOutputRecordLimit, ensureOutputTopics, prepareOutputTopics } from './kafka-event-sink.js';
export { publishFailureHint } from './publish-errors.js';
