/**
 * Settings valid one by one that together turn a feature off or cut it short (src/config/advice.ts):
 * `run` warns at start and `check` shows them. From the slow-judge user-acceptance pass: an
 * `awaitEvaluationMs` at or below `graceMs` turned the wait for a slow verdict off without a word.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { configAdvice, loadConfig } from '../../src/config/index.js';

const configWith = (episodes: Record<string, unknown>) =>
  loadConfig({ env: {}, overrides: { episodes, source: { kind: 'file' }, sinks: { live: { enabled: false } } } }).config;

describe('configAdvice', () => {
  it('the defaults draw no advice, and neither does awaitEvaluationMs 0 (the documented way to turn the wait off)', () => {
    expect(configAdvice(configWith({}))).toEqual([]);
    expect(configAdvice(configWith({ awaitEvaluationMs: 0 }))).toEqual([]);
  });

  it('awaitEvaluationMs at or below graceMs: the wait is off, said with both values and both fixes', () => {
    for (const awaitEvaluationMs of [1, 1500, 2000]) {
      const advice = configAdvice(configWith({ awaitEvaluationMs, graceMs: 2000 }));
      expect(advice.map((a) => a.key)).toEqual(['episodes.awaitEvaluationMs']);
      expect(advice[0]!.message).toContain(`episodes.awaitEvaluationMs ${awaitEvaluationMs} is not above episodes.graceMs 2000`);
      expect(advice[0]!.message).toMatch(/Raise awaitEvaluationMs above graceMs to wait .* or set it to 0/);
    }
    expect(configAdvice(configWith({ awaitEvaluationMs: 2001, graceMs: 2000 }))).toEqual([]);
  });

  it('a wait longer than idleMs or maxDurationMs is cut there: names the setting to raise and by how much', () => {
    const idle = configAdvice(configWith({ awaitEvaluationMs: 45_000 }));
    expect(idle.map((a) => a.key)).toEqual(['episodes.idleMs']);
    expect(idle[0]!.message).toContain('Raise idleMs to at least 45000');
    const both = configAdvice(configWith({ awaitEvaluationMs: 600_000, idleMs: 900_000 }));
    expect(both.map((a) => a.key)).toEqual(['episodes.maxDurationMs']);
    // a wait that is off does not warn about what would cut it
    expect(configAdvice(configWith({ awaitEvaluationMs: 1000, idleMs: 500 })).map((a) => a.key)).toEqual(['episodes.awaitEvaluationMs']);
  });

  it('telemetry.metricsAuth with an open live page on loopback: /metrics is still open there, said with the key and the fix', () => {
    const withAuth = (live: Record<string, unknown>) =>
      configAdvice(loadConfig({ env: {}, overrides: { telemetry: { metricsPort: 0, metricsAuth: { token: 'tok' } }, sinks: { live } } }).config).filter((a) => a.key === 'sinks.live.auth');
    const open = withAuth({});
    expect(open).toHaveLength(1);
    expect(open[0]!.message).toMatch(/the live page \(sinks\.live, 127\.0\.0\.1:8080\) serves \/metrics too, without a token.* set sinks\.live\.auth as well/);
    expect(withAuth({ auth: { token: 'tok' } })).toEqual([]);
    expect(withAuth({ enabled: false })).toEqual([]);
  });

  it('credit.game module with creditWorkers 0: a synchronous value function blocks the main thread, said with both keys and the fix', () => {
    const module = (runtime: Record<string, unknown>) =>
      loadConfig({ env: {}, overrides: { credit: { game: 'module', module: { path: './value.mjs' } }, runtime, source: { kind: 'file' }, sinks: { live: { enabled: false } } } }).config;
    const advice = configAdvice(module({}));
    expect(advice.map((a) => a.key)).toEqual(['runtime.creditWorkers']);
    expect(advice[0]!.message).toMatch(/^credit\.game: module with runtime\.creditWorkers 0 runs your value function on the main thread/);
    expect(advice[0]!.message).toMatch(/runtime\.creditTimeoutMs cannot interrupt it/);
    // a stray rejected promise of the function (not awaited) crashed the job with exit 1, and the advice did not say so
    expect(advice[0]!.message).toMatch(/an error it leaves unhandled \(a promise it started and did not await that rejects, a throw in a timer\) ends the whole job \(exit 1, the open episodes lost\)/);
    expect(advice[0]!.message).toMatch(/an unhandled error ends only its worker, which is replaced \(its episodes re-run\)$/);
    expect(advice[0]!.message).toMatch(/Set runtime\.creditWorkers to 1 or more \(or auto\)/);
    expect(configAdvice(module({ creditWorkers: 1 }))).toEqual([]);
    expect(configAdvice(module({ creditWorkers: 'auto' }))).toEqual([]);
    // the built-in game and the http judge (async, with its own per-call timeout) draw no such advice
    expect(configAdvice(configWith({}))).toEqual([]);
  });

  // A slow value function with credit.timeoutMs at or past runtime.creditTimeoutMs: the episode failed
  // (replay: no events, exit 1 — "processEpisode timed out after 3000 ms (runtime.creditTimeoutMs)")
  // where the partial credit credit.timeoutMs documents was due; nothing said so at start.
  it('credit.timeoutMs not below runtime.creditTimeoutMs with a pluggable game: its partial result never comes first, said with both values and the fix', () => {
    const game = (credit: Record<string, unknown>, runtime: Record<string, unknown> = {}, source: Record<string, unknown> = { kind: 'file' }) =>
      configAdvice(loadConfig({ env: {}, overrides: { credit, runtime: { creditWorkers: 1, ...runtime }, source, sinks: { live: { enabled: false } } } }).config).filter((a) => a.key === 'credit.timeoutMs');
    const module = { game: 'module', module: { path: './value.mjs' } };
    const judge = { game: 'http', judge: { url: 'http://127.0.0.1:8000/judge' } };
    expect(game(module)).toEqual([]);
    expect(game(judge)).toEqual([]);
    const slow = game({ ...module, timeoutMs: 5000 }, { creditTimeoutMs: 3000 });
    expect(slow).toHaveLength(1);
    expect(slow[0]!.message).toMatch(/^credit\.timeoutMs 5000 is not below runtime\.creditTimeoutMs 3000: a slow value function makes its episode fail at runtime\.creditTimeoutMs — no events — before credit\.timeoutMs can stop waiting/);
    expect(slow[0]!.message).toMatch(/Set credit\.timeoutMs well below runtime\.creditTimeoutMs \(defaults 10000 and 30000\), or raise runtime\.creditTimeoutMs$/);
    const kafka = game({ ...judge, timeoutMs: 30_000 }, {}, { kind: 'kafka', kafka: { brokers: ['kafka:9092'] } });
    expect(kafka[0]!.message).toMatch(/^credit\.timeoutMs 30000 is not below runtime\.creditTimeoutMs 30000: a slow judge makes its episode fail .* no events, a dead letter —/);
    // the built-in game never waits on credit.timeoutMs
    expect(game({ timeoutMs: 60_000 })).toEqual([]);
  });

  // both timeouts were 10 000 ms by default: the episode's deadline cut every call that hung before
  // the judge's own timeout fired, so credit.judge.retries never applied to one
  it('credit.judge.timeoutMs not below credit.timeoutMs with retries: a call that hangs is never retried, said with both values and the fix; not with the defaults', () => {
    const judged = (judge: Record<string, unknown>, credit: Record<string, unknown> = {}) =>
      configAdvice(loadConfig({ env: {}, overrides: { credit: { game: 'http', judge: { url: 'http://127.0.0.1:8000/judge', ...judge }, ...credit }, source: { kind: 'file' }, sinks: { live: { enabled: false } } } }).config).filter((a) => a.key === 'credit.judge.timeoutMs');
    expect(judged({})).toEqual([]);
    expect(judged({ timeoutMs: 5_000 })).toEqual([]);
    expect(judged({ timeoutMs: 10_000, retries: 0 })).toEqual([]);
    const cut = judged({ timeoutMs: 10_000 });
    expect(cut).toHaveLength(1);
    expect(cut[0]!.message).toMatch(/^credit\.judge\.timeoutMs 10000 is not below credit\.timeoutMs 10000: a judge call that does not answer is cut by its episode's deadline before its own timeout fires, so it is never retried \(credit\.judge\.retries 3\)/);
    expect(cut[0]!.message).toMatch(/at most half of it for one retry to fit \(defaults 4000 and 10000\) — or raise credit\.timeoutMs$/);
    expect(judged({ timeoutMs: 4_000 }, { timeoutMs: 3_000 })).toHaveLength(1);
  });

  // the same verdict, 10 of 100, was a failure with a first error and a preference pair under
  // normalize: true (R = 0.1) and a success with neither under normalize: false (R = 10 ≥ τ 0.5)
  it('normalize: false with a range and no successThreshold of its name: τ is the [0, 1] default in the range\'s units, said with the name and a pass mark in its units', () => {
    const credit = (c: Record<string, unknown>) =>
      configAdvice(loadConfig({ env: {}, overrides: { credit: c, source: { kind: 'file' }, sinks: { live: { enabled: false } } } }).config).filter((a) => a.key.startsWith('credit.successThreshold'));
    const pct = { pct: { min: 0, max: 100 } };
    const advice = credit({ normalize: false, normalization: pct });
    expect(advice.map((a) => a.key)).toEqual(['credit.successThreshold.pct']);
    expect(advice[0]!.message).toBe(
      "credit.normalize is false, so R and τ are in the range's units, and credit.normalization.pct (0 … 100) has no credit.successThreshold.pct: its runs are judged against credit.defaultSuccessThreshold 0.5, a pass mark stated for [0, 1] (the middle of it) — set credit.successThreshold.pct in the range's units (e.g. 50, its middle), or leave credit.normalize on",
    );
    expect(credit({ normalize: false, normalization: { likert: { min: 1, max: 5, higherIsBetter: false } } })[0]!.message).toContain('(e.g. 3, its middle)');
    // a threshold of its own, a default set on purpose, [0, 1], or normalized scores: nothing to say
    expect(credit({ normalize: false, normalization: pct, successThreshold: { pct: 70 } })).toEqual([]);
    expect(credit({ normalize: false, normalization: pct, defaultSuccessThreshold: 60 })).toEqual([]);
    expect(credit({ normalize: false, normalization: { unit: { min: 0, max: 1 } } })).toEqual([]);
    expect(credit({ normalization: pct })).toEqual([]);
  });

  it('check shows the module advice (run logs every advice at start: src/cli/main.ts)', async () => {
    const path = fileURLToPath(new URL('../games/modules/additive.mjs', import.meta.url));
    const config = loadConfig({ env: {}, overrides: { credit: { game: 'module', module: { path } }, source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { live: { enabled: false } } } }).config;
    const report = await runChecks(config);
    expect(report.ok).toBe(true);
    expect(renderCheckReport(report)).toMatch(/^! credit\.game: module with runtime\.creditWorkers 0 runs your value function on the main thread/m);
  });

  it('liveness stall check: off by default; one not well above creditTimeoutMs draws advice (it would restart a job that is only slow)', () => {
    const runtime = (r: Record<string, unknown>) => loadConfig({ env: {}, overrides: { runtime: r, source: { kind: 'file' }, sinks: { live: { enabled: false } } } }).config;
    expect(runtime({}).runtime.livenessStallMs).toBe(0);
    expect(configAdvice(runtime({ livenessStallMs: 600_000 }))).toEqual([]);
    const advice = configAdvice(runtime({ livenessStallMs: 60_000, creditTimeoutMs: 30_000 }));
    expect(advice.map((a) => a.key)).toEqual(['runtime.livenessStallMs']);
    expect(advice[0]!.message).toMatch(/runtime\.livenessStallMs 60000 is not well above runtime\.creditTimeoutMs 30000/);
  });

  it('check shows the advice as a warning and stays ready', async () => {
    // on a receiver that can listen (source.kind file is not ready: run refuses it)
    const report = await runChecks(loadConfig({ env: {}, overrides: { episodes: { awaitEvaluationMs: 1000 }, source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { live: { enabled: false } } } }).config);
    expect(report.ok).toBe(true);
    expect(renderCheckReport(report)).toMatch(/^! episodes\.awaitEvaluationMs 1000 is not above episodes\.graceMs 2000/m);
  });

  it('Kafka settings the otlp-http source does not use draw advice naming them (a file with brokers but no kind: kafka started a receiver and never read Kafka, without a word)', () => {
    const load = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;
    expect(configAdvice(load({})).filter((a) => a.key.startsWith('source.k') || a.key.startsWith('sinks.kafka'))).toEqual([]);
    const forgot = configAdvice(load({ source: { kafka: { brokers: ['kafka:9092'] } } }));
    expect(forgot.map((a) => a.key)).toEqual(['source.kind']);
    expect(forgot[0]!.message).toContain('source.kafka is set but source.kind is otlp-http: nothing is read from Kafka');
    expect(forgot[0]!.message).toContain('set source.kind: kafka (or AGENT_CREDIT_SOURCE_KIND=kafka)');
    const sink = configAdvice(load({ sinks: { kafka: { delivery: 'exactly-once', partitions: 3 } } }));
    expect(sink.map((a) => a.key)).toEqual(['sinks.kafka']);
    expect(sink[0]!.message).toMatch(/^sinks\.kafka\.delivery is set but source\.kind is otlp-http: only the kafka source publishes to Kafka/);
    // with the kafka source they are what it uses
    expect(configAdvice(load({ source: { kind: 'kafka', kafka: { brokers: ['kafka:9092'] } }, sinks: { kafka: { delivery: 'exactly-once' } } }))).toEqual([]);
  });

  it('SASL PLAIN or OAUTHBEARER without source.kafka.ssl draws advice, so check shows it too (run alone warned, for PLAIN only)', async () => {
    const kafka = (sasl: Record<string, unknown>, ssl: unknown = false) =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: ['kafka:9092'], ssl, sasl } } } }).config;
    const plain = configAdvice(kafka({ mechanism: 'plain', username: 'u', password: 'p' }));
    expect(plain.map((a) => a.key)).toEqual(['source.kafka.ssl']);
    expect(plain[0]!.message).toContain('SASL PLAIN sends the password to the brokers in clear — set source.kafka.ssl');
    expect(configAdvice(kafka({ mechanism: 'oauthbearer', tokenFile: '/t' }))[0]!.message).toContain('SASL OAUTHBEARER sends the token to the brokers in clear');
    expect(configAdvice(kafka({ mechanism: 'plain', username: 'u', password: 'p' }, true))).toEqual([]);
    expect(configAdvice(kafka({ mechanism: 'scram-sha-512', username: 'u', password: 'p' }))).toEqual([]);
    const { FakeKafka } = await import('../kafka/fake-kafka.js');
    const fake = new FakeKafka();
    const text = renderCheckReport(await runChecks(kafka({ mechanism: 'plain', username: 'u', password: 'p' }), { kafkaClient: async () => fake }));
    expect(text).toMatch(/^! source\.kafka\.sasl without source\.kafka\.ssl: SASL PLAIN sends the password/m);
  });

  it('a SASL credential with a line break or spaces at an end (a Secret made from a file ending in a newline) draws advice naming the key, never the value', () => {
    const kafka = (sasl: Record<string, unknown>) => loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: ['kafka:9092'], ssl: true, sasl } } } }).config;
    const fromEnv = configAdvice(kafka({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cr3t-Pa55\n' }));
    expect(fromEnv.map((a) => a.key)).toEqual(['source.kafka.sasl.password']);
    expect(fromEnv[0]!.message).toContain('source.kafka.sasl.password ends with a line break (value hidden: a secret)');
    expect(fromEnv[0]!.message).toContain('AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD');
    expect(fromEnv[0]!.message).not.toContain('s3cr3t');
    const oauth = configAdvice(kafka({ mechanism: 'oauthbearer', tokenEndpoint: 'https://idp.example/token', clientId: ' app', clientSecret: 'x ' }));
    expect(oauth.map((a) => [a.key, a.message.split(' (')[0]])).toEqual([
      ['source.kafka.sasl.clientId', 'source.kafka.sasl.clientId starts with a space'],
      ['source.kafka.sasl.clientSecret', 'source.kafka.sasl.clientSecret ends with a space'],
    ]);
    expect(oauth[0]!.message).toContain('AGENT_CREDIT_SOURCE_KAFKA_SASL_CLIENT_ID');
    expect(configAdvice(kafka({ mechanism: 'plain', username: 'u', password: 'p w' }))).toEqual([]);
  });

  it('a job with the live page off and no metricsPort serves no /metrics, /healthz or /readyz: said, naming telemetry.metricsPort; replay (source file) is not a server', () => {
    const config = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;
    const off = configAdvice(config({ sinks: { live: { enabled: false } } }));
    expect(off.map((a) => a.key)).toEqual(['telemetry.metricsPort']);
    expect(off[0]!.message).toContain('serves no /metrics, /healthz or /readyz');
    expect(configAdvice(config({ sinks: { live: { enabled: false } }, telemetry: { metricsPort: 9464 } })).map((a) => a.key)).not.toContain('telemetry.metricsPort');
    expect(configAdvice(config({})).map((a) => a.key)).not.toContain('telemetry.metricsPort');
    expect(configAdvice(config({ source: { kind: 'file' }, sinks: { live: { enabled: false } } }))).toEqual([]);
  });

  // the events of otlp-http go to stdout and the live page only: both off, each one was dropped and check said ready
  it('otlp-http with stdout and the live page off drops every event: said, naming the keys and the fixes; kafka and replay are not concerned', async () => {
    const config = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;
    const off = configAdvice(config({ sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 9464 } }));
    expect(off.map((a) => a.key)).toEqual(['sinks.stdout.enabled']);
    expect(off[0]!.message).toMatch(/^sinks\.stdout and sinks\.live are both off and source\.kind is otlp-http.*every credit event is computed and dropped.*set sinks\.stdout\.enabled: true \(or sinks\.live\.enabled\), or use source\.kind: kafka/);
    expect(configAdvice(config({ sinks: { stdout: { enabled: false } } })).map((a) => a.key)).not.toContain('sinks.stdout.enabled');
    expect(configAdvice(config({ sinks: { live: { enabled: false } } })).map((a) => a.key)).not.toContain('sinks.stdout.enabled');
    expect(configAdvice(config({ source: { kind: 'kafka', kafka: { brokers: ['localhost:9092'] } }, sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 9464 } })).map((a) => a.key)).not.toContain('sinks.stdout.enabled');
    const report = await runChecks(config({ source: { http: { port: 0 }, grpc: { enabled: false } }, sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 0 } }));
    expect(renderCheckReport(report)).toMatch(/^! sinks\.stdout and sinks\.live are both off/m);
  });
});
