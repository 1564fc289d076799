/**
 * The collector's kafka exporter keys a record by its trace id only with `partition_traces_by_id`
 * (spans) and `partition_logs_by_trace_id` (logs), both off by default: without them a record
 * holds whatever the batch held, under no key, on any partition, and the spans of one agent run —
 * exported in several batches over its seconds — and its evaluation land on different partitions.
 * One instance still puts them together; in a group of several, each instance assembles and
 * credits its share of the trace as the whole episode. `run` warns about it once per topic, and
 * `check --sample` on the sampled records, with this one text.
 */
import type { ConsumedRecord } from '../../kafka/client.js';

const keyText = new TextDecoder();

/** A record's key as text ('' when it has none). */
export const recordKeyText = (record: Pick<ConsumedRecord, 'key'>): string => (record.key === null ? '' : keyText.decode(record.key));

/** The first trace id among `items` that is not the record's key, or undefined when the record is keyed by trace id. */
export function traceNotKeyed(key: string, items: readonly { readonly traceId?: string | undefined }[]): string | undefined {
  return items.find((i) => i.traceId !== undefined && i.traceId !== key)?.traceId;
}

/** What is wrong and the exporter setting that fixes it. */
export function unkeyedAdvice(topic: string, logs: boolean, key: string, traceId: string): string {
  const shown = key === '' ? 'no key' : `key "${key.length > 40 ? `${key.slice(0, 40)}…` : key}"`;
  return `records of ${topic} are not keyed by their trace id (${shown} on a record of trace ${traceId}): set \`${logs ? 'partition_logs_by_trace_id' : 'partition_traces_by_id'}: true\` in the collector's kafka exporter — without it one trace's ${logs ? 'evaluations' : 'spans'} land on several partitions, and with more than one instance in the consumer group each instance credits its part of the trace as a whole episode`;
}
