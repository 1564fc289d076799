/**
 * A broker whose `offset.metadata.max.bytes` is below what the replay filter may write (~3.8 KB,
 * sized for Kafka's default 4096): here 200 bytes, so the ids of a partition's open runs do not
 * fit. The broker refuses such a commit (OFFSET_METADATA_TOO_LARGE), and every later one carried
 * metadata as long: exactly-once published nothing at all, at-least-once published its events but
 * never committed an offset again (a restart republished everything), each retried for ever with
 * "a broker away?". The pipeline now writes the filter shorter after a refusal (hashed, coded ids)
 * and says which broker setting to raise; the filter still works: exactly once across a restart.
 * Since the pipeline reads the brokers' setting at start (offsetMetadataMaxBytes), it writes the
 * filter short from the first commit and warns at once; the shortening after a refusal stays for
 * a client that cannot read it (no DescribeConfigs on the cluster, another client), tested here
 * with the setting hidden from the pipeline.
 *
 * Runs its own broker (scripts/kafka.ts) with the lower limit; the shared one serves the others.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { KafkaAdmin, KafkaClient } from '../../src/kafka/client.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { loadConfig } from '../../src/config/index.js';
import { useOwnBroker } from './support/own-broker.js';
import { exactlyOnceSetUp, expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import { committedMetadata, createTopics, produce, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, waitFor, type PipelineTopics } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

const METADATA_MAX_BYTES = 200;
const { clientOf, cleanups, broker } = useOwnBroker({ 'offset.metadata.max.bytes': String(METADATA_MAX_BYTES) });

/** The client, with the brokers' offset.metadata.max.bytes unknown to it (as for a principal without DescribeConfigs). */
function withoutMetadataLimit(client: KafkaClient): KafkaClient {
  const admin = async (): Promise<KafkaAdmin> => {
    const real = await client.admin();
    return new Proxy(real, { get: (t, p) => (p === 'offsetMetadataMaxBytes' ? undefined : (Reflect.get(t, p, t) as unknown)) });
  };
  return new Proxy(client, { get: (t, p) => (p === 'admin' ? admin : (Reflect.get(t, p, t) as unknown)) });
}

function pipelineOf(topics: PipelineTopics, groupId: string, delivery: 'exactly-once' | 'at-least-once', limitKnown = false) {
  const warnings: string[] = [];
  const pipeline = new KafkaPipeline(pipelineConfig(topics, groupId, { delivery }), {
    client: limitKnown ? clientOf('meta-pipeline') : withoutMetadataLimit(clientOf('meta-pipeline')),
    createAssembler: () => testAssembler(60_000),
    processEpisode: referenceProcessEpisode,
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    logger: { debug() {}, info() {}, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ''), error() {} },
  });
  cleanups.push(() => pipeline.stop());
  return { pipeline, warnings };
}

describe('offset.metadata.max.bytes below the replay filter', { timeout: 120_000 }, () => {
  it('exactly-once: transactions commit once the filter is written shorter, and a restart publishes every episode exactly once', async () => {
    const c = clientOf('meta-it');
    // evaluations in reverse run order: the committed offsets stay below committed episodes, whose
    // records a restart must not take again (what the filter in the metadata is for)
    const { topics, spans, logs, expected } = await exactlyOnceSetUp(c, 'meta-eos', 40, 61, true);
    const groupId = unique('meta-eos-grp');
    await produce(c, spans);
    await produce(c, logs.slice(0, Math.floor(logs.length / 2)));
    const first = pipelineOf(topics, groupId, 'exactly-once');
    await first.pipeline.start();
    await waitFor(() => {
      const s = first.pipeline.stats();
      return s.episodesClosed > 0 && s.inFlight === 0 && s.recordsPublished === s.eventsOut && s.consecutiveCommitFailures === 0;
    }, 45_000, 'the first half published');
    await first.pipeline.stop();
    expect(first.warnings.some((w) => w.includes('offset.metadata.max.bytes'))).toBe(true);
    const metadata = await committedMetadata(c, groupId, [topics.spans, topics.logs]);
    expect(metadata.every((m) => Buffer.byteLength(m) <= METADATA_MAX_BYTES)).toBe(true);

    const second = pipelineOf(topics, groupId, 'exactly-once');
    await second.pipeline.start();
    await produce(c, logs.slice(Math.floor(logs.length / 2)));
    expectExactlyOnce(await readAllEvents(c, topics, expected), expected);
    await second.pipeline.stop();
  });

  it('at-least-once: offsets are committed again once the filter is written shorter', async () => {
    const c = clientOf('meta-it');
    const { topics, spans, logs } = await exactlyOnceSetUp(c, 'meta-alo', 40, 62, true);
    await produce(c, spans);
    await produce(c, logs.slice(0, Math.floor(logs.length / 2)));
    const { pipeline, warnings } = pipelineOf(topics, unique('meta-alo-grp'), 'at-least-once');
    await pipeline.start();
    await waitFor(() => {
      const s = pipeline.stats();
      return s.episodesClosed > 0 && s.inFlight === 0 && s.commits > 0 && s.consecutiveCommitFailures === 0;
    }, 45_000, 'offsets committed');
    await pipeline.stop();
    expect(warnings.some((w) => w.includes('offset.metadata.max.bytes'))).toBe(true);
  });

  it('read at start: the filter is written short from the first commit, none is refused, and the warning names the setting at once', async () => {
    const c = clientOf('meta-it');
    const { topics, spans, logs, expected } = await exactlyOnceSetUp(c, 'meta-known', 40, 63, true);
    const groupId = unique('meta-known-grp');
    await produce(c, spans);
    await produce(c, logs.slice(0, Math.floor(logs.length / 2)));
    const first = pipelineOf(topics, groupId, 'exactly-once', true);
    await first.pipeline.start();
    expect(first.warnings.filter((w) => w.includes(`the brokers' offset.metadata.max.bytes is ${METADATA_MAX_BYTES}, below Kafka's default 4096`))).toHaveLength(1);
    await waitFor(() => {
      const s = first.pipeline.stats();
      return s.episodesClosed > 0 && s.inFlight === 0 && s.recordsPublished === s.eventsOut && s.transactions > 0 && s.consecutiveCommitFailures === 0;
    }, 45_000, 'the first half published');
    await first.pipeline.stop();
    expect(first.pipeline.stats().commitFailures).toBe(0);
    expect(first.warnings.some((w) => w.includes('refused an offset commit'))).toBe(false);
    const second = pipelineOf(topics, groupId, 'exactly-once', true);
    await second.pipeline.start();
    await produce(c, logs.slice(Math.floor(logs.length / 2)));
    expectExactlyOnce(await readAllEvents(c, topics, expected), expected);
    await second.pipeline.stop();
  });

  it('check warns that the brokers\' limit is below the default, naming the setting', async () => {
    const c = clientOf('meta-it');
    const base = unique('meta-check');
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 1);
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [broker().brokers], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs` } },
        sinks: { live: { enabled: false }, kafka: { topics: { rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.prefs`, dlq: `${base}.dlq` } } },
      },
    });
    const report = await runChecks(config);
    expect(report.ok).toBe(true);
    expect(renderCheckReport(report)).toContain(
      `! delivery at-least-once; compression none; the brokers' offset.metadata.max.bytes is ${METADATA_MAX_BYTES}: the replay filter that keeps a restart from publishing again takes up to 185 bytes per input partition — below Kafka's default 4096`,
    );
  });
});
