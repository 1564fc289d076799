/**
 * ACLs, on a broker of this test's own that authorizes (StandardAuthorizer; everything allowed
 * where no ACL names the resource):
 * - `agent-credit check` with exactly-once delivery: a principal denied the TransactionalId
 *   resources `run` claims (`<groupId>-<input topic>-<partition>`) cannot publish a thing, and
 *   check says so, naming the ACL to grant; allowed, it says that too;
 * - `agent-credit run` (startKafkaJob) for a principal the brokers refuse the consumer group: its
 *   consumer crashes for good, and the job names the Group ACL to grant, not a restart.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { pino } from 'pino';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { createTopics, unique } from './support/kafka-io.js';

let kafka: RunningKafka;

beforeAll(async () => {
  kafka = await startKafka({
    extraProperties: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'allow.everyone.if.no.acl.found': 'true',
    },
  });
}, 180_000);

afterAll(async () => {
  await kafka?.stop();
});

describe('agent-credit check, exactly-once: transactional ids', () => {
  it('fails naming the TransactionalId ACL when the principal may not claim run\'s transactional ids; ok when it may', async () => {
    const base = unique('check-tx');
    const denied = `${base}-denied`;
    const allowed = `${base}-allowed`;
    const plain = new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-plain' });
    await createTopics(plain, [`${base}.spans`], 2);
    const admin = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.createAcls({
        acl: [{ resourceType: AclResourceTypes.TRANSACTIONAL_ID, resourceName: `${denied}-`, resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:ANONYMOUS', host: '*', operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.DENY }],
      });
    } finally {
      await admin.disconnect();
    }
    // what run meets: its partition producer's claim is refused
    const runs = plain.createTransactionalProducer({ transactionalId: `${denied}-${base}.spans-0` });
    await expect(runs.connect()).rejects.toThrow(); // kafkajs: 'Failed to find group coordinator' (its log says why)
    await runs.disconnect().catch(() => undefined);

    const config = (groupId: string) =>
      loadConfig({
        env: {},
        overrides: {
          source: { kind: 'kafka', kafka: { brokers: [kafka.brokers], groupId, spansTopic: `${base}.spans`, logsTopic: null } },
          sinks: { live: { enabled: false }, kafka: { delivery: 'exactly-once', topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
        },
      }).config;

    const refused = await runChecks(config(denied));
    expect(refused.ok).toBe(false);
    expect(renderCheckReport(refused)).toMatch(new RegExp(`✗ exactly-once: the broker refused a transactional id under "${denied}-${base}\\.spans-" \\(.*\\) — run claims one per input partition \\(${denied}-<input topic>-<partition>\\) and would publish nothing: grant this principal Describe and Write on TransactionalId resources with the prefix "${denied}-"`));

    const fine = await runChecks(config(allowed));
    expect(renderCheckReport(fine)).toContain(`✓ exactly-once: this principal may claim transactional ids under "${allowed}-${base}.spans-"`);
    expect(fine.ok).toBe(true);
  });
});

/**
 * An ACL on Group `groupId` for the anonymous principal, once the broker's authorizer applies it: it
 * does so as it reads the metadata log, a moment after createAcls answers — a job started at once
 * could join before a DENY took effect (seen under load).
 */
async function groupAcl(groupId: string, acl: { operation: number; permissionType: number }): Promise<void> {
  const admin = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const resource = { resourceType: AclResourceTypes.GROUP, resourceName: groupId, resourcePatternType: ResourcePatternTypes.LITERAL };
    const entry = { ...resource, principal: 'User:ANONYMOUS', host: '*', ...acl };
    await admin.createAcls({ acl: [entry] });
    const deadline = Date.now() + 10_000;
    while ((await admin.describeAcls(entry)).resources.length === 0) {
      if (Date.now() > deadline) throw new Error(`the ACL on group ${groupId} did not take effect within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

describe('agent-credit run: the consumer group refused to the principal', () => {
  // On this broker the job logged "kafka consumer crashed and will not restart" with kafkajs's
  // "Failed to find group coordinator" (the brokers' GROUP_AUTHORIZATION_FAILED only in kafkajs's
  // log), then "agent-credit is not live (/healthz fails): a restart is what helps" — a restart is
  // refused the same way until the ACL is granted.
  async function notLiveLine(groupId: string, base: string, acl: { operation: number; permissionType: number }) {
    await groupAcl(groupId, acl);
    const lines: { msg: string; level: number; reason?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [kafka.brokers], groupId, spansTopic: `${base}.spans`, logsTopic: null } },
        sinks: { stdout: { enabled: false }, live: { enabled: false }, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      },
    });
    const job = await startKafkaJob(config, logger);
    try {
      const deadline = Date.now() + 15_000;
      while (!lines.some((l) => l.msg.startsWith('agent-credit is not live')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return lines.find((l) => l.msg.startsWith('agent-credit is not live'));
    } finally {
      await job.stop();
    }
  }

  it('names the Group Read ACL to grant, not a restart: no ACL lets it describe the group (the first join), or only Describe does', async () => {
    const base = unique('run-group-acl');
    await createTopics(new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-plain' }), [`${base}.spans`], 1);
    // denied outright: the brokers refuse FindCoordinator, and kafkajs says "Failed to find group coordinator"
    const denied = await notLiveLine(`${base}-denied`, base, { operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.DENY });
    // Describe but not Read: the JoinGroup is refused ("Not authorized to access group")
    const describeOnly = await notLiveLine(`${base}-describe`, base, { operation: AclOperationTypes.DESCRIBE, permissionType: AclPermissionTypes.ALLOW });
    for (const [line, groupId] of [[denied, `${base}-denied`], [describeOnly, `${base}-describe`]] as const) {
      expect(line?.msg).toBe('agent-credit is not live (/healthz fails): the brokers refuse this principal the consumer group — a restart fails the same way until the ACL the reason names is granted');
      expect(line?.reason).toContain(`this principal may not use the consumer group "${groupId}" (source.kafka.groupId)`);
      expect(line?.reason).toContain(`grant this principal Read on the Group resource "${groupId}"`);
    }
    expect(denied?.reason).toMatch(/Failed to find group coordinator: the brokers answered GROUP_AUTHORIZATION_FAILED/);
  }, 60_000);
});
