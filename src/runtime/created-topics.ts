/**
 * The line a Kafka job logs at start when it created topics (`sinks.kafka.createTopics`): the
 * output topics, the dead-letter topic among them, and the replay filter side topic. Only `check`
 * said which would be created; `run` created them without a word, and an operator finding new
 * topics on the cluster (with the job's partition count, not the one they would have chosen) had
 * nothing in the job's log to tell where they came from.
 *
 * Pure: what was created in, the line out.
 */

/** The settings the line names each topic by. */
export interface CreatedTopicsSettings {
  /** `sinks.kafka.topics`: setting name → topic. */
  readonly topics: Readonly<Record<string, string>>;
  /** `sinks.kafka.partitions`: every topic the job creates gets this many. */
  readonly partitions: number;
  /** `sinks.kafka.replayFilterTopic`. */
  readonly replayFilterTopic: string | null;
}

/**
 * The info line for the topics this start created (`created`, as KafkaAdmin.ensureTopics answered);
 * undefined when it created none (they all existed: nothing to say). Each topic is named with the
 * settings that name it, the dead-letter topic and the compacted side topic as such.
 */
export function createdTopicsLine(created: readonly string[], settings: CreatedTopicsSettings): { fields: { createdTopics: string[]; partitions: number }; message: string } | undefined {
  const topics = [...new Set(created)];
  if (topics.length === 0) return undefined;
  const named = topics.map((topic) => {
    const keys = Object.entries(settings.topics)
      .filter(([, t]) => t === topic)
      .map(([name]) => `sinks.kafka.topics.${name}${name === 'dlq' ? ': dead letters' : ''}`);
    if (topic === settings.replayFilterTopic) keys.push('sinks.kafka.replayFilterTopic: compacted');
    return `"${topic}"${keys.length > 0 ? ` (${keys.join('; ')})` : ''}`;
  });
  const each = topics.length > 1 ? ' each' : '';
  return {
    fields: { createdTopics: topics, partitions: settings.partitions },
    message: `created ${topics.length > 1 ? 'topics' : 'topic'} ${named.join(', ')}, ${settings.partitions} partition${settings.partitions === 1 ? '' : 's'}${each} (sinks.kafka.createTopics; sinks.kafka.partitions)`,
  };
}
