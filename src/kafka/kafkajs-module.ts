/**
 * The one place the product loads kafkajs: its produce-path fast paths (kafkajs-fast-paths.ts)
 * the read_committed fix (kafkajs-aborted-filter.ts), the unreadable-batch handling
 * (kafkajs-unreadable-batches.ts), the request queue's timer (kafkajs-request-queue.ts) and the
 * out-of-range recovery (kafkajs-offset-out-of-range.ts) go into the module cache first, so every
 * kafkajs module loaded after sees them. Import kafkajs
 * values from here; `import type` from 'kafkajs' is fine anywhere.
 */
import { createRequire } from 'node:module';
import { registerKafkajsCodecs } from './compression-codecs.js';
import { installKafkajsAbortedFilter } from './kafkajs-aborted-filter.js';
import { installKafkajsFastPaths } from './kafkajs-fast-paths.js';
import { installKafkajsOffsetOutOfRange } from './kafkajs-offset-out-of-range.js';
import { installKafkajsRequestQueueSchedule } from './kafkajs-request-queue.js';
import { installKafkajsUnreadableBatches } from './kafkajs-unreadable-batches.js';

const require = createRequire(import.meta.url);
installKafkajsFastPaths(require);
// read_committed: kafkajs can deliver a record of an aborted transaction (kafkajs-aborted-filter.ts)
installKafkajsAbortedFilter(require);
// a batch that does not decode goes to the dead-letter topic instead of failing every fetch (kafkajs-unreadable-batches.ts)
installKafkajsUnreadableBatches(require);
// no 1 ms timer loop per idle connection, no TimeoutNegativeWarning on Node ≥ 23 (kafkajs-request-queue.ts)
installKafkajsRequestQueueSchedule(require);
// a position removed by retention moves to the log start without a commit that erased the pipeline's (kafkajs-offset-out-of-range.ts)
installKafkajsOffsetOutOfRange(require);
const kafkajs = require('kafkajs') as typeof import('kafkajs');
// snappy, lz4 and zstd batches (a collector's `producer.compression`) decode like gzip ones.
registerKafkajsCodecs(kafkajs.CompressionCodecs as unknown as Parameters<typeof registerKafkajsCodecs>[0]);

export const { Kafka, Partitioners, logLevel, AssignerProtocol, PartitionAssigners, ConfigResourceTypes } = kafkajs;
