import { describe, expect, it, vi } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeLogs } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import type { Logger } from '../../src/telemetry/logger.js';

/** OTLP/JSON: `n` gen_ai.evaluation.result events emitted outside any trace context (no trace, conversation or response id; `attributes` added). */
const idless = (n: number, attributes: { key: string; value: { stringValue: string } }[] = []) =>
  decodeLogs(
    new TextEncoder().encode(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: Array.from({ length: n }, () => ({
                  timeUnixNano: '1700000000000000000',
                  eventName: 'gen_ai.evaluation.result',
                  attributes: [
                    { key: 'gen_ai.evaluation.name', value: { stringValue: 'task_success' } },
                    { key: 'gen_ai.evaluation.score.value', value: { doubleValue: 1 } },
                    ...attributes,
                  ],
                })),
              },
            ],
          },
        ],
      }),
    ),
    'otlp_json',
  );

describe('LocalPipeline: evaluation log records refused for carrying no id, in the log', () => {
  // the warning is at most once per 30 s: the ones held back went out only with a later refusal,
  // so an evaluator that sent a few batches and stopped was logged as its first batch alone
  it('logs the ones held back at a later tick even when no more come', () => {
    vi.useFakeTimers();
    try {
      const warned: { obj: Record<string, unknown>; msg: string }[] = [];
      const logger = { warn: (obj: object, msg: string) => void warned.push({ obj: obj as Record<string, unknown>, msg }), error: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Logger;
      const pipeline = new LocalPipeline(
        { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 },
        { assembler: new EpisodeAssembler({ graceMs: 60_000 }), processEpisode: async () => [], evaluationsFromLogs, sinks: [], logger },
      );
      expect(pipeline.onLogs(idless(2))).toMatchObject({ rejected: 2 });
      expect(pipeline.onLogs(idless(3))).toMatchObject({ rejected: 3 });
      expect(pipeline.onLogs(idless(4))).toMatchObject({ rejected: 4 });
      const rejectedLines = () => warned.filter((w) => w.msg.startsWith('evaluation log record(s) without trace id'));
      expect(rejectedLines().map((w) => w.obj.rejected)).toEqual([2]);
      vi.advanceTimersByTime(30_000);
      pipeline.tick();
      expect(rejectedLines().map((w) => w.obj.rejected)).toEqual([2, 7]);
      expect(pipeline.stats().evaluationsRejected).toBe(9);
      vi.advanceTimersByTime(30_000);
      pipeline.tick();
      expect(rejectedLines()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  // Keyed by trace, a verdict that names only its conversation joins nothing: it was taken (no
  // partial_success) and then counted unjoinable by the assembler, so the exporter never learnt it.
  it.each([
    ['trace', 1],
    ['conversation', 0],
  ] as const)('with episodes.keyBy %s, refuses %i event(s) naming only a gen_ai.conversation.id', (keyBy, refused) => {
    const pipeline = new LocalPipeline(
      { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 },
      { assembler: new EpisodeAssembler({ keyBy }), processEpisode: async () => [], evaluationsFromLogs, sinks: [] },
    );
    const answer = pipeline.onLogs(idless(1, [{ key: 'gen_ai.conversation.id', value: { stringValue: 'chat-7' } }]));
    if (refused === 0) expect(answer).toBeUndefined();
    else expect(answer).toMatchObject({ rejected: 1, errorMessage: expect.stringMatching(/gen_ai\.conversation\.id \(with episodes\.keyBy: conversation\)/) });
    expect(pipeline.stats().evaluationsRejected).toBe(refused);
  });
});
