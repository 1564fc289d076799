/**
 * kafkajs's own log lines through the project logger (src/kafka/kafkajs-client.ts): a failure that
 * repeats (a deleted output topic: two error lines per transaction, ~670 a minute) is logged at most
 * every 30 s per line, and a connection failure at most every 10 s per broker; the repeats go to debug.
 */
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsLogCreator } from '../../src/kafka/kafkajs-client.js';

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg: string) => void lines.push({ level, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('kafkajs log lines', () => {
  it('a repeating error line is logged once per 30 s, the repeats at debug; another line is not held back', () => {
    let now = 0;
    const { lines, logger } = recorder();
    const log = kafkajsLogCreator(logger as never, () => now)!(logLevel.INFO);
    const entry = (message: string) => ({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', message, error: 'This server does not host this topic-partition' } });
    for (let i = 0; i < 50; i++) {
      log(entry('Failed to send transaction offsets'));
      now += 100; // 5 s in all
    }
    log(entry('Another failure'));
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['Failed to send transaction offsets (kafkajs; the same line at most every 30 s)', 'Another failure (kafkajs; the same line at most every 30 s)']);
    expect(lines.filter((l) => l.level === 'debug')).toHaveLength(49);
    now += 30_000;
    log(entry('Failed to send transaction offsets'));
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(3);
  });

  it('a line that differs only in the delay it names (kafkajs: "Restarting the consumer in 7064ms") is the same line', () => {
    // seen with the broker away: kafkajs's consumer restart line at error level every ~16 s,
    // each with another retryTime, under "(kafkajs; the same line at most every 30 s)"
    let now = 0;
    const { lines, logger } = recorder();
    const log = kafkajsLogCreator(logger as never, () => now)!(logLevel.INFO);
    const restarting = (ms: number) => ({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', message: `Restarting the consumer in ${ms}ms`, retryCount: 5, retryTime: ms, groupId: 'g' } });
    for (const ms of [300, 7064, 9700, 5858]) {
      log(restarting(ms));
      now += 8_000; // 32 s in all
    }
    log(restarting(10276));
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['Restarting the consumer in 300ms (kafkajs; the same line at most every 30 s)', 'Restarting the consumer in 10276ms (kafkajs; the same line at most every 30 s)']);
    expect(lines.filter((l) => l.level === 'debug')).toHaveLength(3);
  });

  it('a connection failure is a warning at most every 10 s per broker', () => {
    let now = 0;
    const { lines, logger } = recorder();
    const log = kafkajsLogCreator(logger as never, () => now)!(logLevel.INFO);
    const refused = (broker: string) => ({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', message: 'Connection error: connect ECONNREFUSED', broker } });
    for (let i = 0; i < 20; i++) {
      log(refused('b1:9092'));
      log(refused('b2:9092'));
      now += 400;
    }
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    now += 10_000;
    log(refused('b1:9092'));
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3);
  });
});
