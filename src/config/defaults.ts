/**
 * Every default of the configuration, in one place (the collector's `factory.go`). The
 * schema (./schema.ts) applies them; `--help` and the README print them from here.
 * Stage-owned options (episode close policy, credit game/estimator) default in their stages.
 */
export const DEFAULTS = {
  source: {
    kind: 'otlp-http',
    http: { host: '127.0.0.1', port: 4318, maxBodyBytes: 16 * 1024 * 1024 },
    // on by default as the collector's otlp receiver serves both: Python's opentelemetry-instrument
    // (opentelemetry-distro) exports OTLP/gRPC to 4317 unless told otherwise
    grpc: { enabled: true, host: '127.0.0.1', port: 4317 },
    kafka: { clientId: 'agent-credit', ssl: false },
  },
  sinks: {
    stdout: { enabled: true },
    live: { enabled: true, host: '127.0.0.1', port: 8080, bufferEvents: 2_000, maxClients: 64 },
    kafka: { delivery: 'at-least-once', partitions: 3, createTopics: true, maxRecordBytes: 1_000_000, compression: 'none', transactionTimeoutMs: 60_000, replayFilterTopic: 'agent_credit.replay_filters' as string | null },
  },
  telemetry: { logLevel: 'info', logFormat: 'json', metricsPort: null, metricsHost: '127.0.0.1', maxAgents: 1_000 },
  runtime: { creditQueueMax: 256, creditQueueMaxBytes: 256 * 1024 * 1024, creditConcurrency: 4, creditWorkers: 0, creditWorkerMaxHeapMb: 1024, tickIntervalMs: 200, creditTimeoutMs: 30_000, readinessPublishFailureMs: 60_000, livenessStallMs: 0 },
} as const;

/**
 * Longest delay a Node.js timer takes, in ms (2^31 − 1, ≈ 24.8 days). A longer one is not a longer
 * wait: Node prints a TimeoutOverflowWarning and fires it after 1 ms. So the settings that become
 * timers stop here.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Smallest `runtime.creditWorkerMaxHeapMb` (other than 0, V8's default), in MB. Measured (Node 20,
 * the build): a credit worker needs 20 MB of heap to start and credit the generated episodes with
 * the provenance game, 22–24 MB with a module game or an http judge (self-tracing on or off); below
 * that every worker ran out of memory as it started, and the job retried each every 5 s without
 * crediting anything. 64 leaves room for larger episodes and other Node versions.
 */
export const MIN_CREDIT_WORKER_HEAP_MB = 64;

/** Largest `runtime.creditWorkerMaxHeapMb`, in MB (1 TiB): the schema's bound, and the error's fix names it. */
export const MAX_CREDIT_WORKER_HEAP_MB = 1_048_576;
