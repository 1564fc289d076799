/**
 * `new KafkaPipeline(config, deps)` from an embedding service: its options are checked as the
 * config file's are. A misspelt key was dropped without a word (`source.spansTopc` read the default
 * otlp_spans; a `sinks` section — the config file's name — left the events going to the default
 * output topics), and a bad value threw a bare ZodError, its issues as JSON.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kafkaPipelineConfigOf } from '../../src/cli/kafka-job.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { FakeKafka } from './fake-kafka.js';

const deps = () => ({ client: new FakeKafka(), createAssembler: () => new EpisodeAssembler({}), processEpisode: async () => [], evaluationsFromLogs });
const make = (config: unknown) => () => new KafkaPipeline(config as ConstructorParameters<typeof KafkaPipeline>[0], deps());

describe('KafkaPipeline options', () => {
  it('an unknown key is refused with its path and the key meant', () => {
    expect(make({ source: { brokers: ['b:9092'], spansTopc: 'spans' } })).toThrow(/^invalid configuration \(KafkaPipeline options\):\n {2}source\.spansTopc: unknown key — did you mean spansTopic\? — accepted keys here: .*spansTopic/);
    expect(make({ source: { brokers: ['b:9092'] }, sinks: { topics: { episodes: 'mine' } } })).toThrow(/^ {2}sinks: unknown key — did you mean sink\?/m);
    expect(make({ source: { brokers: ['b:9092'] }, sink: { topics: { episode: 'mine' } } })).toThrow(/sink\.topics\.episode: unknown key — did you mean episodes\?/);
  });

  it('a bad value is a ConfigError naming the key and what it takes, not a ZodError', () => {
    let err: unknown;
    try {
      make({ source: { brokers: ['b:9092'] }, delivery: 'exactly-twice', creditQueueMax: 0 })();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.find((p) => p.startsWith('delivery:'))).toMatch(/exactly-once/);
    expect(problems.find((p) => p.startsWith('creditQueueMax:'))).toBeDefined();
  });

  it("what the Kafka job passes (kafkaPipelineConfigOf) and the README's example still pass", () => {
    const { config } = loadConfig({ env: {}, text: 'source:\n  kind: kafka\n  kafka:\n    brokers: [b:9092]\n' });
    const { clientId: _c, ssl: _s, sasl: _a, ...source } = config.source.kafka!;
    expect(() => new KafkaPipeline(kafkaPipelineConfigOf(config, source, { creditConcurrency: 4, creditTimeoutMs: 30_000 }), deps())).not.toThrow();
    expect(make({ source: { brokers: ['localhost:9092'] }, delivery: 'exactly-once' })).not.toThrow();
  });

  it("its messages name the config file's keys (source.kafka.spansTopic): src/kafka/README.md maps them to these options", async () => {
    const fake = new FakeKafka();
    fake.missingTopicNames.add('spans');
    const p = new KafkaPipeline({ source: { brokers: ['b:9092'], spansTopic: 'spans', logsTopic: null }, sink: { createTopics: false } }, { ...deps(), client: fake });
    await expect(p.start()).rejects.toThrow(/source\.kafka\.spansTopic: topic "spans" does not exist/);
    const readme = readFileSync(new URL('../../src/kafka/README.md', import.meta.url), 'utf8');
    expect(readme).toContain('`source.kafka.spansTopic` → `source.spansTopic`');
    expect(readme).toMatch(/`sinks\.kafka\.<key>` is `sink\.<key>`/);
  });
});
