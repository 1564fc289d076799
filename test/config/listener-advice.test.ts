/** The start-up warning for a listener beyond loopback without TLS or a token (src/config/advice.ts). */
import { describe, expect, it } from 'vitest';
import { configAdvice, loadConfig } from '../../src/config/index.js';
import { isLoopbackHost } from '../../src/http/listener-security.js';

const config = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;

describe('warning for a listener beyond loopback without TLS or a token', () => {
  it('names the key to set, for the receiver and the live page', () => {
    const advice = configAdvice(config({ source: { http: { host: '0.0.0.0' } }, sinks: { live: { host: '::' } } }));
    expect(advice.map((a) => a.key)).toEqual(['source.grpc.host', 'source.http.tls', 'source.http.auth', 'sinks.live.tls', 'sinks.live.auth']);
    advice.shift(); // the gRPC receiver left on loopback: below
    expect(advice[0]!.message).toMatch(/^source\.http\.host 0\.0\.0\.0 is not a loopback address and the OTLP\/HTTP receiver has no TLS: .* set source\.http\.tls\.certFile and source\.http\.tls\.keyFile/);
    expect(advice[1]!.message).toMatch(/the OTLP\/HTTP receiver has no authentication: anyone who reaches it can send spans, logs and evaluations — set source\.http\.auth\.tokenFile \(or AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN\)/);
    expect(advice[3]!.message).toMatch(/set sinks\.live\.auth\.tokenFile \(or AGENT_CREDIT_SINKS_LIVE_AUTH_TOKEN\)/);
  });

  it('says nothing on loopback, or with both TLS and a token; only the missing one otherwise', () => {
    expect(configAdvice(config({}))).toEqual([]);
    const secured = { host: '10.0.0.5', tls: { certFile: 'c', keyFile: 'k' }, auth: { tokenFile: 't' } };
    expect(configAdvice(config({ source: { http: secured, grpc: { host: '10.0.0.5' } }, sinks: { live: secured } }))).toEqual([]);
    expect(configAdvice(config({ source: { http: { ...secured, tls: undefined }, grpc: { enabled: false } }, sinks: { live: { enabled: false, host: '0.0.0.0' } }, telemetry: { metricsPort: 9464 } })).map((a) => a.key)).toEqual(['source.http.tls']);
  });

  it('the OTLP/gRPC receiver beyond loopback: warned about naming source.grpc.host and the source.http keys that secure it', () => {
    const advice = configAdvice(config({ source: { grpc: { host: '0.0.0.0' } } }));
    expect(advice.map((a) => a.key)).toEqual(['source.http.tls', 'source.http.auth']);
    expect(advice[0]!.message).toMatch(/^source\.grpc\.host 0\.0\.0\.0 is not a loopback address and the OTLP\/gRPC receiver has no TLS: .* set source\.http\.tls\.certFile and source\.http\.tls\.keyFile/);
    expect(advice[1]!.message).toMatch(/the OTLP\/gRPC receiver has no authentication: anyone who reaches it can send spans and logs — set source\.http\.auth\.tokenFile/);
    // off: nothing to warn about
    expect(configAdvice(config({ source: { grpc: { enabled: false, host: '0.0.0.0' } } }))).toEqual([]);
  });

  it('--host 0.0.0.0 with the gRPC receiver left on loopback: warned about naming source.grpc.host (gRPC exporters elsewhere were refused without a word)', () => {
    const secured = { tls: { certFile: 'c', keyFile: 'k' }, auth: { tokenFile: 't' } };
    const advice = configAdvice(config({ source: { http: { host: '0.0.0.0', ...secured } } }));
    expect(advice.map((a) => a.key)).toEqual(['source.grpc.host']);
    expect(advice[0]!.message).toBe(
      "source.http.host 0.0.0.0 takes OTLP/HTTP from other hosts, but the OTLP/gRPC receiver listens on source.grpc.host 127.0.0.1 (--host sets only source.http.host): gRPC exporters elsewhere (a container, another host; Python's opentelemetry-instrument sends gRPC) cannot reach it — set source.grpc.host too (AGENT_CREDIT_SOURCE_GRPC_HOST=0.0.0.0), or source.grpc.enabled: false (--no-grpc) when nothing sends gRPC",
    );
    // both open, or gRPC off: nothing to say
    expect(configAdvice(config({ source: { http: { host: '0.0.0.0', ...secured }, grpc: { host: '0.0.0.0' } } }))).toEqual([]);
    expect(configAdvice(config({ source: { http: { host: '0.0.0.0', ...secured }, grpc: { enabled: false } } }))).toEqual([]);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'agent-credit.internal', '::ffff:10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
