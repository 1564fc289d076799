/**
 * `agent-credit view` after a rejoin (the broker went away and came back, a session timeout):
 * each partition resumes after the last record the view read — the view commits no offsets, so
 * kafkajs would start it over, and seeking to --since again fed the board the whole window twice.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startViewJob, type ViewJob } from '../../src/cli/view-job.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { FakeKafka } from '../kafka/fake-kafka.js';

const topics = { episodes: 'v.episodes', rewards: 'v.rewards', preferences: 'v.preferences' };
const config = () =>
  loadConfig({
    env: {},
    overrides: { source: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:1'], groupId: 'v' } }, sinks: { live: { port: 0, host: '127.0.0.1' }, kafka: { topics: { ...topics, dlq: 'v.dlq' } } } },
  }).config;

describe('view: a rejoin', () => {
  let job: ViewJob | undefined;
  afterEach(async () => {
    await job?.stop();
    job = undefined;
  });

  it('resumes each partition after the last record read, not at --since again', async () => {
    const fake = new FakeKafka();
    fake.endOffsets.set(topics.episodes, [{ partition: 0, offset: '10', low: '0' }, { partition: 1, offset: '4', low: '2' }]);
    job = await startViewJob(config(), { logger: createLogger('silent'), sinceMs: null, client: fake });
    const assignment = [{ topic: topics.episodes, partition: 0 }, { topic: topics.episodes, partition: 1 }];
    fake.assign(assignment);
    expect(fake.seeks.splice(0)).toEqual([{ ...assignment[0], offset: '0' }, { ...assignment[1], offset: '2' }]);
    await fake.deliver(topics.episodes, 0, [0, 1, 2, 3, 4].map((offset) => ({ value: 'not an event', offset })));
    expect(job.stats().skipped).toBe(5);

    fake.assign(assignment); // the group joined again
    // partition 0 after offset 4; partition 1, not read yet, still from where the window starts
    expect(fake.seeks.splice(0)).toEqual([{ ...assignment[0], offset: '5' }, { ...assignment[1], offset: '2' }]);
  });
});

describe('view: a start that fails before the consumer is made', () => {
  it('connects no second admin client to delete a group that was never joined (a broker out of reach waited out its retries twice)', async () => {
    class Counting extends FakeKafka {
      admins = 0;
      override async admin() {
        this.admins++;
        return super.admin();
      }
    }
    const fake = new Counting();
    fake.missingTopicNames.add(topics.rewards);
    await expect(startViewJob(config(), { logger: createLogger('silent'), sinceMs: null, client: fake })).rejects.toThrow(/sinks\.kafka\.topics\.rewards: v\.rewards not on the cluster/);
    expect(fake.admins).toBe(1);
    expect(fake.deletedGroups).toEqual([]);
  });
});

describe('view: a record that claims to be an event but lacks what the standings read', () => {
  let job: ViewJob | undefined;
  afterEach(async () => {
    await job?.stop();
    job = undefined;
  });

  it('is skipped and counted — it threw in the batch handler, which kafkajs retries for ever: the partition stopped there', async () => {
    const fake = new FakeKafka();
    fake.endOffsets.set(topics.episodes, [{ partition: 0, offset: '3', low: '0' }]);
    job = await startViewJob(config(), { logger: createLogger('silent'), sinceMs: null, client: fake });
    fake.assign([{ topic: topics.episodes, partition: 0 }]);
    const header = { schema_version: '1.0.0', event_id: 'e'.repeat(32), episode_id: 't'.repeat(32), episode_revision: 0, trace_ids: ['t'.repeat(32)], emitted_at_ms: 1 };
    const records = [
      { schema_version: '1.0.0', event_type: 'episode_credit' }, // hand-written, a test message
      { ...header, event_type: 'episode_credit', outcome: 'success', system_value: 1, agents: [{ agent_id: 'a' }] },
      { ...header, event_type: 'message_reward', step_id: 's', agent_id: 'a', agent_name: 'a' },
    ];
    const resolved = await fake.deliver(topics.episodes, 0, records.map((r, offset) => ({ value: JSON.stringify(r), offset })));
    expect(resolved).toEqual(['2']);
    expect(job.stats()).toMatchObject({ events: 0, skipped: 3, caughtUp: 1 });
  });
});

describe('view: a consumer that stopped for good', () => {
  it('fails /healthz, so that an orchestrator restarts the view — it served frozen standings as live', async () => {
    const fake = new FakeKafka();
    const job = await startViewJob(config(), { logger: createLogger('silent'), sinceMs: null, client: fake });
    try {
      fake.assign([]);
      expect((await fetch(`${job.liveUrl}/healthz`)).status).toBe(200);
      fake.handlers!.onState!('crashed', { error: 'retrying', restart: true });
      expect((await fetch(`${job.liveUrl}/healthz`)).status).toBe(200);
      fake.handlers!.onState!('crashed', { error: 'Not authorized to access group', restart: false });
      const res = await fetch(`${job.liveUrl}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/the Kafka consumer stopped for good: Not authorized to access group/);
    } finally {
      await job.stop();
    }
  });

  // after an outage kafkajs restarts the crashed consumer, which connects and then waits to join:
  // /readyz kept the crash's connection error with the brokers back and answering
  it('says it is joining again once the restarted consumer has connected, naming the crash', async () => {
    const fake = new FakeKafka();
    const job = await startViewJob(config(), { logger: createLogger('silent'), sinceMs: null, client: fake });
    try {
      fake.assign([]);
      fake.handlers!.onState!('crashed', { error: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', restart: true });
      const detail = async () => ((await (await fetch(`${job.liveUrl}/readyz`)).json()) as { components: { kafka: { detail: string } } }).components.kafka.detail;
      expect(await detail()).toMatch(/^consumer crashed: Connection error/);
      fake.handlers!.onState!('joining');
      expect(await detail()).toBe('joining the group again after a crash (Connection error: connect ECONNREFUSED 127.0.0.1:9092): the brokers answer');
      fake.handlers!.onState!('joined');
      expect(await detail()).toBe('reading the output topics');
    } finally {
      await job.stop();
    }
  });

  // kafkajs's text named only the brokers' settings; view reads source.kafka.sessionTimeoutMs too
  it('a session timeout the brokers refuse is named as source.kafka.sessionTimeoutMs, with the fix', async () => {
    const fake = new FakeKafka();
    const job = await startViewJob(config(), { logger: createLogger('silent'), sinceMs: null, client: fake });
    try {
      fake.assign([]);
      fake.handlers!.onState!('crashed', { error: 'The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms)', restart: false });
      const res = await fetch(`${job.liveUrl}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/the Kafka consumer stopped for good: The session timeout is not within the range allowed by the broker .* — source\.kafka\.sessionTimeoutMs 30000 is outside the brokers' group\.min\.session\.timeout\.ms … group\.max\.session\.timeout\.ms/);
    } finally {
      await job.stop();
    }
  });
  // kafkajs's "Failed to find group coordinator" / "Not authorized to access group" named no ACL,
  // and the view's line said it would be restarted — a restart is refused the same way
  it('a group the brokers refuse this principal is named, with the prefixed Read ACL to grant', async () => {
    const fake = new FakeKafka();
    const lines: { msg: string; error?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const job = await startViewJob(config(), { logger, sinceMs: null, client: fake });
    try {
      fake.assign([]);
      fake.handlers!.onState!('crashed', { error: 'Not authorized to access group: Group authorization failed', restart: false });
      const res = await fetch(`${job.liveUrl}/healthz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reason: string }).reason).toMatch(/^the Kafka consumer stopped for good: Not authorized to access group: Group authorization failed — this principal may not use the view's consumer group "v\.view\.[^"]+": .*grant this principal Read on Group resources with the prefix "v\.view\."/);
      const line = lines.find((l) => l.msg.startsWith('view: the consumer stopped for good'));
      expect(line?.msg).toBe('view: the consumer stopped for good — the brokers refuse this principal the consumer group — a restart fails the same way until the ACL the error names is granted');
      expect(line?.error).toMatch(/--resource-pattern-type prefixed --group v\.view\.\)?$/);
    } finally {
      await job.stop();
    }
  });
});
