/**
 * The separate status server (`telemetry.metricsPort`, on 127.0.0.1 by default) and DNS rebinding:
 * a page the operator visits, its name rebound to 127.0.0.1, must not read /metrics — every agent by
 * name with its credit — through the browser, as the live page (same guard) does not serve it either;
 * the probes stay open.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthState } from '../../src/runtime/health.js';
import { HealthServer } from '../../src/runtime/health-server.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';

const telemetry = new SelfTelemetry();
const server = new HealthServer({ host: '127.0.0.1', port: 0 }, new HealthState(), telemetry);

function get(path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port(), path, headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  telemetry.spansReceived.add(1, { source: 'otlp-http' });
  await server.start();
});
afterAll(async () => {
  await server.close();
  await telemetry.shutdown();
});

describe('status server on a loopback address', () => {
  it('does not serve /metrics to a request naming another host (a rebound name)', async () => {
    const r = await get('/metrics', `attacker.example:${server.port()}`);
    expect(r.status).toBe(403);
    expect(r.body).not.toContain('agent_credit_');
    expect(r.body).toContain('telemetry.metricsHost');
  });

  it('serves /metrics to localhost and loopback literals, and the probes to any host', async () => {
    for (const host of [`localhost:${server.port()}`, `127.0.0.1:${server.port()}`, `[::1]:${server.port()}`]) {
      const r = await get('/metrics', host);
      expect(r.status, host).toBe(200);
      expect(r.body).toContain('agent_credit_spans_received_total');
    }
    for (const path of ['/healthz', '/readyz']) expect((await get(path, 'attacker.example')).status, path).toBe(200);
  });
});
