/**
 * The events as the consumer thread handles them (src/events/credited-events.ts): a credit
 * worker's packed form (facts + JSON bytes in one transferred buffer) publishes the same records,
 * writes the same lines and keeps the same standings as the event objects.
 */
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import { creditedFromEvents, eventFacts, eventsJsonBytes, packEvents, unpackEvents, type CreditedEvents } from '../../src/events/credited-events.js';
import { eventJson, rememberEventJson } from '../../src/events/event-json.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { correctionReporter } from '../../src/runtime/episode-log.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { LiveSink } from '../../src/sinks/live/live-sink.js';
import { publishableEventRecord, publishableFactsRecord } from '../../src/sinks/kafka/event-records.js';
import { StdoutSink } from '../../src/sinks/stdout/stdout-sink.js';
import { creditStatusOf } from '../../src/telemetry/self-metrics.js';

/** Each episode's events, of every scenario kind (pairs, first errors, failure roles), plus one episode whose texts are not ASCII. */
let episodes: CreditEvent[][] = [];
beforeAll(async () => {
  const asm = new EpisodeAssembler({});
  let seed = 1;
  for (const kind of ['success', 'redundant', 'saboteur', 'error-retry', 'failure'] as const) {
    const run = await generateScenario({ kind, convention: 'genai', seed: seed++ });
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  }
  episodes = await Promise.all(asm.flush('shutdown').map((e) => processEpisode(e, {})));
  episodes.push(episodes[0]!.map((e) => (e.event_type === 'message_reward' ? { ...e, agent_name: 'agent é — 🙂' } : e)));
}, 60_000);

/** As a credit worker sends them: packed, cloned with the buffer transferred, unpacked. */
function crossed(events: readonly CreditEvent[]): CreditedEvents {
  const packed = packEvents(events);
  return unpackEvents(structuredClone(packed, { transfer: [packed.bytes] }));
}

const topics = { rewards: 'r', episodes: 'e', preferences: 'p', dlq: 'd' };
const bytesOf = (v: string | Uint8Array) => Buffer.from(typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

describe('credited events', () => {
  it('cover every event type, a first error and failure roles', () => {
    const all = episodes.flat();
    expect(new Set(all.map((e) => e.event_type))).toEqual(new Set(['episode_credit', 'message_reward', 'preference_pair']));
    expect(all.some((e) => e.event_type === 'episode_credit' && e.first_error !== undefined)).toBe(true);
    expect(all.some((e) => e.event_type === 'message_reward' && e.failure_role !== undefined)).toBe(true);
  });

  it('packed: each value is the UTF-8 of eventJson, each text is eventJson, each fact is eventFacts of the event', () => {
    for (const events of episodes) {
      const c = crossed(events);
      expect(c.facts).toEqual(events.map(eventFacts));
      events.forEach((e, i) => {
        expect(Buffer.isBuffer(c.value(i))).toBe(true);
        expect(bytesOf(c.value(i)).equals(Buffer.from(eventJson(e), 'utf8'))).toBe(true);
        expect(c.text(i)).toBe(eventJson(e));
        expect(c.text(i)).toBe(JSON.stringify(e));
      });
    }
  });

  it('publish the same records as the events, oversize dead letters included', () => {
    for (const max of [1_000_000, 600]) {
      let oversize = 0;
      for (const events of episodes) {
        const c = crossed(events);
        events.forEach((e, i) => {
          const a = publishableEventRecord(e, topics, max);
          const b = publishableFactsRecord(c.facts[i]!, c.value(i), topics, max);
          expect(b.tooLargeBytes).toBe(a.tooLargeBytes);
          if (a.tooLargeBytes !== undefined) oversize++;
          expect({ ...b.record, value: bytesOf(b.record.value) }).toEqual({ ...a.record, value: bytesOf(a.record.value) });
        });
      }
      if (max < 1_000) expect(oversize).toBeGreaterThan(0);
    }
  });

  it('keep the same standings, credit status and correction log as the events', () => {
    const fromEvents = new AgentBoard();
    const fromFacts = new AgentBoard();
    const logged: unknown[][] = [[], []];
    const reporters = [0, 1].map((k) => correctionReporter({ info: ((o: unknown, m: string) => void logged[k]!.push([o, m])) as never }));
    for (const events of episodes) {
      const facts = crossed(events).facts;
      fromEvents.add(events);
      fromFacts.add(facts);
      expect(creditStatusOf(facts)).toEqual(creditStatusOf(events));
      const revised = { episodeId: events[0]!.episode_id, revision: 1, closeReason: 'idle', lateSpans: 1, keyMode: 'trace', evaluations: [] } as never;
      reporters[0]!(revised, events);
      reporters[1]!(revised, facts);
    }
    expect(fromFacts.snapshot({ totals: true })).toEqual(fromEvents.snapshot({ totals: true }));
    expect(logged[1]).toEqual(logged[0]);
    expect(logged[0]!.length).toBeGreaterThan(0);
  });

  it('the events on this thread are their own facts; each value is the UTF-8 of eventJson, each text is eventJson', () => {
    for (const events of episodes) {
      const c = creditedFromEvents(events);
      expect(c.facts).toBe(events);
      // asked out of order: the bytes are written for all events at the first ask
      for (const i of [...events.keys()].reverse()) {
        expect(Buffer.isBuffer(c.value(i))).toBe(true);
        expect(bytesOf(c.value(i)).equals(Buffer.from(JSON.stringify(events[i]), 'utf8'))).toBe(true);
        expect(c.text(i)).toBe(JSON.stringify(events[i]));
      }
    }
  });

  it('write the bytes of a remembered text and of events JSON.stringify writes (not shaped as outcomeToEvents builds them)', () => {
    const events = episodes[episodes.length - 1]!;
    const odd = events.map((e, i) => (i % 2 === 0 ? ({ extra: i, ...e } as unknown as CreditEvent) : e));
    const remembered = { ...events[0]! } as CreditEvent;
    rememberEventJson(remembered, '{"remembered":"é"}');
    const c = creditedFromEvents([...odd, remembered]);
    odd.forEach((e, i) => expect(bytesOf(c.value(i)).toString('utf8')).toBe(JSON.stringify(e)));
    expect(bytesOf(c.value(odd.length)).toString('utf8')).toBe('{"remembered":"é"}');
  });

  it('eventsJsonBytes: the same bytes when the episode is larger than the scratch buffer it keeps', () => {
    const all = episodes.flat();
    const reps = Math.ceil((1.2 * (1 << 20)) / Buffer.byteLength(all.map((e) => JSON.stringify(e)).join('')));
    const big = Array.from({ length: reps }, () => all).flat();
    const { bytes, ends } = eventsJsonBytes(big);
    expect(bytes.length).toBeGreaterThan(1 << 20);
    expect(ends.length).toBe(big.length);
    expect(bytes.equals(Buffer.from(big.map((e) => JSON.stringify(e)).join(''), 'utf8'))).toBe(true);
    // and the next (small) episode after it
    expect(eventsJsonBytes(episodes[0]!).bytes.equals(Buffer.from(episodes[0]!.map((e) => JSON.stringify(e)).join(''), 'utf8'))).toBe(true);
  });

  it('write the same stdout lines and live feed as the events', async () => {
    const write = async (publish: (s: StdoutSink) => Promise<void>, eventTypes?: CreditEvent['event_type'][]) => {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      const written: string[] = [];
      const sink = new StdoutSink({ stream, ...(eventTypes ? { eventTypes } : {}), onWritten: (es) => written.push(...es.map((e) => e.event_id)) });
      await publish(sink);
      await sink.flush();
      return { text: Buffer.concat(chunks).toString(), written };
    };
    for (const types of [undefined, ['message_reward' as const]]) {
      for (const events of episodes) {
        const a = await write((s) => s.publish(events), types);
        const b = await write((s) => s.publishCredited(crossed(events)), types);
        expect(b).toEqual(a);
      }
    }
    const options = { host: '127.0.0.1', port: 0, bufferEvents: 1_000, maxClients: 1 };
    const live = [new LiveSink(options), new LiveSink(options)];
    for (const events of episodes) {
      live[0]!.publish(events);
      live[1]!.publishCredited(crossed(events));
    }
    expect(live[1]!.recent()).toEqual(live[0]!.recent());
    expect(live[1]!.agents()).toEqual(live[0]!.agents());
  });
});
