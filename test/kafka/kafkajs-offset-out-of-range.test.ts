import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/kafka/kafkajs-module.js';
import { installKafkajsOffsetOutOfRange } from '../../src/kafka/kafkajs-offset-out-of-range.js';

const require = createRequire(import.meta.url);
const ConsumerGroup = require(join(dirname(require.resolve('kafkajs/package.json')), 'src/consumer/consumerGroup.js')) as {
  prototype: { recoverFromOffsetOutOfRange(this: unknown, e: { topic: string; partition: number }): Promise<void> };
};

/** The parts of a kafkajs ConsumerGroup the recovery touches, recording what it does. */
function group(options: { autoCommit?: boolean; follower?: boolean; logStart?: string } = {}) {
  const did: string[] = [];
  const g = {
    groupId: 'g',
    memberId: 'm',
    preferredReadReplicasPerTopicPartition: options.follower ? { t: { 0: 2 } } : {},
    offsetManager: {
      autoCommit: options.autoCommit ?? false,
      topicConfigurations: { t: { fromBeginning: true } },
      committedOffsets: () => ({ t: { 0: '4' } }),
      resolveOffset: ({ offset }: { offset: string }) => void did.push(`resolve ${offset}`),
      setDefaultOffset: async () => void did.push('commit -2'),
    },
    cluster: { fetchTopicsOffset: async () => (did.push('list offsets'), [{ topic: 't', partitions: [{ partition: 0, offset: options.logStart ?? '7' }] }]) },
    logger: { info() {}, error() {}, warn: (msg: string) => void did.push(`warn ${msg}`) },
  };
  return { g, did };
}

describe("kafkajs's recovery from OFFSET_OUT_OF_RANGE (kafkajs-offset-out-of-range.ts)", () => {
  it('is installed on the kafkajs the product loads', () => {
    expect(installKafkajsOffsetOutOfRange(require)).toEqual({ installed: true });
  });

  it('moves the fetch position to the log start without committing, and says so', async () => {
    const { g, did } = group();
    await ConsumerGroup.prototype.recoverFromOffsetOutOfRange.call(g, { topic: 't', partition: 0 });
    expect(did[0]).toBe('list offsets');
    expect(did[1]).toMatch(/^warn Offset out of range .*reading from offset 7/);
    expect(did[2]).toBe('resolve 6'); // resolveOffset names the last offset done: the next fetch is at 7
    expect(did).not.toContain('commit -2');
  });

  it("keeps kafkajs's own recovery for a fetch from a follower and with autoCommit", async () => {
    for (const options of [{ follower: true }, { autoCommit: true }]) {
      const { g, did } = group(options);
      await ConsumerGroup.prototype.recoverFromOffsetOutOfRange.call(g, { topic: 't', partition: 0 });
      expect(did).not.toContain('list offsets');
      expect(did).not.toContain('resolve 6');
    }
  });
});
