import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { TimeSlicer } from '../../src/runtime/time-slicer.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { decodeTraces } from '../../src/otlp/index.js';

/** Burns `ms` of CPU on this thread, as on-thread credit does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

describe('TimeSlicer', () => {
  it('lets a turn run until the slice is used, then yields once and opens a new slice', async () => {
    let t = 0;
    const slicer = new TimeSlicer(10, () => t);
    expect(slicer.yieldIfDue()).toBeUndefined(); // opens the slice at t = 0
    t = 9;
    expect(slicer.yieldIfDue()).toBeUndefined();
    t = 10;
    const turn = slicer.yieldIfDue();
    expect(turn).toBeInstanceOf(Promise);
    await turn;
    expect(slicer.yieldCount).toBe(1);
    // After the event loop's turn a new slice starts where the work resumes.
    t = 15;
    expect(slicer.yieldIfDue()).toBeUndefined();
    t = 24;
    expect(slicer.yieldIfDue()).toBeUndefined();
    t = 25;
    expect(slicer.yieldIfDue()).toBeInstanceOf(Promise);
  });

  it('runs callbacks that were waiting (timers, I/O) before the work resumes', async () => {
    const order: string[] = [];
    let t = 0;
    const slicer = new TimeSlicer(5, () => t);
    await slicer.yieldIfDue();
    setTimeout(() => order.push('timer'), 0);
    // A chain of promise continuations, as credit is: without a yield the timer waits for all of it.
    for (let i = 0; i < 20; i++) {
      t += 1;
      await slicer.yieldIfDue();
      busy(1); // give the 0 ms timer time to be due
      order.push(`work ${i}`);
    }
    expect(order.indexOf('timer')).toBeGreaterThan(0);
    expect(order.indexOf('timer')).toBeLessThan(order.length - 1);
  });
});

describe('LocalPipeline time slicing', () => {
  it('gives the event loop turns while a backlog of closed episodes is credited on this thread', async () => {
    const spans = [];
    for (let seed = 1; seed <= 30; seed++) {
      const s = await generateScenario({ kind: 'success', convention: 'genai', seed });
      spans.push(...decodeTraces(s.tracesProto, 'otlp_proto'));
    }
    let credited = 0;
    const pipeline = new LocalPipeline(
      { creditQueueMax: 1000, creditConcurrency: 4, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
      {
        assembler: new EpisodeAssembler({ graceMs: 60_000, closeOnEvaluation: true }),
        // Synchronous CPU work behind a promise, like the built-in games.
        processEpisode: () => {
          busy(3);
          credited++;
          return Promise.resolve([]);
        },
        evaluationsFromLogs,
        sinks: [],
      },
    );
    pipeline.start();
    pipeline.onSpans(spans);
    let creditedWhenTimerRan = -1;
    setTimeout(() => (creditedWhenTimerRan = credited), 0);
    await pipeline.stop(); // closes all 30 episodes at once: ~90 ms of credit
    expect(credited).toBe(30);
    // Without slicing the whole backlog ran as one chain of microtasks and the timer saw 30.
    expect(creditedWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(creditedWhenTimerRan).toBeLessThan(30);
  });
});
