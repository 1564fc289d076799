/**
 * ACLs, on a broker of this test's own that authorizes (StandardAuthorizer; everything allowed
 * where no ACL names the resource):
 * - `agent-credit check` with exactly-once delivery: a principal denied the TransactionalId
 *   resources `run` claims (`<groupId>-<input topic>-<partition>`) cannot publish a thing, and
 *   check says so, naming the ACL to grant; allowed, it says that too;
 * - `agent-credit check` for a principal the brokers refuse the consumer group names the Group ACL;
 * - `agent-credit run` (startKafkaJob) for a principal the brokers refuse the consumer group: its
 *   consumer crashes for good at its first join, and the start fails naming the Group ACL to grant
 *   (run exits 2), not a restart.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { pino } from 'pino';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { KafkaRefusalError } from '../../src/kafka/refusal-error.js';
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

describe('agent-credit check: the consumer group refused to the principal', () => {
  // check ended its Kafka section with "✗ kafka (…): Failed to find group coordinator", naming
  // neither source.kafka.groupId nor an ACL, and skipped the output topics' lines
  it('fails naming the Group Read ACL on source.kafka.groupId, and goes on with the other lines', async () => {
    const base = unique('check-group-acl');
    await createTopics(new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-plain' }), [`${base}.spans`], 1);
    await groupAcl(`${base}-grp`, { operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.DENY });
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [kafka.brokers], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: null } },
        sinks: { live: { enabled: false }, kafka: { delivery: 'at-least-once', topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      },
    });
    const report = await runChecks(config);
    const text = renderCheckReport(report);
    expect(report.ok).toBe(false);
    expect(text).toContain(`✗ this principal may not use the consumer group "${base}-grp" (source.kafka.groupId): the brokers refuse it the group, and nothing is read — grant this principal Read on the Group resource "${base}-grp"`);
    expect(text).not.toContain('Failed to find group coordinator');
    expect(text).toContain(`sinks.kafka.topics.rewards: "${base}.r" will be created at start`);
  });
});

describe('agent-credit run: the consumer group refused to the principal', () => {
  // On this broker the job logged "kafka consumer crashed and will not restart" with kafkajs's
  // "Failed to find group coordinator" (the brokers' GROUP_AUTHORIZATION_FAILED only in kafkajs's
  // log), then "agent-credit is not live (/healthz fails): a restart is what helps" — a restart is
  // refused the same way until the ACL is granted. The start now fails naming the ACL (run: exit 2).
  async function startRefused(groupId: string, base: string, acl: { operation: number; permissionType: number }) {
    await groupAcl(groupId, acl);
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [kafka.brokers], groupId, spansTopic: `${base}.spans`, logsTopic: null } },
        sinks: { stdout: { enabled: false }, live: { enabled: false }, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      },
    });
    const err = await startKafkaJob(config, logger).then(
      async (job) => (await job.stop(), undefined),
      (e: unknown) => e,
    );
    expect(lines.some((l) => /a restart is what helps/.test(l.msg))).toBe(false);
    return err;
  }

  it('fails the start naming the Group Read ACL to grant, not a restart: no ACL lets it describe the group (the first join), or only Describe does', async () => {
    const base = unique('run-group-acl');
    await createTopics(new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-plain' }), [`${base}.spans`], 1);
    // denied outright: the brokers refuse FindCoordinator, and kafkajs says "Failed to find group coordinator"
    const denied = await startRefused(`${base}-denied`, base, { operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.DENY });
    // Describe but not Read: the JoinGroup is refused ("Not authorized to access group")
    const describeOnly = await startRefused(`${base}-describe`, base, { operation: AclOperationTypes.DESCRIBE, permissionType: AclPermissionTypes.ALLOW });
    for (const [err, groupId] of [[denied, `${base}-denied`], [describeOnly, `${base}-describe`]] as const) {
      expect(err).toBeInstanceOf(KafkaRefusalError); // the CLI exits 2, as for other configuration errors
      expect((err as KafkaRefusalError).refused).toBe('acl');
      const message = (err as Error).message;
      expect(message).toMatch(/^the Kafka consumer stopped for good: the brokers refuse this principal the consumer group, and a restart fails the same way until the ACL is granted: /);
      expect(message).toContain(`this principal may not use the consumer group "${groupId}" (source.kafka.groupId)`);
      expect(message).toContain(`grant this principal Read on the Group resource "${groupId}"`);
    }
    expect((denied as Error).message).toMatch(/Failed to find group coordinator: the brokers answered GROUP_AUTHORIZATION_FAILED/);
  }, 60_000);
});
