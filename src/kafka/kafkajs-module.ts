/**
 * The one place the product loads kafkajs: its produce-path fast paths (kafkajs-fast-paths.ts)
 * go into the module cache first, so every kafkajs module loaded after sees them. Import kafkajs
 * values from here; `import type` from 'kafkajs' is fine anywhere.
 */
import { createRequire } from 'node:module';
import { installKafkajsFastPaths } from './kafkajs-fast-paths.js';

const require = createRequire(import.meta.url);
installKafkajsFastPaths(require);
const kafkajs = require('kafkajs') as typeof import('kafkajs');

export const { Kafka, Partitioners, logLevel, AssignerProtocol, PartitionAssigners } = kafkajs;
