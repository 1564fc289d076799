/** Kafka client interface (client.ts) and its kafkajs implementation. */
export type * from './client.js';
export { KafkajsClient, kafkajsLogCreator, type KafkajsClientOptions } from './kafkajs-client.js';
export { silentLogger, type KafkaLogger } from './log.js';
export { isProducerStateError } from './producer-errors.js';
export { filterAbortedMessages, installKafkajsAbortedFilter } from './kafkajs-aborted-filter.js';
export { installKafkajsUnreadableBatches, UNREADABLE_BATCH } from './kafkajs-unreadable-batches.js';
export { TopicSettingError } from './topic-setting-error.js';
