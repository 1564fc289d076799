import { readFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { assertNoSelfLoop, selfTracingRequested, startSelfTracing, type SelfTracing } from '../../src/telemetry/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const FIXTURE = new URL(`file://${AGENTS_SDK_FIXTURES}/genai/otlp-http/`);

/** The one problem of the ConfigError `refuse` throws (the text after its "invalid configuration (environment):" heading). */
function problemOf(refuse: () => unknown): string {
  try {
    refuse();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^invalid configuration \(environment\):\n {2}/);
    expect((err as ConfigError).problems).toHaveLength(1);
    return (err as ConfigError).problems[0]!;
  }
  throw new Error('expected the self-loop to be refused');
}

describe('self-tracing (OTel Node SDK)', () => {
  it('is requested only by the standard OTEL_* variables, and OTEL_SDK_DISABLED wins', () => {
    expect(selfTracingRequested({})).toBe(false);
    expect(selfTracingRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(selfTracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(selfTracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(selfTracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
  });

  // a setting refused (exit 2), as every other: a plain Error exited 1, the code of a runtime failure
  it('refuses to export its own spans into its own receiver with a ConfigError naming the variables', () => {
    const receiver = { host: '127.0.0.1', port: 4318 };
    expect(problemOf(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }, receiver))).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT \(http:\/\/localhost:4318\) points at agent-credit's own OTLP\/HTTP receiver.*OTEL_SDK_DISABLED/);
    expect(problemOf(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, receiver))).toMatch(/^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \(http:\/\/127.0.0.1:4318\/v1\/traces\) points at agent-credit's own OTLP\/HTTP receiver/);
    expect(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, receiver)).not.toThrow();
    expect(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'console' }, receiver)).not.toThrow();
    expect(() => startSelfTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }, receiver })).toThrow(/own OTLP\/HTTP receiver/);
  });

  it('refuses a gRPC exporter pointed at its own OTLP/gRPC receiver — the default endpoint of protocol grpc is localhost:4317', () => {
    const http = { host: '127.0.0.1', port: 4318 };
    const grpc = { host: '127.0.0.1', port: 4317 };
    expect(problemOf(() => assertNoSelfLoop({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, http, grpc))).toMatch(/^the default OTLP endpoint \(http:\/\/localhost:4317\) points at agent-credit's own OTLP\/gRPC receiver \(source\.grpc 127\.0\.0\.1:4317\): .* Set OTEL_EXPORTER_OTLP_ENDPOINT \(or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\) to your collector, or OTEL_TRACES_EXPORTER=none/);
    expect(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' }, http, grpc)).toThrow(/own OTLP\/gRPC receiver/);
    // gRPC to the HTTP port, or with the gRPC receiver off: no loop into agent-credit
    expect(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, http, grpc)).not.toThrow();
    expect(() => assertNoSelfLoop({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' }, http)).not.toThrow();
  });

  describe('with the SDK started', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: SelfTracing | undefined;
    afterAll(async () => tracing?.shutdown());

    it('records one span per credited episode with its outcome and estimator', async () => {
      tracing = startSelfTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      expect(tracing).toBeDefined();
      const asm = new EpisodeAssembler({});
      for (const f of ['0001-traces.pb', '0002-traces.pb', '0003-traces.pb']) asm.addSpans(decodeTraces(new Uint8Array(readFileSync(new URL(f, FIXTURE))), 'otlp_proto'));
      asm.addEvaluations(evaluationsFromLogs(decodeLogs(new Uint8Array(readFileSync(new URL('0004-logs.pb', FIXTURE))), 'otlp_proto')));
      const episodes = [...asm.tick(), ...asm.flush()];
      expect(episodes).toHaveLength(3);
      for (const e of episodes) await processEpisode(e);

      const spans = exporter.getFinishedSpans().filter((s) => s.name === 'agent_credit.credit_episode');
      expect(spans.map((s) => s.attributes['agent_credit.episode.id']).sort()).toEqual(episodes.map((e) => e.episodeId).sort());
      expect(spans.map((s) => s.attributes['agent_credit.outcome']).sort()).toEqual(['failure', 'success', 'success']);
      for (const s of spans) {
        expect(s.attributes['agent_credit.estimator.status']).toBe('exact');
        expect(s.attributes['agent_credit.events']).toBeGreaterThan(1);
        expect(s.resource.attributes['service.name']).toBe('agent-credit');
      }
    });

    // processEpisode makes its span active only when it can matter (a no-op one is not): with the
    // SDK it is, so what credit calls (an http judge, the onSkipped hook) runs inside it
    it("makes the episode's span the active one while credit runs, a child of the caller's span", async () => {
      expect(tracing).toBeDefined(); // started by the test above
      const asm = new EpisodeAssembler({});
      asm.addSpans(decodeTraces(new Uint8Array(readFileSync(new URL('0001-traces.pb', FIXTURE))), 'otlp_proto'));
      const [episode] = asm.flush(); // no verdict: skipped, through onSkipped
      const activeInHook: (string | undefined)[] = [];
      const caller = await trace.getTracer('test').startActiveSpan('caller', async (span) => {
        await processEpisode(episode!, { onSkipped: () => activeInHook.push(trace.getActiveSpan()?.spanContext().spanId) });
        span.end();
        return span.spanContext();
      });
      const skipped = exporter.getFinishedSpans().filter((s) => s.name === 'agent_credit.credit_episode' && s.attributes['agent_credit.skipped'] === true);
      expect(skipped).toHaveLength(1);
      expect(activeInHook).toEqual([skipped[0]!.spanContext().spanId]);
      expect(skipped[0]!.parentSpanContext?.spanId).toBe(caller.spanId);
      expect(skipped[0]!.spanContext().traceId).toBe(caller.traceId);
    });
  });
});
