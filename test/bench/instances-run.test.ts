/**
 * bench/pipeline/instances-run.ts drives instance threads by messages; these fake threads (no
 * broker, no pipeline) answer as instance-worker.ts does, or die, to check the harness's waits.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { BenchContext } from '../../bench/lib/section.js';
import type { FromInstance, ToInstance } from '../../bench/pipeline/instance-worker.js';
import { runPipelineInstances, type InstancePool } from '../../bench/pipeline/instances-run.js';

const ctx = { seed: 1, quick: true, baseline: false, kafka: true, repo: '.', workDir: '.', log: () => undefined } satisfies BenchContext;
const topics = { spansTopic: 's', logsTopic: 'l', episodes: 10, spans: 100 };
const stats = (assignedPartitions: number, episodesClosed: number) => ({ assignedPartitions, episodesClosed, inFlight: 0, queueDepth: 0, spansIn: 50 }) as never;

/** A fake instance thread: `reply` answers each message the harness posts. */
function fakeThread(reply: (m: ToInstance, post: (m: FromInstance) => void, thread: EventEmitter) => void): Worker {
  const thread = new EventEmitter();
  const post = (m: FromInstance) => setImmediate(() => thread.emit('message', m));
  Object.assign(thread, { postMessage: (m: ToInstance) => setImmediate(() => reply(m, post, thread)) });
  return thread as unknown as Worker;
}

/** Runs as instance-worker.ts does: joins with half the input, closes half the episodes after `go`. */
const healthy = () =>
  fakeThread((m, post) => {
    if (m.kind === 'run') {
      post({ kind: 'started' });
      post({ kind: 'stats', stats: stats(4, 0) });
    } else if (m.kind === 'go') {
      post({ kind: 'first', at: performance.timeOrigin + performance.now() });
      post({ kind: 'stats', stats: stats(4, 5) });
    } else post({ kind: 'stopped', stats: stats(4, 5) });
  });

const pool = (...workers: Worker[]): InstancePool => ({ workers, close: async () => undefined });

describe('bench scale-out harness (instances-run.ts)', () => {
  it('measures two instances that share the input', async () => {
    const run = await runPipelineInstances(ctx, 'b:9092', topics, pool(healthy(), healthy()));
    expect(run.stats.episodesClosed).toBe(10);
    expect(run.seconds).toBeGreaterThanOrEqual(0);
  });

  it('an instance thread that dies fails the run at once, naming it, instead of waiting out every deadline', async () => {
    const dying = fakeThread((m, _post, thread) => {
      if (m.kind !== 'run') return; // dead: answers nothing more
      setImmediate(() => {
        thread.emit('error', new Error('boom in the instance thread'));
        thread.emit('exit', 1);
      });
    });
    const started = Date.now();
    await expect(runPipelineInstances(ctx, 'b:9092', topics, pool(healthy(), dying))).rejects.toThrow(/instance 2: .*boom in the instance thread/);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 15_000);

  it('a failure is not hidden by an instance that does not answer stop', async () => {
    // instance 2 fails to start and then answers stop with a failure too (not 'stopped')
    const failing = fakeThread((m, post) => post({ kind: 'failed', message: m.kind === 'run' ? 'input topic missing' : 'stop failed' }));
    const started = Date.now();
    await expect(runPipelineInstances(ctx, 'b:9092', topics, pool(healthy(), failing))).rejects.toThrow('instance 2: input topic missing');
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 15_000);
});
