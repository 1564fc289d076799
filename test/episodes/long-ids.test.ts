/**
 * Conversation and response ids are held as sent up to 256 bytes, a longer one as its head and the
 * digest of the whole (conventions/text.ts `boundedId`): they outlive their episodes — closed
 * conversations, the response index, evaluations waiting for their spans — and go into every event
 * and the commit metadata. An instrumentation that wrote a whole session or response into the id
 * kept each such string: 1,000 one-span runs with 100 kB response ids held 100 MB after every
 * episode closed, 1,000 closed conversations with 100 kB ids 99 MB (the memories hold 100,000).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseEvaluationRecords } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Span } from '../../src/model/telemetry.js';

/** A full GC (V8's gc, exposed at run time: the test runner's workers are not started with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A 100 kB id, distinct per n, built fresh (as a decoder builds it). */
const long = (n: number) => `${n}:${'x'.repeat(100_000)}`.slice(0, 100_000);
const traceOf = (n: number) => (n + 1).toString(16).padStart(32, '0');
const span = (n: number, attributes: Span['attributes']): Span => ({
  traceId: traceOf(n),
  spanId: '1'.repeat(16),
  name: 'chat',
  kind: 1,
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  attributes: { 'gen_ai.operation.name': 'chat', ...attributes },
  events: [],
  links: [],
  status: { code: 0 },
  resource: { attributes: {} },
  scope: { name: 'test' },
});
const received = { receivedAtUnixNano: 1n };

/** Heap grown by `run`, after a full GC on both sides. */
function heapGrownBy(run: () => void): number {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  run();
  collectGarbage();
  return process.memoryUsage().heapUsed - before;
}

describe('long conversation and response ids', () => {
  it('gen_ai.response.id: not held whole after its episode closed; an evaluation record naming it still joins', () => {
    const asm = new EpisodeAssembler({});
    const grown = heapGrownBy(() => {
      for (let n = 0; n < 1_000; n++) {
        asm.addSpans([span(n, { 'gen_ai.response.id': long(n) })]);
        asm.flush('shutdown');
      }
    });
    expect(grown).toBeLessThan(20_000_000); // 100 MB without the fix
    const [verdict] = parseEvaluationRecords(JSON.stringify({ response_id: long(999), name: 'relevance', score: 1 }), received).evaluations;
    expect(asm.resolveEvaluation(verdict!)).toMatchObject({ traceId: traceOf(999), spanId: '1'.repeat(16) });
    // a caller's own Evaluation with the id as sent joins the same way
    expect(asm.resolveEvaluation({ name: 'relevance', score: 1, responseId: long(999), source: 'evaluations-stream', timeUnixNano: 1n })).toMatchObject({ traceId: traceOf(999) });
  });

  it('gen_ai.conversation.id: closed conversations do not hold it whole; their verdicts still join them', () => {
    const asm = new EpisodeAssembler({ keyBy: 'conversation', retainClosedBytes: 0 });
    const closed: Array<[string, number]> = [];
    const ids = new Set<string>();
    const grown = heapGrownBy(() => {
      for (let n = 0; n < 1_000; n++) {
        asm.addSpans([span(n, { 'gen_ai.conversation.id': long(n) })]);
        asm.addEvaluations(parseEvaluationRecords(JSON.stringify({ conversation_id: long(n), name: 'task_success', score: 1 }), received).evaluations);
        for (const e of asm.flush('root-ended')) {
          closed.push([e.closeReason, e.evaluations.length]);
          expect(Buffer.byteLength(e.episodeId)).toBeLessThanOrEqual('conv:'.length + 256); // 100,005 without the fix: in every event
          ids.add(e.episodeId);
        }
      }
    });
    expect(grown).toBeLessThan(20_000_000); // 99 MB without the fix
    expect(closed).toEqual(Array.from({ length: 1_000 }, () => ['evaluation-arrived', 1])); // each closed by its own verdict
    expect(ids.size).toBe(1_000); // ids of one head and another digest: a conversation each
  });
});
