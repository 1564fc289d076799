/**
 * The replay filter's length under brokers whose offset.metadata.max.bytes is not Kafka's default
 * (replayMetadataBudget): the commit must still be one kafkajs can send. kafkajs writes the offset
 * metadata of OffsetCommit and TxnOffsetCommit as a STRING with an int16 length (the protocol's
 * non-flexible versions, the only ones it speaks), so past 32,767 bytes it throws a RangeError while
 * encoding the request — brokers at 64 KiB took a filter of up to 60,800 bytes, and with ~900 open
 * runs on a partition every commit of it failed so, never read as a refusal the filter shortens on.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { KafkajsClient } from '../../src/kafka/index.js';
import { decodeReplayMetadata, encodeReplayMetadata, replayKeeps, replayMetadataBudget } from '../../src/runtime/watermark.js';

const require = createRequire(import.meta.url);
type Request = { encode: () => Promise<unknown> };
const offsetCommit = require('kafkajs/src/protocol/requests/offsetCommit/v5/request.js') as (r: object) => Request;
const txnOffsetCommit = require('kafkajs/src/protocol/requests/txnOffsetCommit/v1/request.js') as (r: object) => Request;

/** `n` distinct 32-hex trace ids, deterministic. */
function traceIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32));
}

/** The commit requests kafkajs sends for this metadata, encoded as it encodes them. */
async function encodeCommits(metadata: string): Promise<void> {
  const topics = [{ topic: 'agent-spans', partitions: [{ partition: 0, offset: '1000', metadata }] }];
  await offsetCommit({ groupId: 'g', groupGenerationId: 1, memberId: 'm', topics }).encode();
  await txnOffsetCommit({ transactionalId: 't', groupId: 'g', producerId: 1, producerEpoch: 0, topics }).encode();
}

describe('the replay filter sized to the brokers\' offset.metadata.max.bytes', () => {
  it.each([65_536, 1_048_576, 2_147_483_647])('brokers at %i: the filter of 1,000 open runs is one kafkajs can send, and still names every run', async (limit) => {
    const budget = replayMetadataBudget(limit);
    const held = traceIds(1_000);
    const metadata = encodeReplayMetadata('123456', held, budget, 'tx-17');
    await expect(encodeCommits(metadata)).resolves.toBeUndefined();
    expect(Buffer.byteLength(metadata)).toBeLessThanOrEqual(32_767);
    const filter = decodeReplayMetadata(metadata);
    for (const id of held) expect(replayKeeps(filter, '100', id)).toBe(true);
  });

  it('at and below the 32,767 bytes kafkajs can send, the same share of the limit as under Kafka\'s default', () => {
    expect(replayMetadataBudget(200)).toBe(185);
    expect(replayMetadataBudget(4_095)).toBe(3_799);
    expect(replayMetadataBudget(16_384)).toBe(15_200);
    expect(replayMetadataBudget(32_767)).toBe(30_399);
    expect(replayMetadataBudget(65_536)).toBe(30_399);
  });
});

/**
 * Brokers with differing settings (a rolling change of this static setting): the offset commits go
 * to the group's coordinator, any of them. The first broker's setting was taken: at 64 KiB with a
 * coordinator at Kafka's default, the filter was sized ~8× what the coordinator takes, and commits
 * were refused (OFFSET_METADATA_TOO_LARGE) until it had been halved down to it.
 */
describe('KafkajsClient: broker settings read from every broker (offsetMetadataMaxBytes, sessionTimeoutRange)', () => {
  /** A KafkajsClient whose kafkajs admin answers DescribeConfigs with `settings` (node id → value, undefined: no answer). */
  function clientWith(settings: ReadonlyMap<number, string | Readonly<Record<string, string>> | undefined>): KafkajsClient {
    const client = new KafkajsClient({ brokers: ['127.0.0.1:1'] });
    const admin = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      describeCluster: async () => ({ brokers: [...settings.keys()].map((nodeId) => ({ nodeId, host: 'b', port: 9092 })), controller: 0, clusterId: 'c' }),
      describeConfigs: async ({ resources }: { resources: { type: number; name: string; configNames: string[] }[] }) => ({
        throttleTime: 0,
        resources: resources.map((r) => {
          const value = settings.get(Number(r.name));
          return value === undefined
            ? { errorCode: 29, errorMessage: 'Cluster authorization failed', resourceName: r.name, resourceType: r.type, configEntries: [] }
            : { errorCode: 0, errorMessage: null, resourceName: r.name, resourceType: r.type, configEntries: r.configNames.map((configName) => ({ configName, configValue: typeof value === 'string' ? value : value[configName], readOnly: true, isDefault: false, configSource: 4, isSensitive: false })) };
        }),
      }),
    };
    (client as unknown as { kafka: { admin: () => typeof admin } }).kafka.admin = () => admin;
    return client;
  }

  it('the lowest of the brokers\' settings, whichever broker is listed first', async () => {
    const admin = await clientWith(new Map([[1, '65536'], [2, '4096'], [3, '65536']])).admin();
    expect(await admin.offsetMetadataMaxBytes!()).toBe(4_096);
  });

  it('unknown when a broker does not say (the coordinator may be that one): sized for the default, shortened on refusal', async () => {
    const admin = await clientWith(new Map([[1, '65536'], [2, undefined]])).admin();
    expect(await admin.offsetMetadataMaxBytes!()).toBeUndefined();
  });
  /**
   * The same flaw in check's session-timeout line: the first broker's group.{min,max}.session.timeout.ms
   * was taken, while the group's coordinator — any broker — checks the join. A timeout inside the
   * first's range and outside the coordinator's passed check and was refused at run's join.
   */
  it('the session-timeout range every broker accepts: the highest min and the lowest max', async () => {
    const admin = await clientWith(new Map([
      [1, { 'group.min.session.timeout.ms': '6000', 'group.max.session.timeout.ms': '1800000' }],
      [2, { 'group.min.session.timeout.ms': '10000', 'group.max.session.timeout.ms': '300000' }],
    ])).admin();
    expect(await admin.sessionTimeoutRange!()).toEqual({ min: 10_000, max: 300_000 });
  });

  it('no session-timeout range when a broker does not say it (check then skips the line)', async () => {
    const admin = await clientWith(new Map([[1, { 'group.min.session.timeout.ms': '6000', 'group.max.session.timeout.ms': '1800000' }], [2, undefined]])).admin();
    expect(await admin.sessionTimeoutRange!()).toBeUndefined();
  });
});
