/**
 * Why a request reached a path the OTLP receivers do not serve, and the exporter setting that fixes
 * it. The 404 named only the right paths — "no OTLP endpoint at /v1/traces/v1/traces: use POST
 * /v1/traces" — which an app team reads as the receiver's fault: what is wrong is the exporter's
 * endpoint, and which variable takes which form is what they need. The usual cases:
 * - metrics: the Node SDK (`NodeSDK`) and Python's `opentelemetry-instrument` export metrics to the
 *   same endpoint as traces and logs by default;
 * - the signal's path twice (or behind a prefix): `OTEL_EXPORTER_OTLP_ENDPOINT` is the base URL, to
 *   which each exporter adds `/v1/traces` / `/v1/logs` itself;
 * - the root: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `_LOGS_ENDPOINT` are used as given, so one
 *   without a path posts to `/`.
 */

/** Metrics are not taken (OTLP/gRPC's MetricsService, OTLP/HTTP's /v1/metrics): the fix, in the app. */
export const METRICS_REFUSED =
  'agent-credit takes traces and logs, not metrics: set OTEL_METRICS_EXPORTER=none in the app (the Node SDK\'s NodeSDK and Python\'s opentelemetry-instrument export metrics to the same endpoint by default), or send metrics to a collector';

/** An exporter's paths: found at the end of another path, the endpoint holds a path of its own. */
const EXPORTER_PATHS = ['/v1/traces', '/v1/logs', '/v1/metrics'];

/**
 * The 404 message for a POST to `path` on the OTLP/HTTP receiver at `baseUrl` (`http://host:port`),
 * which serves `/v1/traces`, `/v1/logs` and, with `evaluations`, `/v1/evaluations`.
 */
export function unknownPathMessage(path: string, baseUrl: string, evaluations: boolean): string {
  const paths = `POST /v1/traces or POST /v1/logs${evaluations ? ' (or /v1/evaluations for evaluation records)' : ''}`;
  if (path === '/v1/metrics') return `no OTLP endpoint at /v1/metrics: ${METRICS_REFUSED}`;
  if (EXPORTER_PATHS.some((p) => path.endsWith(p))) {
    return (
      `no OTLP endpoint at ${path}: the receiver serves ${paths} at its root — OTEL_EXPORTER_OTLP_ENDPOINT is the base URL, ` +
      `to which the exporter adds /v1/traces and /v1/logs itself: OTEL_EXPORTER_OTLP_ENDPOINT=${baseUrl} (a signal's own OTEL_EXPORTER_OTLP_TRACES_ENDPOINT takes the full URL, ${baseUrl}/v1/traces)` +
      // metrics sent under the same base: with the base fixed they would only meet the next 404
      (path.endsWith('/v1/metrics') ? `; ${METRICS_REFUSED}` : '')
    );
  }
  if (path === '/') {
    return (
      `no OTLP endpoint at /: use ${paths} — an exporter posts to / when a signal's own endpoint is given without a path: ` +
      `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and OTEL_EXPORTER_OTLP_LOGS_ENDPOINT are used as given, so give the full URL (${baseUrl}/v1/traces, ${baseUrl}/v1/logs), or set OTEL_EXPORTER_OTLP_ENDPOINT=${baseUrl} instead`
    );
  }
  return `no OTLP endpoint at ${path}: use ${paths}`;
}
