/**
 * The output path alone, as the Kafka pipeline runs it on its consumer thread with credit there
 * (creditWorkers 0): an episode's events → their JSON (`creditedFromEvents`) → records
 * (`publishableFactsRecord`) → placed and chunked (`sendPartitioned`) → the Produce requests'
 * bytes as the kafkajs producer with this project's fast paths encodes them (partition grouping,
 * Produce v3 request, request frame), without a broker:
 *
 *   node --import tsx --import ./bench/lib/use-build.mjs bench/pipeline/output-loop.ts
 *
 * The events are made by `processCheckedEpisode` before each pass (not timed); the records of
 * SEND_EPISODES episodes (default 25) go in one send, as the pipeline publishes the episodes of a
 * commit together, to 4 partitions per output topic. `Date.now` is pinned (events' emitted_at_ms,
 * the batches' timestamps), so the SHA-1 printed over every request's bytes of the first pass is
 * the same for two builds that write the same bytes: compare it on A/B runs.
 *
 * Prints the minimum and median CPU of a pass (all threads) and the main thread's median.
 * Environment: PASSES (default 12), EPISODES (default 1500), SEND_EPISODES, PROFILE=<file>,
 * HEAP=<file> (the last 3 passes, as process-loop.ts).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { loopProfiles } from './loop-profiles.js';

const PINNED_NOW = 1_764_000_000_000;
Date.now = () => PINNED_NOW;

const { fleetRecords } = await import('./data.js');
const { mainThreadCpuSeconds } = await import('../lib/cpu.js');
const { processCheckedEpisode } = await import('../../src/runtime/process-episode.js');
const { EpisodeAssembler } = await import('../../src/episodes/index.js');
const { evaluationsFromLogs } = await import('../../src/conventions/index.js');
const { decodeLogs, decodeTraces } = await import('../../src/otlp/index.js');
const { creditedFromEvents } = await import('../../src/events/credited-events.js');
const { publishableFactsRecord } = await import('../../src/sinks/kafka/event-records.js');
const { sendPartitioned } = await import('../../src/kafka/kafkajs-send.js');
const { KeyPartitioner, placedFirstPartitioner } = await import('../../src/kafka/kafkajs-placement.js');
const { DEFAULT_CHUNK_LIMITS } = await import('../../src/kafka/produce-chunks.js');
// loads kafkajs with the fast paths installed into its module cache
await import('../../src/kafka/kafkajs-module.js');

type OutgoingRecord = import('../../src/kafka/client.js').OutgoingRecord;
type SendBatch = import('../../src/kafka/kafkajs-send.js').SendBatch;

const require = createRequire(import.meta.url);
const kafkajsModule = (p: string) => require(require.resolve(`kafkajs/src/${p}`)) as any;
const groupMessagesPerPartition = kafkajsModule('producer/groupMessagesPerPartition.js');
const createTopicData = kafkajsModule('producer/createTopicData.js');
const produceV3 = kafkajsModule('protocol/requests/produce/v3/request.js');
const encodeRequest = kafkajsModule('protocol/request.js');

const PARTITIONS = 4;
const topics = { rewards: 'bench_rewards', episodes: 'bench_episodes', preferences: 'bench_prefs', dlq: 'bench_dlq' };
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
const partitioner = placedFirstPartitioner();
const ctx = {
  counts: { lookup: async (ts: readonly string[]) => new Map(ts.map((t) => [t, PARTITIONS])), invalidate() {}, markUnknown() {} },
  partitioner: new KeyPartitioner(),
  limits: DEFAULT_CHUNK_LIMITS,
  logger: { warn() {}, info() {}, debug() {}, error() {} },
} as unknown as import('../../src/kafka/kafkajs-send.js').PartitionedSendContext;

let digest: ReturnType<typeof createHash> | undefined;
let requestBytes = 0;
let correlationId = 0;

/** kafkajs's producer from sendBatch to the framed request bytes, for a single broker (sendMessages.js). */
const sendBatch: SendBatch = async ({ topicMessages }) => {
  const topicDataForBroker = topicMessages!.map(({ topic, messages }) => {
    const messagesPerPartition = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner });
    return { topic, partitions: Object.keys(messagesPerPartition).map(Number), messagesPerPartition };
  });
  const topicData = createTopicData(topicDataForBroker);
  const request = produceV3({ acks: -1, timeout: 30000, compression: 0, topicData });
  const encoded = await encodeRequest({ correlationId: correlationId++, clientId: 'agent-credit', request });
  const bytes: Buffer = encoded.buf.subarray(0, encoded.offset);
  requestBytes += bytes.length;
  digest?.update(bytes);
  return topicData.flatMap(({ topic, partitions }: { topic: string; partitions: { partition: number }[] }) =>
    partitions.map(({ partition }) => ({ topicName: topic, partition, errorCode: 0 })),
  );
};

const passes = Math.max(3, Number(process.env.PASSES ?? 12));
const sendEpisodes = Math.max(1, Number(process.env.SEND_EPISODES ?? 25));
const fleet = await fleetRecords(Number(process.env.EPISODES ?? 1500), 20261125, 'otlp_proto');

async function fleetEvents() {
  const assembler = new EpisodeAssembler({ maxOpenEpisodes: 1_000_000 });
  for (const r of fleet.spanRecords) assembler.addSpans(decodeTraces(r.value, fleet.encoding));
  for (const l of fleet.logRecords) assembler.addEvaluations(evaluationsFromLogs(decodeLogs(l.value, fleet.encoding)));
  const out = [];
  for (const episode of assembler.flush('shutdown')) out.push(await processCheckedEpisode(episode));
  return out;
}

const profiles = loopProfiles();
const cpu: number[] = [];
const main: number[] = [];
let events = 0;
let sha1 = '';
for (let pass = 0; pass < passes; pass++) {
  const batch = await fleetEvents();
  digest = pass === 0 ? createHash('sha1') : undefined;
  requestBytes = 0;
  if (pass === passes - 3) await profiles.start();
  const main0 = mainThreadCpuSeconds();
  const cpu0 = process.cpuUsage();
  events = 0;
  for (let at = 0; at < batch.length; at += sendEpisodes) {
    const records: OutgoingRecord[] = [];
    for (const result of batch.slice(at, at + sendEpisodes)) {
      // as KafkaPipeline's credit step (kafka-pipeline.ts) turns an episode's events into records
      const credited = creditedFromEvents(result);
      for (let i = 0; i < credited.facts.length; i++) records.push(publishableFactsRecord(credited.facts[i]!, credited.value(i), topics, 1_000_000).record);
      events += credited.facts.length;
    }
    await sendPartitioned(sendBatch, records, ctx);
  }
  const used = process.cpuUsage(cpu0);
  cpu.push((used.user + used.system) / 1000);
  const main1 = mainThreadCpuSeconds();
  if (main0 !== undefined && main1 !== undefined) main.push((main1 - main0) * 1000);
  if (digest) sha1 = digest.digest('hex');
}
await profiles.write();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(
  `${passes} passes of ${events} events → ${(requestBytes / 1e6).toFixed(1)} MB of Produce requests per pass; CPU per pass: min ${ms(Math.min(...cpu))}, median ${ms(median(cpu))}` +
    (main.length === cpu.length ? `; main thread median ${ms(median(main))}` : '') +
    `; SHA-1 of the first pass's requests ${sha1}`,
);
