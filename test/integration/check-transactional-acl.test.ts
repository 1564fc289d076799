/**
 * `agent-credit check` with exactly-once delivery, on a broker of this test's own that authorizes
 * (StandardAuthorizer; everything allowed where no ACL names the resource): a principal denied the
 * TransactionalId resources `run` claims (`<groupId>-<input topic>-<partition>`) cannot publish a
 * thing, and check says so, naming the ACL to grant; allowed, it says that too.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
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
