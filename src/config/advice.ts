/**
 * Settings that are valid one by one but, together, silently turn a feature off or cut it short.
 * The schema accepts them (a value can be deliberate); `run` logs each as a warning at start and
 * `check` shows it, naming the keys and the fix. Pure: config in, advice out.
 */
import { KafkaSinkSectionSchema, type AppConfig } from './schema.js';
import { isLoopbackHost } from '../http/listener-security.js';
import { DEFAULT_SUCCESS_THRESHOLD } from '../conventions/evaluations.js';

export interface ConfigAdvice {
  /** The dotted key the advice is about (the one to change). */
  readonly key: string;
  /** What happens with these values and what to set instead. */
  readonly message: string;
}

export function configAdvice(config: AppConfig): ConfigAdvice[] {
  const out: ConfigAdvice[] = [];
  const e = config.episodes;
  const wait = e.awaitEvaluationMs;
  // 0 is the documented way to turn the wait off; a positive value ≤ graceMs does the same unsaid
  if (wait > 0 && wait <= e.graceMs) {
    out.push({
      key: 'episodes.awaitEvaluationMs',
      message: `episodes.awaitEvaluationMs ${wait} is not above episodes.graceMs ${e.graceMs}, so runs never wait for a slow verdict: they close graceMs after their last span, and a later verdict comes as a correction (revision + 1). Raise awaitEvaluationMs above graceMs to wait (the judge's latency), or set it to 0 to turn the wait off`,
    });
  }
  if (wait > e.graceMs && wait > e.idleMs) {
    out.push({
      key: 'episodes.idleMs',
      message: `episodes.awaitEvaluationMs ${wait} is above episodes.idleMs ${e.idleMs}: a run waiting for its verdict closes as idle at idleMs, without it. Raise idleMs to at least ${wait}`,
    });
  }
  if (wait > e.graceMs && wait > e.maxDurationMs) {
    out.push({
      key: 'episodes.maxDurationMs',
      message: `episodes.awaitEvaluationMs ${wait} is above episodes.maxDurationMs ${e.maxDurationMs}: every waiting run closes as max-duration first, without its verdict. Raise maxDurationMs well above awaitEvaluationMs`,
    });
  }
  // A synchronous module value function runs on the event loop with creditWorkers 0: nothing can
  // interrupt it (operator review: a spinning one stopped /healthz, publishing and SIGTERM for its
  // whole run, and crash-looped on the same episode after a restart). Nor is an error the
  // function leaves unhandled caught there — a promise it started and did not await rejecting
  // after it threw (two judge calls started together, the first one failing), a throw in a timer:
  // Node ends the whole job with it (exit 1), the open episodes lost, where in a worker only that
  // worker is replaced; the advice said nothing of it.
  if (config.credit.game === 'module' && config.runtime.creditWorkers === 0) {
    out.push({
      key: 'runtime.creditWorkers',
      message:
        'credit.game: module with runtime.creditWorkers 0 runs your value function on the main thread: a synchronous (CPU-bound) or stuck one blocks everything while it runs — ' +
        'runtime.creditTimeoutMs cannot interrupt it (it only gives up on an async one that never settles), /healthz and /readyz stop answering, nothing is ingested or published, and SIGTERM waits; ' +
        'and an error it leaves unhandled (a promise it started and did not await that rejects, a throw in a timer) ends the whole job (exit 1, the open episodes lost). ' +
        'Set runtime.creditWorkers to 1 or more (or auto): a value function stuck past runtime.creditTimeoutMs then gets its worker replaced and only that episode fails, and an unhandled error ends only its worker, which is replaced (its episodes re-run)',
    });
  }
  // credit.timeoutMs is where a slow value function's calls are cut and the episode is published
  // with the credit so far (`partial`); runtime.creditTimeoutMs fails the whole episode (no events;
  // on Kafka a dead letter). Raised to or past the runtime's limit, the first never came first: a
  // slow judge's episodes were lost (replay: exit 1) where the documented partial result was due.
  // The provenance game is synchronous and never waits on credit.timeoutMs.
  if (config.credit.game !== 'provenance' && config.credit.timeoutMs >= config.runtime.creditTimeoutMs) {
    out.push({
      key: 'credit.timeoutMs',
      message: `credit.timeoutMs ${config.credit.timeoutMs} is not below runtime.creditTimeoutMs ${config.runtime.creditTimeoutMs}: a slow ${config.credit.game === 'http' ? 'judge' : 'value function'} makes its episode fail at runtime.creditTimeoutMs — no events${config.source.kind === 'kafka' ? ', a dead letter' : ''} — before credit.timeoutMs can stop waiting for it and publish the credit so far (marked partial). Set credit.timeoutMs well below runtime.creditTimeoutMs (defaults 10000 and 30000), or raise runtime.creditTimeoutMs`,
    });
  }
  // credit.judge.timeoutMs cuts one attempt, which is then retried; credit.timeoutMs the whole
  // episode's calls, started first. A judge timeout at or past the episode's (both were 10 000 ms by
  // default) never fires before the episode gives up: a call that hangs is never retried.
  const judge = config.credit.game === 'http' ? config.credit.judge : undefined;
  if (judge && judge.retries > 0 && judge.timeoutMs >= config.credit.timeoutMs) {
    out.push({
      key: 'credit.judge.timeoutMs',
      message: `credit.judge.timeoutMs ${judge.timeoutMs} is not below credit.timeoutMs ${config.credit.timeoutMs}: a judge call that does not answer is cut by its episode's deadline before its own timeout fires, so it is never retried (credit.judge.retries ${judge.retries}) and the episode's credit is partial. Set credit.judge.timeoutMs well below credit.timeoutMs — at most half of it for one retry to fit (defaults 4000 and 10000) — or raise credit.timeoutMs`,
    });
  }
  // normalize: false puts R and τ in each range's units, but the built-in defaultSuccessThreshold
  // (0.5) is the middle of [0, 1]: on a 0–100 judge's range it passed a score of 1, so a run scored
  // 10 of 100 was a success — no first error, no blame, no preference pair — where normalize: true
  // (R = 0.1) made it a failure.
  if (!config.credit.normalize && config.credit.defaultSuccessThreshold === DEFAULT_SUCCESS_THRESHOLD) {
    for (const [name, range] of Object.entries(config.credit.normalization)) {
      if (Object.hasOwn(config.credit.successThreshold, name) || (range.min === 0 && range.max === 1)) continue;
      out.push({
        key: `credit.successThreshold.${name}`,
        message: `credit.normalize is false, so R and τ are in the range's units, and credit.normalization.${name} (${range.min} … ${range.max}) has no credit.successThreshold.${name}: its runs are judged against credit.defaultSuccessThreshold ${DEFAULT_SUCCESS_THRESHOLD}, a pass mark stated for [0, 1] (the middle of it) — set credit.successThreshold.${name} in the range's units (e.g. ${range.min + DEFAULT_SUCCESS_THRESHOLD * (range.max - range.min)}, its middle), or leave credit.normalize on`,
      });
    }
  }
  // A stall check shorter than one episode's credit time restarts a job that is only slow.
  const stall = config.runtime.livenessStallMs;
  if (stall > 0 && stall <= config.runtime.creditTimeoutMs * 2) {
    out.push({
      key: 'runtime.livenessStallMs',
      message: `runtime.livenessStallMs ${stall} is not well above runtime.creditTimeoutMs ${config.runtime.creditTimeoutMs}: while slow credit fills the queue and pauses the consumer nothing is published for that long, /healthz fails and the job is restarted, replaying the same episodes. Set it to several times runtime.creditTimeoutMs, or 0 (off)`,
    });
  }
  // /metrics, /healthz and /readyz are served by the live page and, with metricsPort, the status
  // server: with neither, a job has no probe or scrape endpoint, and nothing said so (README's
  // telemetry row says where they are served, not that turning the page off removes them).
  if (config.source.kind !== 'file' && !config.sinks.live.enabled && config.telemetry.metricsPort === null) {
    out.push({
      key: 'telemetry.metricsPort',
      message: 'sinks.live is off and telemetry.metricsPort is unset: this job serves no /metrics, /healthz or /readyz (probes and Prometheus get nothing) — set telemetry.metricsPort (e.g. 9464; --metrics-port) for a status server of its own, or leave the live page on',
    });
  }
  // With otlp-http the events go to stdout and the live page only (sinks.kafka is the kafka
  // source's): both off, every episode was credited and its events dropped — `check` said ready.
  if (config.source.kind === 'otlp-http' && !config.sinks.stdout.enabled && !config.sinks.live.enabled) {
    out.push({
      key: 'sinks.stdout.enabled',
      message:
        'sinks.stdout and sinks.live are both off and source.kind is otlp-http, whose events go to those two only: every credit event is computed and dropped (the agent metrics on /metrics still count them) — ' +
        'set sinks.stdout.enabled: true (or sinks.live.enabled), or use source.kind: kafka to publish to topics; leave it so only if /metrics is all you want',
    });
  }
  out.push(...kafkaAdvice(config));
  out.push(...listenerAdvice(config));
  return out;
}

/**
 * Kafka settings that the configured source does not use, and credentials sent in clear. Only the
 * kafka source reads `source.kafka` and publishes with `sinks.kafka`: with otlp-http (the default
 * kind — a file that sets brokers but forgets `kind: kafka`) the job started a receiver and never
 * touched Kafka, without a word. SASL without `ssl` was warned of by `run` only, not by `check`.
 */
function kafkaAdvice(config: AppConfig): ConfigAdvice[] {
  const out: ConfigAdvice[] = [];
  const kind = config.source.kind;
  if (kind === 'otlp-http') {
    if (config.source.kafka) {
      out.push({
        key: 'source.kind',
        message: 'source.kafka is set but source.kind is otlp-http: nothing is read from Kafka (the job receives OTLP/HTTP on source.http) — set source.kind: kafka (or AGENT_CREDIT_SOURCE_KIND=kafka) to read the topics, or remove source.kafka',
      });
    }
    const defaults = KafkaSinkSectionSchema.parse({}) as Record<string, unknown>;
    const sink = config.sinks.kafka as Record<string, unknown>;
    const changed = Object.keys(sink).filter((k) => JSON.stringify(sink[k]) !== JSON.stringify(defaults[k]));
    if (changed.length > 0) {
      out.push({
        key: 'sinks.kafka',
        message: `${changed.map((k) => `sinks.kafka.${k}`).join(', ')} ${changed.length > 1 ? 'are' : 'is'} set but source.kind is otlp-http: only the kafka source publishes to Kafka, so the events go to stdout and the live page only — set source.kind: kafka to publish, or remove ${changed.length > 1 ? 'them' : 'it'}`,
      });
    }
  }
  const kafka = config.source.kafka;
  if (kind === 'kafka' && kafka?.sasl && kafka.ssl === false && (kafka.sasl.mechanism === 'plain' || kafka.sasl.mechanism === 'oauthbearer')) {
    const what = kafka.sasl.mechanism === 'plain' ? 'SASL PLAIN sends the password' : 'SASL OAUTHBEARER sends the token';
    out.push({
      key: 'source.kafka.ssl',
      message: `source.kafka.sasl without source.kafka.ssl: ${what} to the brokers in clear — set source.kafka.ssl (true, or { ca: <PEM file> }) for a TLS listener`,
    });
  }
  if (kind === 'kafka' && kafka?.sasl) out.push(...credentialEdgeAdvice(kafka.sasl as Record<string, unknown>));
  return out;
}

/** SASL settings sent to the brokers as given: the ones a stray space or line break breaks. */
const SASL_CREDENTIAL_KEYS = ['username', 'password', 'clientId', 'clientSecret'] as const;

/**
 * A SASL credential with spaces or a line break at either end — a Kubernetes Secret made from a
 * file that ends in a newline (`kubectl create secret --from-file`), or a value pasted with one,
 * and handed over as AGENT_CREDIT_SOURCE_KAFKA_SASL_…: sent as is, the broker refuses it with
 * "Invalid username or password", which names neither the key nor the newline. Not trimmed here:
 * a credential may end in a space on purpose, and changing it unsaid would be worse. The value
 * itself is never shown (a secret).
 */
function credentialEdgeAdvice(sasl: Record<string, unknown>): ConfigAdvice[] {
  const out: ConfigAdvice[] = [];
  for (const k of SASL_CREDENTIAL_KEYS) {
    const v = sasl[k];
    if (typeof v !== 'string' || v === v.trim()) continue;
    const what = /[\r\n]\s*$/.test(v) ? 'ends with a line break' : /^\s/.test(v) ? 'starts with a space' : 'ends with a space';
    const env = `AGENT_CREDIT_SOURCE_KAFKA_SASL_${k.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
    out.push({
      key: `source.kafka.sasl.${k}`,
      message: `source.kafka.sasl.${k} ${what} (value hidden: a secret), sent to the brokers as is — a Secret made from a file that ends in a newline (kubectl create secret --from-file) or a pasted value; unless the credential really has it, the broker refuses the login ("Invalid username or password"). Write it without (printf '%s' "$VALUE" > file; or fix ${env})`,
    });
  }
  return out;
}

/**
 * A listener bound beyond loopback without TLS (its data — spans, LLM outputs, the token — crosses
 * the network in clear) or without a token (anyone who reaches it sends spans or reads the
 * events): a warning each, naming the key to set. Deliberate behind a mesh or an authenticating
 * proxy, so not an error.
 */
function listenerAdvice(config: AppConfig): ConfigAdvice[] {
  const out: ConfigAdvice[] = [];
  const keysOf = (prefix: string) => ({ host: `${prefix}.host`, tls: `${prefix}.tls`, auth: `${prefix}.auth` });
  const t = config.telemetry;
  const listeners = [
    ...(config.source.kind === 'otlp-http'
      ? [{ keys: keysOf('source.http'), what: 'the OTLP/HTTP receiver', open: 'anyone who reaches it can send spans, logs and evaluations', host: config.source.http.host, tls: config.source.http.tls, auth: config.source.http.auth }]
      : []),
    // the gRPC receiver is secured by source.http's tls / auth: the warning names those keys and source.grpc.host
    ...(config.source.kind === 'otlp-http' && config.source.grpc.enabled
      ? [{ keys: { host: 'source.grpc.host', tls: 'source.http.tls', auth: 'source.http.auth' }, what: 'the OTLP/gRPC receiver', open: 'anyone who reaches it can send spans and logs', host: config.source.grpc.host, tls: config.source.http.tls, auth: config.source.http.auth }]
      : []),
    ...(config.source.kind !== 'file' && config.sinks.live.enabled
      ? [{ keys: keysOf('sinks.live'), what: 'the live page', open: 'anyone who reaches it can read the events (agent names, LLM outputs, errors) on /, /events and /metrics', host: config.sinks.live.host, tls: config.sinks.live.tls, auth: config.sinks.live.auth }]
      : []),
    ...(config.source.kind !== 'file' && t.metricsPort !== null
      ? [{ keys: { host: 'telemetry.metricsHost', tls: 'telemetry.metricsTls', auth: 'telemetry.metricsAuth' }, what: 'the status server (/metrics)', open: 'anyone who reaches it can read /metrics (every agent by name, with its credit, failures and errors)', host: t.metricsHost, tls: t.metricsTls, auth: t.metricsAuth }]
      : []),
  ];
  // /metrics secured on the status server is still open on the live page, which serves it too
  // (new-user pass): on loopback the warning above does not fire, yet every local process reads it
  if (config.source.kind !== 'file' && t.metricsPort !== null && t.metricsAuth && config.sinks.live.enabled && !config.sinks.live.auth && isLoopbackHost(config.sinks.live.host)) {
    out.push({
      key: 'sinks.live.auth',
      message: `telemetry.metricsAuth protects /metrics on the status server, but the live page (sinks.live, ${config.sinks.live.host}:${config.sinks.live.port}) serves /metrics too, without a token, to any process on this machine — set sinks.live.auth as well (the same token file works), or turn the page off (sinks.live.enabled: false) where /metrics must be private`,
    });
  }
  // `--host 0.0.0.0` (source.http.host) opens the OTLP/HTTP receiver only: the gRPC one stayed on
  // 127.0.0.1, and gRPC exporters elsewhere (a container, another host) were refused without a word
  if (config.source.kind === 'otlp-http' && config.source.grpc.enabled && !isLoopbackHost(config.source.http.host) && isLoopbackHost(config.source.grpc.host)) {
    out.push({
      key: 'source.grpc.host',
      message: `source.http.host ${config.source.http.host} takes OTLP/HTTP from other hosts, but the OTLP/gRPC receiver listens on source.grpc.host ${config.source.grpc.host} (--host sets only source.http.host): gRPC exporters elsewhere (a container, another host; Python's opentelemetry-instrument sends gRPC) cannot reach it — set source.grpc.host too (AGENT_CREDIT_SOURCE_GRPC_HOST=${config.source.http.host}), or source.grpc.enabled: false (--no-grpc) when nothing sends gRPC`,
    });
  }
  for (const l of listeners) {
    if (isLoopbackHost(l.host)) continue;
    const env = `AGENT_CREDIT_${l.keys.auth.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase()}_TOKEN`;
    if (!l.tls) {
      out.push({
        key: l.keys.tls,
        message: `${l.keys.host} ${l.host} is not a loopback address and ${l.what} has no TLS: what it carries${l.auth ? ', the bearer token included,' : ''} crosses the network in clear — set ${l.keys.tls}.certFile and ${l.keys.tls}.keyFile (PEM files), or terminate TLS in front of it (a mesh, a proxy)`,
      });
    }
    if (!l.auth) {
      out.push({
        key: l.keys.auth,
        message: `${l.keys.host} ${l.host} is not a loopback address and ${l.what} has no authentication: ${l.open} — set ${l.keys.auth}.tokenFile (or ${env}), or put an authenticating proxy or a NetworkPolicy in front`,
      });
    }
  }
  return out;
}
