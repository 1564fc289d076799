/**
 * Kafka records for credit events and dead letters. Pure.
 *
 * Event records: JSON value (src/events/schemas.ts), key by event type (see KafkaSinkTopics),
 * headers `content-type`, `x-agent-credit-event-type`, `x-agent-credit-event-id`,
 * `x-agent-credit-schema-version`, so consumers can route or de-duplicate without parsing.
 */
import { createHash } from 'node:crypto';
import type { ConsumedRecord, OutgoingRecord } from '../../kafka/client.js';
import { recordBytes } from '../../kafka/produce-chunks.js';
import type { CreditEvent } from '../../events/schemas.js';
import { eventJson } from '../../events/event-json.js';
import { headUnits } from '../../conventions/text.js';
import type { EventFacts } from '../../events/credited-events.js';
import type { KafkaSinkTopics } from './config.js';

export const DLQ_HEADERS = {
  error: 'x-agent-credit-error',
  sourceTopic: 'x-agent-credit-source-topic',
  sourcePartition: 'x-agent-credit-source-partition',
  sourceOffset: 'x-agent-credit-source-offset',
} as const;

/** Topic and key of an event: rewards and pairs by agent id, episode credits by episode id. */
export function routeEvent(event: EventFacts, topics: KafkaSinkTopics): { topic: string; key: string } {
  switch (event.event_type) {
    case 'message_reward':
      return { topic: topics.rewards, key: event.agent_id };
    case 'preference_pair':
      return { topic: topics.preferences, key: event.agent_id };
    case 'episode_credit':
      return { topic: topics.episodes, key: event.episode_id };
  }
}

export function eventRecord(event: CreditEvent, topics: KafkaSinkTopics): OutgoingRecord {
  return factsRecord(event, eventJson(event), topics);
}

/** The record of an event from its facts and its JSON (`value`: the text or its UTF-8 bytes, as a credit worker sends it). */
export function factsRecord(event: EventFacts, value: string | Uint8Array, topics: KafkaSinkTopics): OutgoingRecord {
  const { topic, key } = routeEvent(event, topics);
  return {
    topic,
    key,
    value,
    headers: {
      'content-type': 'application/json',
      'x-agent-credit-event-type': event.event_type,
      'x-agent-credit-event-id': event.event_id,
      'x-agent-credit-schema-version': event.schema_version,
    },
  };
}

/**
 * Dead letter for an event too large to publish (over `sink.maxRecordBytes`): a JSON description
 * (event id and type, episode, size, limit, what to change) in its place; key = episode id.
 */
export function oversizeEventRecord(event: EventFacts, bytes: number, maxBytes: number, dlqTopic: string): OutgoingRecord {
  // what grows an event: the texts of a pair (cut at conventions.maxTextBytes); a reward has no
  // text (names and ids are cut at 256 bytes): its trace_ids (every turn of a conversation) and
  // causal_inputs, as an episode's credit its agents and trace ids, grow with the episode
  const smaller = event.event_type === 'preference_pair' ? 'lower conventions.maxTextBytes' : 'key by trace rather than by a long conversation, or lower episodes.maxSpansPerEpisode';
  const reason = `${event.event_type} ${event.event_id} is ${bytes} bytes, over sinks.kafka.maxRecordBytes ${maxBytes}: raise sinks.kafka.maxRecordBytes (the output topics' max.message.bytes must be at least that + ${RECORD_OVERHEAD_BYTES} bytes), or ${smaller}`;
  return {
    topic: dlqTopic,
    key: event.episode_id,
    value: JSON.stringify({ kind: 'event_too_large', event_id: event.event_id, event_type: event.event_type, episode_id: event.episode_id, episode_revision: event.episode_revision, bytes, max_bytes: maxBytes, reason }),
    headers: { 'content-type': 'application/json', [DLQ_HEADERS.error]: headUnits(reason, MAX_REASON_CHARS), 'x-agent-credit-event-id': event.event_id },
  };
}

/**
 * Bytes a one-record batch needs beyond the record's value: the batch header (61), the record's
 * own framing, its key (an id) and headers. 16 KiB is far above what the sink writes and small
 * next to any sensible limit.
 */
export const RECORD_OVERHEAD_BYTES = 16 * 1024;

/**
 * The record for an event, or — over `maxBytes` (`sinks.kafka.maxRecordBytes`) — its description
 * for the dead-letter topic (`oversizeEventRecord`), with the event's size: a record the output
 * topic refuses fails its send (and, exactly-once, its transaction) on every retry.
 */
export function publishableEventRecord(event: CreditEvent, topics: KafkaSinkTopics, maxBytes: number): { record: OutgoingRecord; tooLargeBytes?: number } {
  return publishableFactsRecord(event, eventJson(event), topics, maxBytes);
}

/** `publishableEventRecord` from an event's facts and JSON (see `factsRecord`). */
export function publishableFactsRecord(event: EventFacts, value: string | Uint8Array, topics: KafkaSinkTopics, maxBytes: number): { record: OutgoingRecord; tooLargeBytes?: number } {
  const record: { -readonly [K in keyof OutgoingRecord]: OutgoingRecord[K] } = factsRecord(event, value, topics);
  const bytes = recordBytes(record);
  if (bytes > maxBytes) return { record: oversizeEventRecord(event, bytes, maxBytes, topics.dlq), tooLargeBytes: bytes };
  // measured here for the limit: the producer's chunking (placeRecord) takes it instead of measuring again
  record.bytes = bytes;
  return { record };
}

/** Header values are bounded so a huge error message cannot make the record too large (UTF-16 units, cut between characters: headUnits). */
const MAX_REASON_CHARS = 2_000;
/** Trace ids listed in a failed episode's dead letter (the count is given when there are more). */
const MAX_LISTED_TRACES = 1_000;

/**
 * Dead letter for an input record that could not be used: original bytes as value, original key
 * and headers, plus the reason and the source position.
 *
 * Input topics may accept larger records than the dead-letter topic does (OTLP topics often get a
 * raised `max.message.bytes`). A copy over `maxBytes` would fail its send on every retry and stall
 * the partition, so such a record gets a JSON description instead (`kind: record_too_large`:
 * source position, size, SHA-256 of the value, the reason): the bytes stay readable at that
 * position in the input topic until its retention removes them.
 */
export function deadLetterRecord(record: ConsumedRecord, reason: string, dlqTopic: string, maxBytes = Number.POSITIVE_INFINITY): OutgoingRecord {
  const position = {
    [DLQ_HEADERS.sourceTopic]: record.topic,
    [DLQ_HEADERS.sourcePartition]: String(record.partition),
    [DLQ_HEADERS.sourceOffset]: record.offset,
  };
  const copy: OutgoingRecord = {
    topic: dlqTopic,
    key: record.key,
    value: record.value ?? new Uint8Array(0),
    headers: { ...record.headers, [DLQ_HEADERS.error]: headUnits(reason, MAX_REASON_CHARS), ...position },
  };
  const bytes = recordBytes(copy);
  if (bytes <= maxBytes) return copy;
  const value = record.value ?? new Uint8Array(0);
  const described = `${headUnits(reason, MAX_REASON_CHARS)} — the record (${bytes} bytes as a dead letter) is over sinks.kafka.maxRecordBytes ${maxBytes}, so it is described here, not copied: read it at ${record.topic}[${record.partition}]@${record.offset} before the topic's retention removes it, or raise sinks.kafka.maxRecordBytes and the dead-letter topic's max.message.bytes`;
  return {
    topic: dlqTopic,
    key: record.key !== null && record.key.byteLength <= 1_024 ? record.key : null,
    value: JSON.stringify({
      kind: 'record_too_large',
      source_topic: record.topic,
      source_partition: record.partition,
      source_offset: record.offset,
      bytes,
      value_bytes: value.byteLength,
      value_sha256: createHash('sha256').update(value).digest('hex'),
      max_bytes: maxBytes,
      reason: described,
    }),
    headers: { 'content-type': 'application/json', [DLQ_HEADERS.error]: headUnits(described, MAX_REASON_CHARS), ...position },
  };
}

/**
 * Dead letter for an episode whose credit computation failed: a JSON description (episode id,
 * trace ids, source positions) as value, key = episode id.
 */
export function failedEpisodeRecord(
  episode: { episodeId: string; traceIds: readonly string[]; sources: readonly { topic: string; partition: number; firstOffset: string; lastOffset: string }[] },
  reason: string,
  dlqTopic: string,
): OutgoingRecord {
  const first = episode.sources[0];
  return {
    topic: dlqTopic,
    key: episode.episodeId,
    // Bounded like every dead letter (a conversation episode can span many traces; a value
    // function's error text is not ours): an oversize record would fail its send on every retry.
    value: JSON.stringify({
      kind: 'episode_failed',
      episode_id: episode.episodeId,
      trace_ids: episode.traceIds.slice(0, MAX_LISTED_TRACES),
      ...(episode.traceIds.length > MAX_LISTED_TRACES ? { trace_count: episode.traceIds.length } : {}),
      sources: episode.sources,
      reason: headUnits(reason, MAX_REASON_CHARS),
    }),
    headers: {
      'content-type': 'application/json',
      [DLQ_HEADERS.error]: headUnits(`credit failed: ${reason}`, MAX_REASON_CHARS),
      ...(first
        ? { [DLQ_HEADERS.sourceTopic]: first.topic, [DLQ_HEADERS.sourcePartition]: String(first.partition), [DLQ_HEADERS.sourceOffset]: first.firstOffset }
        : {}),
    },
  };
}
