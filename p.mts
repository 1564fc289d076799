import { KafkajsClient } from './src/kafka/kafkajs-client.js';
import { explainConnectionError } from './src/kafka/connection.js';
const client = new KafkajsClient({ brokers: ['kafka-sasl.invalid:9094'], clientId: 'p', connectionTimeoutMs: 1000, retry: { retries: 1 } } as any);
try { await client.admin(); } catch (e) { const x = explainConnectionError(e); console.log('RAW', (e as Error).name, (e as Error).message, String((e as any).cause ?? ''), (e as any).code); console.log('EXPLAINED', x.message); }
process.exit(0);
