/**
 * The demo fleet: generated multi-agent runs (src/scenarios, recorded with the real OTel SDK)
 * sent through the real OTLP/HTTP exporters to the receiver, batch after batch, so credit
 * appears within seconds. Each batch uses the next seed: the stream is reproducible.
 */
import { generateFleet, sendScenario } from '../scenarios/index.js';
import type { Logger } from '../telemetry/logger.js';

export interface DemoOptions {
  /** Receiver base URL, e.g. http://127.0.0.1:4318 */
  endpoint: string;
  /** Runs per batch. */
  episodesPerBatch: number;
  /** Ms between batches. */
  intervalMs: number;
  /** Stop after this many batches; 0 = until stopped. */
  batches: number;
  seed: number;
  /** Sent with every export, e.g. the receiver's bearer token. */
  headers?: Record<string, string>;
  logger: Logger;
}

export interface DemoFleet {
  /** Resolves when the last batch was sent (never for batches = 0 until stop()). */
  readonly finished: Promise<void>;
  stop(): void;
}

export function startDemoFleet(o: DemoOptions): DemoFleet {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => (resolveFinished = r));
  let batch = 0;
  const sendBatch = async () => {
    if (stopped) return resolveFinished();
    const seed = o.seed + batch;
    try {
      const runs = await generateFleet({ episodes: o.episodesPerBatch, seed, baseTimeMs: Date.now(), spacingMs: 50 });
      const sent = await sendScenario(o.endpoint, runs, { protocol: batch % 2 === 0 ? 'http/protobuf' : 'http/json', ...(o.headers ? { headers: o.headers } : {}) });
      o.logger.info({ batch, seed, runs: runs.length, ...sent }, 'demo fleet sent a batch');
    } catch (err) {
      o.logger.warn({ batch, err: (err as Error).message }, 'demo fleet batch failed');
    }
    batch++;
    if (stopped || (o.batches > 0 && batch >= o.batches)) return resolveFinished();
    timer = setTimeout(() => void sendBatch(), o.intervalMs);
    // The receiver keeps the process alive; the demo must not.
    timer.unref();
  };
  void sendBatch();
  return {
    finished,
    stop() {
      stopped = true;
      clearTimeout(timer);
      resolveFinished();
    },
  };
}
