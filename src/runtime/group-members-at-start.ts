/**
 * Who else is in the job's consumer group, looked at as the Kafka job starts — the warning `check`
 * gives (src/kafka/group-members.ts), which `run` did not: a job started under a group id another
 * job already uses for other topics rebalanced with it, each stopping the other's reading, without
 * a word in either log (found in the platform trial).
 *
 * Read once the input topics are checked, while the output topics are prepared, and before this
 * member joins: the brokers list members' subscriptions only while the group is stable, and this
 * member's join makes it rebalance.
 */
import type { KafkaClient } from '../kafka/client.js';
import { groupMembersLine } from '../kafka/group-members.js';
import type { KafkaLogger } from '../kafka/log.js';
import { withAdmin } from '../kafka/with-admin.js';
import { withTimeout } from './with-timeout.js';

/**
 * Ms the start waits for the group's members once its other preparation is done. Describing the
 * group is one admin connection and two requests, answered well within the preparation of the
 * output topics; a slower answer (kafkajs retries finding the coordinator of a group this
 * principal may not describe for many seconds) is not worth a slower start.
 */
export const GROUP_MEMBERS_WAIT_MS = 1_000;

/** What describing the group gave: its members' line (undefined: nothing to say), or why it could not be had. */
export type GroupMembersAnswer = { readonly line: ReturnType<typeof groupMembersLine> } | { readonly failed: string };

/**
 * Describes the group (KafkaAdmin.groupMembers) and judges its members against `topics`, this
 * job's input topics. Never rejects: a refusal (no Describe ACL on the group — then the join is
 * refused too, Read implies Describe) or a failed connection is an answer. Undefined when the
 * client cannot describe a group.
 */
export async function readGroupMembers(client: KafkaClient, groupId: string, topics: readonly string[]): Promise<GroupMembersAnswer | undefined> {
  try {
    return await withAdmin(client, async (admin) => {
      if (admin.groupMembers === undefined) return undefined;
      return { line: groupMembersLine(groupId, topics, await admin.groupMembers(groupId)) };
    });
  } catch (err) {
    return { failed: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Logs `answer` once it has come, waiting at most `waitMs` for it: a member reading other topics
 * at warn (the line names the fix: another `source.kafka.groupId`); instances reading these topics
 * at debug (scaling out is what they are); a refusal or no answer in time at debug.
 */
export async function reportGroupMembers(answer: Promise<GroupMembersAnswer | undefined>, groupId: string, log: KafkaLogger, waitMs = GROUP_MEMBERS_WAIT_MS): Promise<void> {
  let got: GroupMembersAnswer | undefined;
  try {
    got = await withTimeout(answer, waitMs, `no answer within ${waitMs} ms`);
  } catch (err) {
    got = { failed: err instanceof Error ? err.message : String(err) };
  }
  if (got === undefined) return;
  if ('failed' in got) {
    log.debug({ groupId, err: got.failed }, 'could not describe the consumer group, so whether another job shares source.kafka.groupId is not known (agent-credit check says)');
    return;
  }
  if (got.line === undefined) return;
  if (got.line.status === 'warn') log.warn({ groupId }, got.line.text);
  else log.debug({ groupId }, got.line.text);
}
