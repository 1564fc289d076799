import { describe, expect, it, vi } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { expiredEvaluationsReporter } from '../../src/runtime/expired-evaluations.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import type { Logger } from '../../src/telemetry/logger.js';

describe('expiredEvaluationsReporter', () => {
  it('logs evaluations that expired waiting for their spans: once per 30 s with the count since, and again after a fresh assembler', () => {
    const lines: { obj: object; msg: string }[] = [];
    let t = 0;
    const clock = new ManualClock(0);
    const report = expiredEvaluationsReporter({ warn: (obj, msg) => lines.push({ obj, msg }) }, 5_000, 30_000, () => t);
    const asm = new EpisodeAssembler({ pendingEvaluationTtlMs: 5_000 }, clock);
    const verdict = (traceId: string) => ({ name: 'task_success', score: 1, traceId, source: 'log-event' as const, timeUnixNano: 1n });
    asm.addEvaluations([verdict('a'.repeat(32)), verdict('b'.repeat(32))]);
    asm.tick();
    report(asm.stats().expiredEvaluations);
    expect(lines).toEqual([]); // still waiting
    clock.advance(5_001);
    asm.tick();
    report(asm.stats().expiredEvaluations);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.obj).toEqual({ expired: 2, expiredTotal: 2 });
    expect(lines[0]!.msg).toMatch(/waiting 5000 ms \(episodes\.pendingEvaluationTtlMs\).*exports its spans to agent-credit/);
    // the spans may have come before a restart, to an episode that closed without its verdict
    expect(lines[0]!.msg).toMatch(/closed without a verdict before a restart or rebalance/);
    asm.addEvaluations([verdict('c'.repeat(32))]);
    clock.advance(5_001);
    asm.tick();
    t += 10_000;
    report(asm.stats().expiredEvaluations);
    expect(lines).toHaveLength(1); // within 30 s of the last line
    t += 20_000;
    report(asm.stats().expiredEvaluations);
    expect(lines.at(-1)!.obj).toEqual({ expired: 1, expiredTotal: 3 });
    // the Kafka job makes a new assembler per group join: its counter starts again at 0
    t += 30_000;
    report(0);
    report(1);
    expect(lines.at(-1)!.obj).toEqual({ expired: 1, expiredTotal: 1 });
    expect(lines).toHaveLength(3);
  });
});

describe('evaluations dropped over episodes.maxPendingEvaluations are logged as such, not as expired', () => {
  // both were one count, logged "expired after waiting 60000 ms (episodes.pendingEvaluationTtlMs)":
  // a backlog that read the verdicts ahead dropped thousands within seconds, and the line named the TTL
  it('the pipeline\'s tick: a line naming the limit for those, the TTL\'s line for those that waited it out', () => {
    vi.useFakeTimers();
    try {
      const warned: { obj: Record<string, unknown>; msg: string }[] = [];
      const logger = { warn: (obj: object, msg: string) => void warned.push({ obj: obj as Record<string, unknown>, msg }), error: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Logger;
      const assembler = new EpisodeAssembler({ maxPendingEvaluations: 2, pendingEvaluationTtlMs: 5_000 });
      const pipeline = new LocalPipeline(
        { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 },
        { assembler, processEpisode: async () => [], evaluationsFromLogs, sinks: [], logger },
      );
      const verdict = (i: number) => ({ name: 'task_success', score: 1, traceId: String(i).padStart(32, '0'), source: 'log-event' as const, timeUnixNano: 1n });
      assembler.addEvaluations([1, 2, 3, 4, 5].map(verdict)); // 3 go over the limit of 2
      expect(assembler.stats()).toMatchObject({ expiredEvaluations: 3, evaluationsDroppedOverLimit: 3, pendingEvaluations: 2 });
      pipeline.tick();
      expect(warned.map((w) => w.obj)).toEqual([{ dropped: 3, droppedTotal: 3 }]);
      expect(warned[0]!.msg).toMatch(/^evaluation\(s\) dropped unjoined: 2 \(episodes\.maxPendingEvaluations\) were already waiting for the spans of their runs.*raise episodes\.maxPendingEvaluations/);
      expect(warned[0]!.msg).not.toMatch(/pendingEvaluationTtlMs/);
      vi.advanceTimersByTime(30_000); // the two waiting expire
      pipeline.tick();
      expect(assembler.stats()).toMatchObject({ expiredEvaluations: 5, evaluationsDroppedOverLimit: 3 });
      expect(warned.slice(1).map((w) => w.obj)).toEqual([{ expired: 2, expiredTotal: 2 }]);
      expect(warned[1]!.msg).toMatch(/^evaluation\(s\) expired after waiting 5000 ms \(episodes\.pendingEvaluationTtlMs\)/);
    } finally {
      vi.useRealTimers();
    }
  });
});
