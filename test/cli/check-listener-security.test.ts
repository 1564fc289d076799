/** `agent-credit check` for listeners with `tls` / `auth` (src/cli/check.ts). */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { resolveListenerSecurity, sharedListenerPorts } from '../../src/http/listener-security.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls.js';

let tls: TlsMaterial;
beforeAll(() => {
  tls = makeTlsMaterial();
});
afterAll(() => tls.remove());

const config = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config;

describe('agent-credit check with TLS and a token', () => {
  it('binds with the certificate and says how the listeners are secured', async () => {
    const c = config({
      source: { http: { port: 0, tls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa }, auth: { token: 'abc' } }, grpc: { port: 0 } },
      sinks: { live: { port: 0, tls: { certFile: tls.serverCert, keyFile: tls.serverKey } } },
    });
    const report = await runChecks(c);
    expect(report.ok).toBe(true);
    const text = renderCheckReport(report);
    expect(text).toContain('✓ OTLP/HTTP receiver: any free port on 127.0.0.1 (source.http.port 0; https, client certificates required, bearer token required)');
    expect(text).toContain('✓ live page: any free port on 127.0.0.1 (sinks.live.port 0; https, no authentication)');
    // the OTLP/gRPC receiver is secured by source.http's settings, and says so
    expect(text).toContain('✓ OTLP/gRPC receiver: any free port on 127.0.0.1 (source.grpc.port 0; https, client certificates required, bearer token required)');
  });

  it('names source.grpc.port, and how to turn the gRPC receiver off, when its port is taken; says when it is off', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const text = renderCheckReport(await runChecks(config({ source: { http: { port: 0 }, grpc: { port } }, sinks: { live: { enabled: false } } })));
      expect(text).toContain(`✗ OTLP/gRPC receiver: cannot listen on 127.0.0.1:${port} (EADDRINUSE) — change source.grpc.port (or source.grpc.host), or stop what uses it; or set source.grpc.enabled: false (--no-grpc) when your exporters send OTLP/HTTP only`);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
    const off = renderCheckReport(await runChecks(config({ source: { http: { port: 0 }, grpc: { enabled: false } }, sinks: { live: { enabled: false } } })));
    expect(off).toContain('· OTLP/gRPC receiver: off (source.grpc.enabled: false) — exporters must send OTLP/HTTP');
  });

  it('probes a port in use over https when TLS is set: a running TLS receiver is named, not reported as broken TLS', async () => {
    const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey }, auth: { token: 'abc' } }, 'source.http');
    const running = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024, security }, { onSpans() {}, onLogs() {} });
    await running.start();
    try {
      const port = running.address().port;
      const c = config({ source: { http: { port, tls: { certFile: tls.serverCert, keyFile: tls.serverKey }, auth: { token: 'abc' } }, grpc: { port: 0 } }, sinks: { live: { enabled: false } } });
      const text = renderCheckReport(await runChecks(c));
      expect(text).toMatch(new RegExp(`✗ OTLP/HTTP receiver: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\) — change source\\.http\\.port \\(or source\\.http\\.host\\), or stop what uses it \\(an https server answers there: GET /healthz → 401\\)`));
    } finally {
      await running.close();
    }
  });

  it('names a running agent-credit on the receiver port: its OTLP/HTTP receiver answers /healthz with 404 (it read "GET /healthz → 404", as if something else held 4318)', async () => {
    const running = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 }, { onSpans() {}, onLogs() {} });
    await running.start();
    try {
      const port = running.address().port;
      const text = renderCheckReport(await runChecks(config({ source: { http: { port }, grpc: { enabled: false } }, sinks: { live: { enabled: false } } })));
      expect(text).toContain(`✗ OTLP/HTTP receiver: cannot listen on 127.0.0.1:${port} (EADDRINUSE) — change source.http.port (or source.http.host), or stop what uses it (an http server answers there: GET /healthz → 404 (an agent-credit OTLP/HTTP receiver) — an agent-credit already running?)`);
    } finally {
      await running.close();
    }
    // another server's 404 is not taken for one
    const other = createHttpServer((_req, res) => res.writeHead(404).end('404 page not found'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const port = (other.address() as AddressInfo).port;
      const text = renderCheckReport(await runChecks(config({ source: { http: { port }, grpc: { enabled: false } }, sinks: { live: { enabled: false } } })));
      expect(text).toContain(`(an http server answers there: GET /healthz → 404)`);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('says what holds a port in use that accepts connections and never answers (it read "no http answer there: no answer")', async () => {
    const mute = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const port = (mute.address() as AddressInfo).port;
      const text = renderCheckReport(await runChecks(config({ source: { http: { port }, grpc: { enabled: false } }, sinks: { live: { enabled: false } } })));
      expect(text).toContain(`✗ OTLP/HTTP receiver: cannot listen on 127.0.0.1:${port} (EADDRINUSE) — change source.http.port (or source.http.host), or stop what uses it (something accepts connections there but sent no http answer within 2 s — not an agent-credit, whose listeners answer GET /healthz)`);
    } finally {
      mute.close();
    }
  }, 20_000);

  it('checks the status server (telemetry.metricsPort) too, with its security, and names its keys when its port is taken', async () => {
    const c = config({
      source: { http: { port: 0 }, grpc: { port: 0 } },
      sinks: { live: { enabled: false } },
      telemetry: { metricsPort: 0, metricsTls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa }, metricsAuth: { token: 'abc' } },
    });
    const text = renderCheckReport(await runChecks(c));
    expect(text).toContain('✓ status server (/metrics, /healthz, /readyz): any free port on 127.0.0.1 (telemetry.metricsPort 0; https, client certificates required for /metrics, bearer token required for /metrics)');
    const blocker = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 }, { onSpans() {}, onLogs() {} });
    await blocker.start();
    try {
      const port = blocker.address().port;
      const taken = renderCheckReport(await runChecks(config({ source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { live: { enabled: false } }, telemetry: { metricsPort: port } })));
      expect(taken).toMatch(new RegExp(`✗ status server \\(/metrics, /healthz, /readyz\\): cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\) — change telemetry\\.metricsPort \\(or telemetry\\.metricsHost\\)`));
    } finally {
      await blocker.close();
    }
  });

  it('two listeners on one port are a config error naming both keys, as in run (check bound each alone and said the job was ready; run failed with EADDRINUSE)', async () => {
    const shared = config({ source: { http: { port: 18_555 } }, sinks: { live: { port: 18_555 } } });
    await expect(runChecks(shared)).rejects.toThrow(
      'sinks.live.port: 18555 is also source.http.port (source.http.host 127.0.0.1, sinks.live.host 127.0.0.1): two listeners cannot share a port — give each its own port, or 0 for any free port',
    );
    // an any-address host takes the port on every address
    const status = config({ source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { live: { host: '0.0.0.0', port: 18_556 } }, telemetry: { metricsPort: 18_556 } });
    await expect(runChecks(status)).rejects.toThrow(/^invalid configuration:\n {2}telemetry\.metricsPort: 18556 is also sinks\.live\.port/);
    // the same port on two addresses, port 0, and a listener that is off are fine
    expect(sharedListenerPorts(config({ source: { http: { port: 18_557, host: '127.0.0.2' } }, sinks: { live: { port: 18_557 } } }))).toEqual([]);
    expect(sharedListenerPorts(config({ source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { live: { port: 0 } }, telemetry: { metricsPort: 0 } }))).toEqual([]);
    expect(sharedListenerPorts(config({ source: { http: { port: 18_558 } }, sinks: { live: { enabled: false, port: 18_558 } } }))).toEqual([]);
  });

  it('a bad TLS file is a config error (exit 2), as in run', async () => {
    const c = config({ source: { http: { tls: { certFile: join(tls.dir, 'gone.pem'), keyFile: tls.serverKey } } } });
    await expect(runChecks(c)).rejects.toThrow(ConfigError);
  });
});

describe('agent-credit check and the OTEL_* variables run traces itself with', () => {
  it('fails, as run does, when they export into the job\'s own receiver (an endpoint exported for the app in the same shell: check said "ready", run refused)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = config({ source: { http: { port }, grpc: { enabled: false } }, sinks: { live: { enabled: false } } });
    const looped = await runChecks(c, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
    expect(looped.ok).toBe(false);
    const text = renderCheckReport(looped);
    expect(text).toContain(`✓ OTLP/HTTP receiver: 127.0.0.1:${port} is free to listen on`);
    expect(text).toContain(`✗ self-tracing: OTEL_EXPORTER_OTLP_ENDPOINT (http://127.0.0.1:${port}) points at agent-credit's own OTLP/HTTP receiver (source.http 127.0.0.1:${port})`);
    expect(text).toContain('Start agent-credit without it (put `env -u OTEL_EXPORTER_OTLP_ENDPOINT` before the command you ran, its flags kept, e.g. `env -u OTEL_EXPORTER_OTLP_ENDPOINT npm start`; or OTEL_SDK_DISABLED=true for agent-credit alone)');
    // a collector elsewhere is fine
    const elsewhere = await runChecks(c, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } });
    expect(renderCheckReport(elsewhere)).not.toContain('self-tracing');
  });
});
