/**
 * One KafkaPipeline instance of a scale-out run (./instances-run.ts), in a worker thread of its
 * own: its own V8 heap, event loop, kafkajs client and group membership — what a second process
 * of the job would have, without process start-up. Built by pipeline-run.ts's buildPipeline, so
 * it is configured exactly as the single-instance runs are.
 *
 * Its consumer holds every fetched batch (heartbeating) until the main thread says `go`: the
 * first member to join takes every partition and would start at once, and the group only
 * rebalances when the second joins — a timed window with a rebalance in it measures the group
 * protocol (and replays revoked partitions), not the pipeline. A held batch is dropped when the
 * rebalance makes it stale and fetched again by its new owner.
 */
import '../../src/kafka/kafkajs-module.js';
import { parentPort } from 'node:worker_threads';
import type { BatchControl, ConsumerHandlers, KafkaClient, RecordBatch } from '../../src/kafka/client.js';
import type { KafkaPipelineStats } from '../../src/runtime/kafka-counters.js';
import { buildPipeline, loadStages, withMethods, type Harness } from './pipeline-run.js';

export type ToInstance =
  | { kind: 'run'; index: number; brokers: string; spansTopic: string; logsTopic: string; tag: string; compression: 'none' | 'lz4' }
  | { kind: 'go' }
  | { kind: 'stop' };

export type FromInstance =
  | { kind: 'ready' }
  | { kind: 'started' }
  /** The first span reached the assembler; `at` is performance.timeOrigin + performance.now(). */
  | { kind: 'first'; at: number }
  /** `lastAckAt`: when the broker last acknowledged this instance's events (performance.timeOrigin + performance.now()). */
  | { kind: 'stats'; stats: KafkaPipelineStats; lastAckAt?: number }
  | { kind: 'stopped'; stats: KafkaPipelineStats }
  | { kind: 'failed'; message: string };

const port = parentPort;
if (!port) throw new Error('bench/pipeline/instance-worker.ts runs as a worker thread (see instances-run.ts)');
const post = (m: FromInstance) => port.postMessage(m);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let open = false;

/** `client` whose consumers hold each batch until `open` (see the header). */
function gated(client: KafkaClient): KafkaClient {
  return withMethods(client, {
    createConsumer: (options) => {
      const consumer = client.createConsumer(options);
      return withMethods(consumer, {
        run: (handlers: ConsumerHandlers) =>
          consumer.run({
            ...handlers,
            onBatch: async (batch: RecordBatch, control: BatchControl) => {
              while (!open) {
                if (control.isStale() || !control.isRunning()) return;
                await control.heartbeat(); // a rebalance under way ends this batch (and the wait) here
                await sleep(20);
              }
              return handlers.onBatch(batch, control);
            },
          }),
      });
    },
  });
}

const stages = await loadStages();
let harness: Harness | undefined;
let timer: NodeJS.Timeout | undefined;

port.on('message', (m: ToInstance) => {
  void (async () => {
    try {
      if (m.kind === 'run') {
        open = false;
        const h = (harness = buildPipeline(stages, m.brokers, { spansTopic: m.spansTopic, logsTopic: m.logsTopic }, m.tag, 4, undefined, m.compression, { onStart: () => post({ kind: 'first', at: performance.timeOrigin + performance.now() }) }, {
          wrapClient: gated,
          // the waiting member learns of the second one's join at its next heartbeat
          source: { heartbeatIntervalMs: 100, sessionTimeoutMs: 10_000 },
          clientId: `bench-${m.tag}-${m.index}`,
        }));
        await h.pipeline.start();
        if (harness !== h) return; // stopped while it started: no stats to report
        post({ kind: 'started' });
        timer = setInterval(() => {
          const ack = h.lastAckAt();
          post({ kind: 'stats', stats: h.pipeline.stats(), ...(ack !== undefined ? { lastAckAt: performance.timeOrigin + ack } : {}) });
        }, 10);
      } else if (m.kind === 'go') {
        open = true;
      } else if (m.kind === 'stop') {
        clearInterval(timer);
        const h = harness;
        harness = undefined;
        await h?.pipeline.stop();
        post({ kind: 'stopped', stats: h ? h.pipeline.stats() : ({} as KafkaPipelineStats) });
      }
    } catch (err) {
      post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  })();
});
post({ kind: 'ready' });
