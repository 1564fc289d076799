/**
 * The brokers refusing this principal the consumer group (GROUP_AUTHORIZATION_FAILED): with ACLs
 * and no Read on Group `source.kafka.groupId`, kafkajs's consumer crashes for good — at its first
 * join ("Failed to find group coordinator": the refusal itself is only in kafkajs's log, and the
 * client names it, kafkajs-client.ts), or later (a heartbeat after the ACL was removed: "Not
 * authorized to access group"). A restart is refused the same way until the ACL is granted.
 */

/** Whether a consumer's error is the brokers refusing the group to this principal. */
export function isGroupAuthorizationRefusal(error: string | undefined): boolean {
  return error !== undefined && /GROUP_AUTHORIZATION_FAILED|Not authorized to access group/i.test(error);
}

/** What is wrong and the fix, naming the setting and the ACL (as `agent-credit check` names ACLs to grant). */
export function groupAclMissing(groupId: string): string {
  return `this principal may not use the consumer group "${groupId}" (source.kafka.groupId): the brokers refuse it the group, and nothing is read — grant this principal Read on the Group resource "${groupId}" (Read implies Describe; e.g. kafka-acls.sh --add --allow-principal User:<name> --operation Read --group ${groupId}), or set source.kafka.groupId to a group it may use`;
}

/** The same for `agent-credit view`, whose group is new at each start (`<source.kafka.groupId>.view.<host>.<pid>.<ms>`): a prefixed ACL. */
export function viewGroupAclMissing(groupId: string, prefix: string): string {
  return `this principal may not use the view's consumer group "${groupId}": the brokers refuse it the group, and nothing is read — the view makes a new group at each start (source.kafka.groupId, then ".view.<host>.<pid>.<ms>"): grant this principal Read on Group resources with the prefix "${prefix}" (e.g. kafka-acls.sh --add --allow-principal User:<name> --operation Read --resource-pattern-type prefixed --group ${prefix})`;
}
