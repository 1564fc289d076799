/**
 * One credit worker thread: builds the configured game and credit options once (as
 * src/runtime/local-stages.ts does on the main thread), then runs `processEpisode` for every
 * episode the pool sends. Failures of one episode are replies, never a dead worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gameFactoryOf, processOptionsOf } from '../local-stages.js';
import { processEpisode } from '../process-episode.js';
import type { TaskRequest, WorkerInit, WorkerReply } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('src/runtime/credit-workers/worker.ts runs only as a worker thread (started by CreditWorkerPool)');
const post = (m: WorkerReply) => port.postMessage(m);

try {
  const { config } = workerData as WorkerInit;
  const game = await gameFactoryOf(config);
  const options = processOptionsOf(config, game.gameFactory);
  port.on('message', (task: TaskRequest) => {
    processEpisode(task.episode, options).then(
      (events) => post({ kind: 'done', id: task.id, events, ...(game.stats ? { gameStats: game.stats() } : {}) }),
      (err: unknown) => post({ kind: 'failed', id: task.id, name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) }),
    );
  });
  post({ kind: 'ready' });
} catch (err) {
  post({ kind: 'fatal', message: (err as Error)?.message ?? String(err) });
}
