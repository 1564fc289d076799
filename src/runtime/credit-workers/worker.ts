/**
 * One credit worker thread: builds the configured game and credit options once (as
 * src/runtime/local-stages.ts does on the main thread), then runs `processEpisode` for every
 * episode the pool sends. Failures of one episode are replies, never a dead worker.
 * Self-tracing: when the OTEL_* environment asks for it, the worker runs its own OTel SDK (the
 * main thread's does not see this thread's spans) and flushes it when the pool closes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DegenerateEpisodeError } from '../../credit/errors.js';
import { packEvents } from '../../events/credited-events.js';
import { eventJson } from '../../events/event-json.js';
import { gameFactoryOf, processOptionsOf, type ConfiguredGame } from '../local-stages.js';
import { processCheckedEpisode, type ProcessEpisodeOptions } from '../process-episode.js';
import { startSelfTracing } from '../../telemetry/self-tracing.js';
import type { PoolMessage, SkippedReply, WorkerInit, WorkerReply } from './protocol.js';
import { SharedStatsWriter } from './shared-stats.js';

const port = parentPort;
if (!port) throw new Error('src/runtime/credit-workers/worker.ts runs only as a worker thread (started by CreditWorkerPool)');
const post = (m: WorkerReply, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

try {
  const init = workerData as WorkerInit;
  // The value function's counters go to memory the pool shares, as soon as one changes: the pool
  // has them all however this worker ends (out of memory, a crash, terminated at the timeout).
  const shared = init.stats ? new SharedStatsWriter(init.stats) : undefined;
  let game: ConfiguredGame = {};
  const onStatsChange = (): void => {
    if (game.stats) shared?.write(game.stats());
  };
  // The job's configuration builds the game (judge client, module) here; in-process options are
  // data only and use the built-in games.
  if ('config' in init) game = await gameFactoryOf(init.config, shared ? { onStatsChange } : {});
  // at 0 from the start, as in the main thread: an alert on increase() sees the first failure
  onStatsChange();
  const base: ProcessEpisodeOptions = 'config' in init ? processOptionsOf(init.config, game.gameFactory) : (init.processOptions as ProcessEpisodeOptions);
  // One options object for every task (processEpisode checks an options object once): a skipped
  // episode's reason is kept per episode object, as tasks may overlap (async games).
  const skippedReasons = new WeakMap<object, SkippedReply>();
  const options: ProcessEpisodeOptions = {
    ...base,
    onSkipped: (e, err) => void skippedReasons.set(e, { message: err.message, ...(err instanceof DegenerateEpisodeError ? { reason: err.reason } : {}) }),
  };
  // The main thread has already refused an export into its own receiver (src/cli/main.ts).
  const selfTracing = init.selfTracing === false ? undefined : startSelfTracing();
  port.on('message', (task: PoolMessage) => {
    if (task.kind === 'close') {
      void (selfTracing?.shutdown() ?? Promise.resolve()).catch(() => undefined).finally(() => post({ kind: 'closed' }));
      return;
    }
    post({ kind: 'started', id: task.id });
    // The value function's last error goes back with every reply: the main thread's
    // failing-value-function warning reads it with the counters (src/runtime/local-stages.ts).
    const gameHealth = () => {
      const error = game.lastError?.();
      return error !== undefined ? { valueFunctionError: error } : {};
    };
    processCheckedEpisode(task.episode, options).then(
      (events) => {
        const skipped = skippedReasons.get(task.episode);
        const extra = { ...gameHealth(), ...(skipped !== undefined ? { skipped } : {}) };
        if (task.packed) {
          const packed = packEvents(events);
          post({ kind: 'credited', id: task.id, packed, ...extra }, [packed.bytes]);
        } else {
          post({ kind: 'done', id: task.id, events, json: events.map(eventJson), ...extra });
        }
      },
      (err: unknown) => post({ kind: 'failed', id: task.id, name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err), ...gameHealth() }),
    );
  });
  post({ kind: 'ready' });
} catch (err) {
  post({ kind: 'fatal', message: (err as Error)?.message ?? String(err), name: (err as Error)?.name ?? 'Error' });
}
