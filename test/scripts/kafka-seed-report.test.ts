/**
 * What kafka:seed prints after seeding (seedReport): the command that starts the job on the
 * topics only when the seed wrote something. A seed into topics that already held records wrote
 * nothing and still printed "now: … npm start", as if there were runs to read.
 */
import { describe, expect, it } from 'vitest';
import { seedReport, type SeedResult } from '../../scripts/kafka-seed.js';

const topics = { spansTopic: 'otlp_spans', logsTopic: 'otlp_logs' };
const result = (spans: number, logs: number, created: string[] = []): SeedResult => ({ created, written: { otlp_spans: spans, otlp_logs: logs }, partitions: { otlp_spans: 4, otlp_logs: 4 } });

describe('kafka:seed: what it says it did', () => {
  it('wrote records: what went where, then the command that reads them', () => {
    const lines = seedReport(result(9, 9, ['otlp_spans', 'otlp_logs']), topics, '127.0.0.1:9092');
    expect(lines).toEqual([
      'created otlp_spans, otlp_logs (4 partitions each) on 127.0.0.1:9092',
      'wrote 9 records of the recorded collector dump to otlp_spans',
      'wrote 9 records of the recorded collector dump to otlp_logs',
      'now: AGENT_CREDIT_SOURCE_KIND=kafka AGENT_CREDIT_SOURCE_KAFKA_BROKERS=127.0.0.1:9092 npm start',
    ]);
  });

  it('wrote nothing (the topics held records): no start command, but that nothing was added and how to get runs there', () => {
    const dump = seedReport(result(0, 0), topics, '127.0.0.1:9092');
    expect(dump.some((l) => l.startsWith('now:'))).toBe(false);
    expect(dump.at(-1)).toBe(
      'nothing written: otlp_spans and otlp_logs held records already, so this seed added no run — a job whose consumer group read them has nothing new to read (one that has not, or a new source.kafka.groupId, reads what they hold); for empty topics, other names (--spans-topic, --logs-topic) or a fresh broker (npm run kafka:stop && npm run kafka:start)',
    );
    // --from: --append is the way to add runs (the dump cannot be appended: the same runs twice)
    const from = seedReport(result(0, 0), { ...topics, from: 'runs' }, '127.0.0.1:9092');
    expect(from.some((l) => l.startsWith('now:'))).toBe(false);
    expect(from.at(-1)).toMatch(/^nothing written: .*; for new runs, `agent-credit generate <dir> --seed 2` and `npm run kafka:seed -- --from <dir> --append`/);
  });

  it('wrote to one topic only (the other held records): the command stays, the runs written are new', () => {
    const lines = seedReport(result(0, 12), { ...topics, from: 'runs' }, 'b:1');
    expect(lines).toContain('wrote 12 records of OTLP files of runs to otlp_logs');
    expect(lines.at(-1)).toBe('now: AGENT_CREDIT_SOURCE_KIND=kafka AGENT_CREDIT_SOURCE_KAFKA_BROKERS=b:1 npm start');
  });

  it('a --from directory without files of one kind says so for that topic, not that it held records (it had just been created empty)', () => {
    const r: SeedResult = { created: ['s', 'l'], written: { s: 12, l: 0 }, partitions: { s: 4, l: 4 }, noFiles: ['l'] };
    const lines = seedReport(r, { spansTopic: 's', logsTopic: 'l', from: 'runs' }, 'b:1');
    expect(lines).toContain('l: nothing written — runs has no <name>-logs.pb or .json file');
    expect(lines.some((l) => l.includes('already holds records'))).toBe(false);
    expect(lines.at(-1)).toMatch(/^now: /);
    // the other kind alone, into a spans topic that held records: "nothing written" names only that one
    const held = seedReport({ created: [], written: { s: 0, l: 0 }, partitions: { s: 4, l: 4 }, noFiles: ['l'] }, { spansTopic: 's', logsTopic: 'l', from: 'runs' }, 'b:1');
    expect(held.at(-1)).toMatch(/^nothing written: s held records already/);
  });
});
