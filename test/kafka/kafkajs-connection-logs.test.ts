/**
 * A wrong broker address: kafkajs logged every connection attempt as an error with a stack
 * before the job's own error named source.kafka.brokers (Kafka user-acceptance pass: 6 such lines).
 * Through the real kafkajs client against a port nothing listens on.
 */
import { describe, expect, it } from 'vitest';
import { KafkajsClient } from '../../src/kafka/index.js';
import type { KafkaLogger } from '../../src/kafka/log.js';
import { REFUSED_PORT } from '../support/ports.js';

describe('kafkajs connection failures in the job log', () => {
  it('are one warning per broker and message (no stack), the retries debug; nothing at error level', async () => {
    const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
    const rec = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> });
    const logger: KafkaLogger = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
    const port = REFUSED_PORT; // nothing listens on it
    const client = new KafkajsClient({ brokers: [`127.0.0.1:${port}`], clientId: 'wrong-broker', logger });
    await expect(client.admin()).rejects.toThrow();
    const connection = lines.filter((l) => /ECONNREFUSED|Connection error|Failed to connect/.test(`${l.msg} ${String((l.obj.kafka as Record<string, unknown> | undefined)?.error ?? '')}`));
    expect(connection.length).toBeGreaterThan(1); // kafkajs did retry
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    const warned = connection.filter((l) => l.level === 'warn');
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThan(connection.length);
    for (const w of warned) expect(JSON.stringify(w.obj)).not.toMatch(/stack|    at /);
  });
});
