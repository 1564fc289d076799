/**
 * `gen_ai.response.id` → the LLM span that recorded it (the first generating one, whatever spans
 * record it after), for the assembler's evaluations that name a response instead of a span
 * (`EpisodeAssembler.resolveEvaluation`): the latest `memory` response ids, the oldest forgotten
 * first (a plain insertion-ordered Map: FIFO is enough).
 *
 * Why a log in front of the Map: every LLM span records its response id, while evaluations that
 * name one are rare (none in most fleets; the bench fleet has none). A Map insert per LLM span —
 * a freshly decoded 25–40 character id hashed into a growing table — cost ~0.5 µs, ~6 ms per
 * bench run on the consumer thread; an append to an array costs a tenth of that. Generating spans
 * are appended to the log and moved into the Map, in order, when a lookup comes (or when the log
 * reaches `memory` entries, which bounds it): the Map then holds exactly what inserting each at
 * once would have. A `fetch_response` span (rare) is applied at once: whether it records anything
 * depends on what the Map holds.
 */

/** The span that recorded a response id. */
export interface ResponseSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Recorded by a `fetch_response` span (which re-reads a response), not by the generating call. */
  readonly fetch: boolean;
}

export class ResponseIndex {
  private readonly byId = new Map<string, ResponseSpan>();
  /** Generating spans noted since the last `index()`, flat: response id, trace id, span id. */
  private readonly log: string[] = [];

  /** @param memory response ids remembered (≥ 1) */
  constructor(private readonly memory: number) {}

  /**
   * Notes that a span recorded `responseId`. A `fetch_response` span names the response only while
   * no generating span is known, and never replaces one: false when it did not record it.
   */
  note(responseId: string, traceId: string, spanId: string, fetch: boolean): boolean {
    if (!fetch) {
      this.log.push(responseId, traceId, spanId);
      if (this.log.length >= 3 * this.memory) this.index();
      return true;
    }
    this.index();
    const known = this.byId.get(responseId);
    if (known !== undefined && !known.fetch) return false;
    this.set(responseId, { traceId, spanId, fetch });
    return true;
  }

  /** The span that recorded `responseId`, while remembered. */
  get(responseId: string): ResponseSpan | undefined {
    this.index();
    return this.byId.get(responseId);
  }

  /** Moves the logged generating spans into the Map, in the order they were noted. */
  private index(): void {
    const log = this.log;
    if (log.length === 0) return;
    for (let i = 0; i < log.length; i += 3) {
      // The first generating span stays: one call recorded twice (a provider SDK's span inside the
      // framework's, rerecorded-calls.ts D1) records one response id, and a verdict that waited for
      // it joined the first span noted — the latest one answering later lookups, the same verdict
      // re-sent was no copy of the held one (other span) and reopened its closed run.
      const known = this.byId.get(log[i]!);
      if (known === undefined || known.fetch) this.set(log[i]!, { traceId: log[i + 1]!, spanId: log[i + 2]!, fetch: false });
    }
    log.length = 0;
  }

  private set(responseId: string, at: ResponseSpan): void {
    this.byId.set(responseId, at);
    if (this.byId.size > this.memory) this.byId.delete(this.byId.keys().next().value!);
  }
}
