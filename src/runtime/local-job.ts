/**
 * `agent-credit run` with the embedded OTLP source: self-telemetry, sinks (stdout JSON
 * lines, live page), the local pipeline and the receivers — OTLP/HTTP, and OTLP/gRPC unless
 * `source.grpc.enabled` is false, both feeding the pipeline — started in that order (sinks before
 * the receivers, so nothing arrives before it can leave) and stopped in reverse.
 */
import type { AppConfig } from '../config/schema.js';
import { startJobOutputs, withListenHint, withOthersInUse, type JobListener, type JobOutput } from '../http/server-lifecycle.js';
import { jobStandings } from '../sinks/standings/index.js';
import { resolveJobListeners } from '../http/listener-security.js';
import { watchJobCredentialFiles } from '../http/job-credential-renewal.js';
import { LiveSink } from '../sinks/live/live-sink.js';
import { StdoutSink } from '../sinks/stdout/stdout-sink.js';
import type { EventSink } from '../sinks/types.js';
import { OtlpHttpReceiver } from '../sources/otlp-http/receiver.js';
import { OtlpGrpcReceiver } from '../sources/otlp-grpc/receiver.js';
import { routeGrpcJsLog } from '../sources/otlp-grpc/grpc-js-log.js';
import type { Logger } from '../telemetry/logger.js';
import { SelfTelemetry } from '../telemetry/self-metrics.js';
import { HealthServer } from './health-server.js';
import { HealthState } from './health.js';
import { problemLogger } from './problem-logger.js';
import { LocalPipeline } from './local-pipeline.js';
import { buildLocalStages, type ProcessEpisodeFn } from './local-stages.js';
import { defaultInflightLimit, InflightBytes } from '../sources/inflight-bytes.js';

export interface LocalJob {
  readonly receiverUrl: string;
  /** The OTLP/gRPC receiver's endpoint (http:// = plaintext, https:// = TLS); undefined when source.grpc.enabled is false. */
  readonly grpcReceiverUrl: string | undefined;
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
  const standings = jobStandings(config.telemetry.maxAgents, telemetry);
  sinks.push(standings);
  let live: LiveSink | undefined;
  // the receiver's address once it listens (it starts after the live page): named to telemetry posted to the page
  let receiverListening: string | undefined;
  if (config.sinks.live.enabled) {
    live = new LiveSink({ ...config.sinks.live, health, telemetry, board: standings.board, security: security.live, receiverUrl: () => receiverListening, onProblem: problemLogger(log) });
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
    throw await withOthersInUse(err as Error, jobListeners(config));
  }

  if (stages.gameStats) telemetry.observe(stages.gameStats);
  if (stages.workerStats) telemetry.observe(stages.workerStats);
  const pipeline = new LocalPipeline({ ...config.runtime, creditConcurrency: stages.creditConcurrency, creditTimeoutMs: stages.creditTimeoutMs }, { ...stages, sinks, telemetry, logger: log });
  pipeline.start();
  // one budget of request bytes read at once for both transports: separate ones let the two hold twice the bound
  const inflight = config.source.grpc.enabled ? new InflightBytes(defaultInflightLimit(config.source.http.maxBodyBytes), 'OTLP/HTTP and OTLP/gRPC') : undefined;
  const receiver = new OtlpHttpReceiver(
    {
      ...config.source.http,
      ...(inflight ? { inflight } : {}),
      security: security.receiver,
      telemetry,
      onProblem: problemLogger(log),
      grpcAddress: (): string | undefined => (grpcReceiver?.listening ? grpcReceiver.address().url : undefined),
    },
    pipeline,
  );
  // one handler (the pipeline) behind both transports; gRPC shares source.http's security and size limit
  const grpcReceiver = config.source.grpc.enabled
    ? new OtlpGrpcReceiver({ host: config.source.grpc.host, port: config.source.grpc.port, maxMessageBytes: config.source.http.maxBodyBytes, security: security.receiver, telemetry, onProblem: problemLogger(log), ...(inflight ? { inflight } : {}), httpAddress: (): string | undefined => (receiver.listening ? receiver.address().url : undefined) }, pipeline)
    : undefined;
  try {
    await receiver.start();
  } catch (err) {
    await pipeline.stop();
    await cleanup();
    throw await withOthersInUse(withListenHint(err, 'source.http.port (--port)', 'source.http.host (--host)'), jobListeners(config));
  }
  // grpc-js's own log lines (stderr, bare) go to the job's log while it runs (src/sources/otlp-grpc/grpc-js-log.ts)
  const unrouteGrpcJsLog = grpcReceiver ? routeGrpcJsLog(log) : undefined;
  try {
    await grpcReceiver?.start();
  } catch (err) {
    unrouteGrpcJsLog?.();
    await receiver.close();
    await pipeline.stop();
    await cleanup();
    throw grpcListenError(err);
  }
  health.set('receiver', true, 'listening');
  const receiverUrl = receiver.address().url;
  receiverListening = receiverUrl;
  const grpcReceiverUrl = grpcReceiver?.address().url;
  const liveUrl = live?.address().url;
  const metricsUrl = healthServer ? `${healthServer.scheme()}://${config.telemetry.metricsHost}:${healthServer.port()}/metrics` : liveUrl ? `${liveUrl}/metrics` : undefined;
  log.info(
    { receiver: receiverUrl, ...(grpcReceiverUrl !== undefined ? { grpcReceiver: grpcReceiverUrl } : {}), live: liveUrl, metrics: metricsUrl },
    grpcReceiverUrl !== undefined ? 'agent-credit running: send OTLP/HTTP to the receiver, or OTLP/gRPC to the grpcReceiver' : 'agent-credit running: send OTLP/HTTP to the receiver',
  );

  let stopping: Promise<void> | undefined;
  return {
    receiverUrl,
    grpcReceiverUrl,
    liveUrl,
    metricsUrl,
    pipeline,
    telemetry,
    health,
    stop: () =>
      (stopping ??= (async () => {
        health.set('receiver', false, 'stopping');
        await Promise.all([receiver.close(), grpcReceiver?.close()]);
        unrouteGrpcJsLog?.();
        // as long as one episode's credit may take: a stuck value function must not hold the stop past it
        await pipeline.stop('shutdown', { waitMs: config.runtime.creditTimeoutMs, setting: 'runtime.creditTimeoutMs' });
        await cleanup();
        log.info(pipeline.stats(), 'agent-credit stopped');
      })()),
  };
}

/** The job's listeners (their ports are named when several are taken: a second instance on one host). */
function jobListeners(config: AppConfig): JobListener[] {
  return [
    ...(config.sinks.live.enabled ? [{ host: config.sinks.live.host, port: config.sinks.live.port, key: 'sinks.live.port', flag: '--live-port' }] : []),
    ...(config.telemetry.metricsPort !== null ? [{ host: config.telemetry.metricsHost, port: config.telemetry.metricsPort, key: 'telemetry.metricsPort', flag: '--metrics-port' }] : []),
    { host: config.source.http.host, port: config.source.http.port, key: 'source.http.port', flag: '--port' },
    ...(config.source.grpc.enabled ? [{ host: config.source.grpc.host, port: config.source.grpc.port, key: 'source.grpc.port', flag: '--grpc-port' }] : []),
  ];
}

/**
 * The gRPC receiver's bind error, naming the key to change — and that the receiver can be turned
 * off: a collector or another agent-credit already on 4317 is the usual cause, and a fleet that
 * exports OTLP/HTTP does not need it.
 */
function grpcListenError(err: unknown): Error {
  const hinted = withListenHint(err, 'source.grpc.port (--grpc-port)', 'source.grpc.host');
  if (hinted === err) return hinted;
  return new Error(`${hinted.message}; or set source.grpc.enabled: false (--no-grpc) when your exporters send OTLP/HTTP only`, { cause: err });
}

