/**
 * agent-credit's own traces (one span per credited episode), exported with the standard
 * OpenTelemetry Node SDK (@opentelemetry/sdk-node) configured by the standard `OTEL_*`
 * environment variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_EXPORTER`,
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_SERVICE_NAME`, ...).
 *
 * Off unless the environment asks for it (an OTLP endpoint or a traces exporter is set and
 * `OTEL_SDK_DISABLED` is not `true`): the OTLP default endpoint, localhost:4318, is agent-credit's
 * own receiver, and feeding its spans back into itself would turn its self-telemetry into
 * episodes. That loop is refused with an error naming the variables to change.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../config/errors.js';

export interface SelfTracing {
  shutdown(): Promise<void>;
}

export interface SelfTracingOptions {
  env?: NodeJS.ProcessEnv;
  /** The embedded receiver's address, to refuse exporting into ourselves. */
  receiver?: { host: string; port: number };
  /** The embedded OTLP/gRPC receiver's address (source.grpc, when enabled): an exporter set to protocol grpc would reach it. */
  grpcReceiver?: { host: string; port: number } | undefined;
  /** Replaces the env-configured exporters (tests, embedding apps). */
  spanProcessors?: SpanProcessor[];
  serviceName?: string;
}

/** Whether the standard OTel environment asks for trace export. */
export function selfTracingRequested(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined && exporter !== '' && exporter !== 'none') return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The fix when no endpoint variable is set (an OTEL_TRACES_EXPORTER asked for otlp, which then uses the default): the variables to set, by name. */
const NO_ENDPOINT_FIX = ' Set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) to your collector, or OTEL_TRACES_EXPORTER=none (or OTEL_SDK_DISABLED=true) to trace nothing.';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

/**
 * Throws a ConfigError (exit 2, as every refused setting; the problem names the variable and the
 * fix) when the configured OTLP traces endpoint is agent-credit's own receiver: the OTLP/HTTP one,
 * or with protocol grpc (whose default endpoint is localhost:4317) the OTLP/gRPC one. A plain
 * Error exited 1, the code of a runtime failure, so a supervisor retried a start that fails the same way.
 */
export function assertNoSelfLoop(env: NodeJS.ProcessEnv, httpReceiver: { host: string; port: number }, grpcReceiver?: { host: string; port: number }): void {
  const exporter = env.OTEL_TRACES_EXPORTER ?? 'otlp';
  if (!exporter.split(',').map((s) => s.trim()).includes('otlp')) return;
  const grpc = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || '').trim() === 'grpc';
  const receiver = grpc ? grpcReceiver : httpReceiver;
  if (!receiver) return;
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'the default OTLP endpoint';
  const raw = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || (grpc ? 'http://localhost:4317' : 'http://localhost:4318');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return; // the SDK reports malformed endpoints itself
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const sameHost = url.hostname === receiver.host || (LOOPBACK.has(url.hostname) && LOOPBACK.has(receiver.host));
  if (sameHost && port === receiver.port) {
    // Exported for the app in the shell that starts agent-credit too (README's quickstart points the
    // app at the receiver with it): say how to start agent-credit alone without it — an exported
    // OTEL_SDK_DISABLED=true would switch the app's SDK off as well.
    const forApp = variable.startsWith('OTEL_') ? ` Set for your app in this shell? Start agent-credit without it (put \`env -u ${variable}\` before the command you ran, its flags kept, e.g. \`env -u ${variable} npm start\`; or OTEL_SDK_DISABLED=true for agent-credit alone);` : '';
    throw new ConfigError(
      [
        `${variable} (${raw}) points at agent-credit's own ${grpc ? 'OTLP/gRPC receiver (source.grpc' : 'OTLP/HTTP receiver (source.http'} ${receiver.host}:${receiver.port}): ` +
          `its self-telemetry would become episodes.${forApp}${forApp ? ' to trace agent-credit, point the OTel variables at your collector.' : NO_ENDPOINT_FIX}`,
      ],
      'environment',
    );
  }
}

/**
 * Starts the Node SDK for agent-credit's own spans when requested (see module doc), else
 * returns undefined. No auto-instrumentations: only the spans agent-credit creates itself.
 */
export function startSelfTracing(options: SelfTracingOptions = {}): SelfTracing | undefined {
  const env = options.env ?? process.env;
  if (!options.spanProcessors && !selfTracingRequested(env)) return undefined;
  if (!options.spanProcessors && options.receiver) assertNoSelfLoop(env, options.receiver, options.grpcReceiver);
  const sdk = new NodeSDK({
    serviceName: options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'agent-credit',
    instrumentations: [],
    autoDetectResources: false,
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
