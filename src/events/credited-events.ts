/**
 * An episode's credit events in the form the consumer thread handles them: per event what that
 * thread reads of it (its facts) and its JSON text.
 *
 * The consumer thread routes and publishes events, keeps the fleet's standings, counts credited
 * episodes and logs corrections; none of that reads an event's texts or most of its numbers.
 * An event built on this thread is its own facts (a CreditEvent is an EventFacts). A credit
 * worker (src/runtime/credit-workers) sends only the facts and the events' JSON as UTF-8 bytes
 * in one transferred buffer: deserializing and collecting the whole event objects on the consumer
 * thread cost ~18 % of it. Both forms feed the same code (`CreditedEvents`).
 */
import { eventJson, writeEventJson } from './event-json.js';
import { JsonBytes } from './json-bytes.js';
import type { CreditEvent, EpisodeCredit, MessageReward, PreferencePair } from './schemas.js';

/** Header fields every fact keeps: routing (key), record headers, standings (episode, revision, time), oversize dead letters. */
type HeaderFacts = 'event_type' | 'event_id' | 'schema_version' | 'episode_id' | 'episode_revision' | 'trace_ids' | 'emitted_at_ms';

/** What the standings (src/events/agent-board.ts), the correction log and `creditStatusOf` read of an episode_credit. */
export type EpisodeCreditFacts = Pick<EpisodeCredit, HeaderFacts | 'outcome' | 'system_value'> & {
  readonly estimator: Pick<EpisodeCredit['estimator'], 'status'>;
  readonly agents: readonly Pick<EpisodeCredit['agents'][number], 'agent_id' | 'agent_name' | 'credit'>[];
  readonly first_error?: Pick<NonNullable<EpisodeCredit['first_error']>, 'agent_id'>;
};

/** What the standings read of a message_reward (its agent keys the record). */
export type MessageRewardFacts = Pick<MessageReward, HeaderFacts | 'agent_id' | 'agent_name' | 'step_id' | 'failure_role'> & {
  readonly components: Pick<MessageReward['components'], 'sabotage' | 'redundancy'>;
};

/** A preference_pair: its agent keys the record; the standings count it by event id. */
export type PreferencePairFacts = Pick<PreferencePair, HeaderFacts | 'agent_id'>;

/** What the consumer thread reads of an event besides its JSON. Every CreditEvent is one. */
export type EventFacts = EpisodeCreditFacts | MessageRewardFacts | PreferencePairFacts;

/** An episode's events as the consumer thread handles them. */
export interface CreditedEvents {
  /** Per event, in order. */
  readonly facts: readonly EventFacts[];
  /** Event i's JSON (`eventJson`) for a Kafka record: the text, or its UTF-8 bytes. */
  value(i: number): string | Uint8Array;
  /** Event i's JSON as text (the stdout and live sinks). */
  text(i: number): string;
}

/**
 * Events built on this thread: their own facts, their JSON by `eventJson`. A record's value is a
 * view of all the events' JSON bytes, written when the first is asked for (`eventsJsonBytes`):
 * the produce path copies bytes, so building each text first only to encode it was work twice.
 */
export function creditedFromEvents(events: readonly CreditEvent[]): CreditedEvents {
  let packed: { readonly bytes: Buffer; readonly ends: readonly number[] } | undefined;
  return {
    facts: events,
    value: (i) => {
      const { bytes, ends } = (packed ??= eventsJsonBytes(events));
      return bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
    },
    text: (i) => eventJson(events[i]!),
  };
}

/** The writer withEventsJson reuses (taken while in use, so a nested call gets its own). */
let spare: JsonBytes | undefined;

/**
 * `take` of the events' JSON (`eventJson`'s text) as UTF-8 bytes end to end in `w.buf[0, w.at)`
 * and each event's end offset: written into a reused scratch buffer, which `take` copies out.
 */
function withEventsJson<T>(events: readonly CreditEvent[], take: (w: JsonBytes, ends: number[]) => T): T {
  const w = spare ?? new JsonBytes();
  spare = undefined;
  try {
    const ends: number[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      writeEventJson(w, events[i]!);
      ends[i] = w.at;
    }
    return take(w, ends);
  } finally {
    w.reset();
    spare = w;
  }
}

/** The events' JSON (`eventJson`'s text) as UTF-8 bytes end to end in a Buffer of their size, and each event's end offset. */
export function eventsJsonBytes(events: readonly CreditEvent[]): { bytes: Buffer; ends: number[] } {
  return withEventsJson(events, (w, ends) => ({ bytes: w.copy(), ends }));
}

/**
 * The facts of `e` and nothing else, as a credit worker sends them (built member by member: a
 * copy of the event would cross whole). Pure.
 */
export function eventFacts(e: CreditEvent): EventFacts {
  const { event_type, event_id, schema_version, episode_id, episode_revision, trace_ids, emitted_at_ms } = e;
  switch (e.event_type) {
    case 'episode_credit':
      return {
        event_type: 'episode_credit',
        event_id,
        schema_version,
        episode_id,
        episode_revision,
        trace_ids,
        emitted_at_ms,
        outcome: e.outcome,
        system_value: e.system_value,
        estimator: { status: e.estimator.status },
        agents: e.agents.map((a) => ({ agent_id: a.agent_id, agent_name: a.agent_name, credit: a.credit })),
        ...(e.first_error !== undefined ? { first_error: { agent_id: e.first_error.agent_id } } : {}),
      };
    case 'message_reward':
      return {
        event_type: 'message_reward',
        event_id,
        schema_version,
        episode_id,
        episode_revision,
        trace_ids,
        emitted_at_ms,
        agent_id: e.agent_id,
        agent_name: e.agent_name,
        step_id: e.step_id,
        ...(e.failure_role !== undefined ? { failure_role: e.failure_role } : {}),
        components: { sabotage: e.components.sabotage, redundancy: e.components.redundancy },
      };
    default:
      return { event_type: 'preference_pair', event_id, schema_version, episode_id, episode_revision, trace_ids, emitted_at_ms, agent_id: e.agent_id };
  }
}

/**
 * Events packed for another thread: their facts, and their JSON as UTF-8 bytes end to end in one
 * ArrayBuffer (to transfer, not copy) with each event's end offset.
 */
export interface PackedEvents {
  readonly facts: EventFacts[];
  readonly bytes: ArrayBuffer;
  readonly ends: number[];
}

export function packEvents(events: readonly CreditEvent[]): PackedEvents {
  return withEventsJson(events, (w, ends) => {
    // an ArrayBuffer of its own (a pooled Buffer's cannot be transferred)
    const bytes = new ArrayBuffer(w.at);
    w.buf.copy(new Uint8Array(bytes), 0, 0, w.at);
    return { facts: events.map(eventFacts), bytes, ends };
  });
}

/**
 * `PackedEvents` received: event i's value is a view of its bytes (a Buffer, as the produce path
 * takes it); its text is decoded when a sink asks, once.
 */
export function unpackEvents(packed: PackedEvents): CreditedEvents {
  const buf = Buffer.from(packed.bytes);
  const { facts, ends } = packed;
  const start = (i: number) => (i === 0 ? 0 : ends[i - 1]!);
  const texts: string[] = [];
  return {
    facts,
    value: (i) => buf.subarray(start(i), ends[i]),
    text: (i) => (texts[i] ??= buf.toString('utf8', start(i), ends[i])),
  };
}
