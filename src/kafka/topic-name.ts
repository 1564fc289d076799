/**
 * A Kafka topic name as the brokers take it: letters, digits, `.`, `_` and `-`, at most 249
 * characters, not `.` or `..` (Kafka's `Topic.validate`). Another name passed the config and
 * `check` ("will be created at start", or "does not exist"), and `run` stopped at the output
 * topics' creation with kafkajs's bare "Topic creation errors", naming neither the setting nor why.
 */
import { z } from 'zod';

const LEGAL = /^[a-zA-Z0-9._-]+$/;
const MAX_LENGTH = 249;

/** Why `name` is not a topic name the brokers take, or undefined when it is one. */
export function topicNameProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return 'not a Kafka topic name (the brokers refuse . and ..)';
  if (name.length > MAX_LENGTH) return `a Kafka topic name is at most ${MAX_LENGTH} characters, this one has ${name.length}`;
  if (!LEGAL.test(name)) {
    const bad = [...new Set([...name].filter((c) => !LEGAL.test(c)))].map((c) => (c === ' ' ? 'a space' : JSON.stringify(c))).join(', ');
    return `not a Kafka topic name, which holds letters, digits, '.', '_' and '-' only (not ${bad}): the brokers refuse it`;
  }
  return undefined;
}

/** A topic name setting: checked as the brokers check it (the check is not part of the JSON Schema). */
export const KafkaTopicNameSchema = z
  .string()
  .min(1)
  .superRefine((name, ctx) => {
    const problem = topicNameProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
