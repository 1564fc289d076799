/**
 * The live page with `sinks.live.tls` / `auth`: the page, /events, /api/recent and /metrics need
 * the token (header, or the cookie the page gets from `/?token=` once); /healthz and /readyz stay
 * open for probes.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerAuth } from '../../src/http/bearer-auth.js';
import { resolveListenerSecurity } from '../../src/http/listener-security.js';
import { HealthState } from '../../src/runtime/health.js';
import { LiveSink } from '../../src/sinks/live/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { httpsRequest, makeTlsMaterial, type TlsMaterial } from '../support/tls.js';

const TOKEN = 'live-page-token-0123456789';
let tls: TlsMaterial;
let ca: string;
const telemetry = new SelfTelemetry();
const health = new HealthState();
let live: LiveSink;
let url = '';

beforeAll(async () => {
  tls = makeTlsMaterial();
  ca = tls.read(tls.serverCert);
  const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey }, auth: { token: TOKEN } }, 'sinks.live');
  live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 4, health, telemetry, security });
  await live.start();
  url = live.address().url;
});
afterAll(async () => {
  await live.close();
  await telemetry.shutdown();
  tls.remove();
});

const get = (path: string, headers: Record<string, string> = {}) => httpsRequest(`${url}${path}`, { ca, headers });

/** Status and content type of /events, without waiting for the stream to end. */
function eventsStatus(headers: Record<string, string>): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events`, { ca, headers, agent: false }, (res) => {
      resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] });
      req.destroy();
    });
    req.on('error', (e) => (/aborted|socket hang up/.test(e.message) ? undefined : reject(e)));
    req.end();
  });
}

describe('live page with TLS and a bearer token', () => {
  it('is served over https', () => {
    expect(url).toMatch(/^https:\/\//);
  });

  it('keeps /healthz and /readyz open (orchestrator probes send no token)', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('refuses the page, /events, /api/recent, /api/agents and /metrics without the token: 401 with WWW-Authenticate: Bearer', async () => {
    for (const path of ['/', '/api/recent', '/api/agents', '/metrics']) {
      const r = await get(path);
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate'], path).toBe('Bearer realm="agent-credit live"');
    }
    expect((await get('/')).body.toString()).toMatch(/open \/\?token=<token> once/);
    expect((await eventsStatus({})).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong' })).headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('serves them with Authorization: Bearer <token> (scripts, Prometheus)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await get('/', auth)).status).toBe(200);
    expect((await get('/api/recent', auth)).status).toBe(200);
    expect((await get('/api/agents', auth)).status).toBe(200);
    const metrics = await get('/metrics', auth);
    expect(metrics.status).toBe(200);
    expect(metrics.body.toString()).toMatch(/# (HELP|TYPE)/);
    expect(await eventsStatus(auth)).toEqual({ status: 200, type: 'text/event-stream' });
  });

  it('/?token= once gives the browser an HttpOnly, SameSite=Strict, Secure cookie (not the token) that opens the page, /events and /api/recent', async () => {
    const first = await get(`/?token=${encodeURIComponent(TOKEN)}`);
    expect(first.status).toBe(200);
    expect(first.headers['referrer-policy']).toBe('no-referrer');
    expect(first.body.toString()).toContain("history.replaceState(null, '', location.pathname)");
    const setCookie = (first.headers['set-cookie'] ?? [])[0] ?? '';
    expect(setCookie).toMatch(new RegExp(`^agent_credit_live_${live.address().port}=[A-Za-z0-9_-]+; Path=/; HttpOnly; SameSite=Strict; Secure$`));
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    expect((await get('/', { cookie })).status).toBe(200);
    expect((await get('/api/recent', { cookie })).status).toBe(200);
    expect(await eventsStatus({ cookie })).toEqual({ status: 200, type: 'text/event-stream' });
    // a forged cookie does not
    expect((await get('/api/recent', { cookie: `agent_credit_live_${live.address().port}=${BearerAuth.sessionValueOf('other')}` })).status).toBe(401);
  });

  it('takes ?token= on the page only, and only the right one', async () => {
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/?token=wrong')).headers['set-cookie']).toBeUndefined();
    expect((await get(`/api/recent?token=${encodeURIComponent(TOKEN)}`)).status).toBe(401);
    expect((await eventsStatus({})).status).toBe(401);
  });
});

describe('live page with mutual TLS', () => {
  it('refuses a browser or script without a client certificate; serves one with', async () => {
    const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa } }, 'sinks.live');
    const sink = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 4, security });
    await sink.start();
    try {
      await expect(httpsRequest(`${sink.address().url}/healthz`, { ca })).rejects.toThrow(/certificate required|socket hang up|ECONNRESET/i);
      const ok = await httpsRequest(`${sink.address().url}/`, { ca, cert: tls.read(tls.clientCert), key: tls.read(tls.clientKey) });
      expect(ok.status).toBe(200);
    } finally {
      await sink.close();
    }
  });
});
