/** Self-telemetry: OpenTelemetry metrics rendered for Prometheus, pino logs on stderr. */
export { SelfTelemetry, attrs, type ObservedStats, type SelfTelemetryOptions, type StatsProvider } from './self-metrics.js';
export { createLogger, silentLogger, type Logger } from './logger.js';
export { startSelfTracing, selfTracingRequested, assertNoSelfLoop, type SelfTracing, type SelfTracingOptions } from './self-tracing.js';
