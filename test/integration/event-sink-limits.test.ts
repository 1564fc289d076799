/**
 * KafkaEventSink (the non-transactional sink for publishing events outside the pipeline) keeps
 * `maxRecordBytes` as the pipeline does: an event over it is not sent to its topic — where a topic
 * sized for maxRecordBytes would refuse it on every retry — but described in the dead-letter topic.
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { KafkaEventSink, DLQ_HEADERS } from '../../src/sinks/kafka/index.js';
import { eventRecord } from '../../src/sinks/kafka/event-records.js';
import { recordBytes } from '../../src/kafka/produce-chunks.js';
import { client, header, parseEvents, readTopics, unique } from './support/kafka-io.js';
import { referenceEvents } from './support/pipeline-harness.js';

describe('KafkaEventSink record limit (real broker)', () => {
  it('describes an event over sinks.kafka.maxRecordBytes in the dead-letter topic and publishes the rest', async () => {
    const c = client();
    const runs = await generateFleet({ episodes: 2, seed: 5 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const events = await referenceEvents(
      gen.spans.map((r) => ({ topic: 'x', key: null, value: r.value })),
      gen.logs.map((r) => ({ topic: 'x', key: null, value: r.value })),
    );
    const base = unique('sink-limit');
    const topics = { rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
    const maxRecordBytes = 1_500;
    const over = events.filter((e) => recordBytes(eventRecord(e, topics)) > maxRecordBytes);
    expect(over.length).toBeGreaterThan(0);
    expect(over.length).toBeLessThan(events.length);

    const sink = new KafkaEventSink(c, { topics, partitions: 1, maxRecordBytes });
    await sink.start();
    try {
      await sink.publish(events);
    } finally {
      await sink.close();
    }
    expect(sink.eventsTooLarge()).toBe(over.length);
    const published = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= events.length - over.length, 10_000));
    expect(published.map((e) => e.event_id).sort()).toEqual(events.filter((e) => !over.includes(e)).map((e) => e.event_id).sort());
    const dlq = await readTopics(c, [topics.dlq], (rs) => rs.length >= over.length, 10_000);
    expect(dlq.map((r) => JSON.parse(new TextDecoder().decode(r.value!)).event_id).sort()).toEqual(over.map((e) => e.event_id).sort());
    expect(header(dlq[0]!, DLQ_HEADERS.error)).toMatch(/over sinks\.kafka\.maxRecordBytes 1500: raise sinks\.kafka\.maxRecordBytes/);
  }, 60_000);
});
