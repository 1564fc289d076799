import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { expiredEvaluationsReporter } from '../../src/runtime/expired-evaluations.js';

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
