/**
 * The Kafka job tries each bootstrap broker by TCP as it starts, as `check` does
 * (src/kafka/bootstrap-reach.ts): one wrong entry among good ones in source.kafka.brokers went
 * unnoticed by `run` (kafkajs needs one broker to answer and retries past the others), and a start
 * against no broker at all said only kafkajs's connection errors until its retries ran out.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportBootstrapReach } from '../../src/cli/kafka-job.js';
import type { Logger } from '../../src/telemetry/logger.js';
import { REFUSED_PORT } from '../support/ports.js';

function warnings(): { lines: { obj: object; msg: string }[]; logger: Logger } {
  const lines: { obj: object; msg: string }[] = [];
  const none = () => undefined;
  const logger = { warn: (obj: object, msg: string) => void lines.push({ obj, msg }), info: none, debug: none, error: none, trace: none, fatal: none } as unknown as Logger;
  return { lines, logger };
}

describe('the Kafka job at start: its bootstrap brokers, one TCP connection each', () => {
  let server: Server;
  let good: string;
  beforeAll(async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    good = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const bad = `127.0.0.1:${REFUSED_PORT}`;

  it('one that refuses among ones that accept: a warn line naming it, why, and the fix', async () => {
    const { lines, logger } = warnings();
    await reportBootstrapReach([good, bad], logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe(
      `source.kafka.brokers: ${bad}: connection refused (ECONNREFUSED: nothing listens on that port) — the other bootstrap broker(s) accept one, but run's clients pick one at random and retry past this one ("Failed to connect to seed broker" warnings, a slower start): fix or remove it in source.kafka.brokers`,
    );
    expect(lines[0]!.obj).toEqual({ unreachable: [bad] });
  });

  it('none accepting: a warn line at once saying the start fails once kafkajs stops retrying, and what to check', async () => {
    const { lines, logger } = warnings();
    await reportBootstrapReach([bad], logger);
    expect(lines.map((l) => l.msg)).toEqual([
      `source.kafka.brokers: no bootstrap broker accepts a connection now — ${bad}: connection refused (ECONNREFUSED: nothing listens on that port); retrying for a broker that is still starting, then the start fails — check source.kafka.brokers (host:port of a listener this client can reach), or start the brokers`,
    ]);
  });

  it('every one accepting: nothing said', async () => {
    const { lines, logger } = warnings();
    await reportBootstrapReach([good], logger);
    expect(lines).toEqual([]);
  });
});
