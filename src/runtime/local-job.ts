/**
 * `agent-credit run` with the embedded OTLP/HTTP source: self-telemetry, sinks (stdout JSON
 * lines, live page), the local pipeline and the receiver, started in that order (sinks before
 * the receiver, so nothing arrives before it can leave) and stopped in reverse.
 */
import type { AppConfig } from '../config/schema.js';
import { startJobOutputs, withListenHint, type JobOutput } from '../http/server-lifecycle.js';
import { StandingsSink } from '../sinks/standings/index.js';
import { resolveJobListeners } from '../http/listener-security.js';
import { watchJobCredentialFiles } from '../http/job-credential-renewal.js';
import { LiveSink } from '../sinks/live/live-sink.js';
import { StdoutSink } from '../sinks/stdout/stdout-sink.js';
import type { EventSink } from '../sinks/types.js';
import { OtlpHttpReceiver } from '../sources/otlp-http/receiver.js';
import type { Logger } from '../telemetry/logger.js';
import { SelfTelemetry } from '../telemetry/self-metrics.js';
import { HealthServer } from './health-server.js';
import { HealthState } from './health.js';
import { throttledCount } from './expired-evaluations.js';
import { LocalPipeline } from './local-pipeline.js';
import { buildLocalStages, type ProcessEpisodeFn } from './local-stages.js';

export interface LocalJob {
  readonly receiverUrl: string;
  readonly liveUrl: string | undefined;
  readonly metricsUrl: string | undefined;
  readonly pipeline: LocalPipeline;
  readonly telemetry: SelfTelemetry;
  readonly health: HealthState;
  /** Graceful: stop receiving, close and credit open episodes, flush and close sinks. */
  stop(): Promise<void>;
}

export interface LocalJobOptions {
  logger: Logger;
  /** Override for tests; default loads src/runtime/process-episode.ts. */
  processEpisode?: ProcessEpisodeFn;
  /** Extra sinks (e.g. a file). */
  sinks?: EventSink[];
  /** How often TLS/token files are looked at for changes (default CREDENTIAL_FILE_CHECK_MS, 15 s). */
  credentialFileCheckMs?: number;
}

export async function startLocalJob(config: AppConfig, options: LocalJobOptions): Promise<LocalJob> {
  const log = options.logger;
  // TLS and token files are read now: a bad one fails the start naming its key, before anything listens.
  const security = resolveJobListeners(config);
  const telemetry = new SelfTelemetry();
  const health = new HealthState();
  health.register('receiver');
  const stages = await buildLocalStages(config, undefined, options.processEpisode, log);

  const sinks: EventSink[] = [...(options.sinks ?? [])];
  if (config.sinks.stdout.enabled) sinks.push(new StdoutSink({ eventTypes: config.sinks.stdout.eventTypes }));
  // the fleet's standings: the live page's agent table and the per-agent gauges and counters on /metrics
  const standings = new StandingsSink();
  sinks.push(standings);
  telemetry.observeAgents(() => standings.board.snapshot({ totals: true }));
  let live: LiveSink | undefined;
  if (config.sinks.live.enabled) {
    live = new LiveSink({ ...config.sinks.live, health, telemetry, board: standings.board, security: security.live });
    sinks.push(live);
  }
  let healthServer: HealthServer | undefined;
  if (config.telemetry.metricsPort !== null) {
    healthServer = new HealthServer({ host: config.telemetry.metricsHost, port: config.telemetry.metricsPort, security: security.status }, health, telemetry);
  }
  // renewed certificates and rotated tokens are taken while running (src/http/credential-renewal.ts)
  const renewal = watchJobCredentialFiles(security, [], telemetry, log, options.credentialFileCheckMs);
  const started: JobOutput[] = [];
  const cleanup = async () => {
    renewal.stop();
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    await stages.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
  };
  try {
    started.push(...(await startJobOutputs(sinks, healthServer)));
  } catch (err) {
    await cleanup(); // startJobOutputs closed what it had started; the error names the setting
    throw err;
  }

  if (stages.gameStats) telemetry.observe(stages.gameStats);
  const pipeline = new LocalPipeline({ ...config.runtime, creditConcurrency: stages.creditConcurrency, creditTimeoutMs: stages.creditTimeoutMs }, { ...stages, sinks, telemetry, logger: log });
  pipeline.start();
  const receiver = new OtlpHttpReceiver(
    {
      ...config.source.http,
      security: security.receiver,
      telemetry,
      onProblem: problemLogger(log),
    },
    pipeline,
  );
  try {
    await receiver.start();
  } catch (err) {
    await pipeline.stop();
    await cleanup();
    throw withListenHint(err, 'source.http.port (--port)', 'source.http.host (--host)');
  }
  health.set('receiver', true, 'listening');
  const receiverUrl = receiver.address().url;
  const liveUrl = live?.address().url;
  const metricsUrl = healthServer ? `${healthServer.scheme()}://${config.telemetry.metricsHost}:${healthServer.port()}/metrics` : liveUrl ? `${liveUrl}/metrics` : undefined;
  log.info({ receiver: receiverUrl, live: liveUrl, metrics: metricsUrl }, 'agent-credit running: send OTLP/HTTP to the receiver');

  let stopping: Promise<void> | undefined;
  return {
    receiverUrl,
    liveUrl,
    metricsUrl,
    pipeline,
    telemetry,
    health,
    stop: () =>
      (stopping ??= (async () => {
        health.set('receiver', false, 'stopping');
        await receiver.close();
        await pipeline.stop();
        await cleanup();
        log.info(pipeline.stats(), 'agent-credit stopped');
      })()),
  };
}

/**
 * The receiver's rejected and partly accepted requests, logged at most once a second per status
 * with how many were not logged since, the message cut to 500 characters: a client sending bad
 * requests in a loop wrote 43.5 MB of log in 1.5 s, each line quoting its 15 KB path (security review).
 */
export function problemLogger(log: { warn(obj: object, msg: string): void }, everyMs = 1_000, now: () => number = Date.now): (p: { signal?: string; status: number; message: string }) => void {
  const byStatus = new Map<number, (n: number) => number | undefined>();
  return (p) => {
    let due = byStatus.get(p.status);
    if (due === undefined) byStatus.set(p.status, (due = throttledCount(everyMs, now)));
    const count = due(1);
    if (count === undefined) return;
    const skipped = count - 1; // the ones held back since the last line, this one aside
    const message = p.message.length > 500 ? `${p.message.slice(0, 500)}…` : p.message;
    log.warn({ signal: p.signal, status: p.status, ...(skipped > 0 ? { notLoggedSince: skipped } : {}) }, `${p.status < 300 ? 'request partly accepted' : 'request rejected'}: ${message}`);
  };
}
