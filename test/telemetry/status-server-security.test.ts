/**
 * The separate status server (`telemetry.metricsPort`) with `telemetry.metricsTls` / `metricsAuth`:
 * /metrics — every agent by name, with its credit — needs the token and, with a client CA, a client
 * certificate; /healthz and /readyz answer probes that send neither (a kubelet's https probe).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJobListeners } from '../../src/http/listener-security.js';
import { HealthState } from '../../src/runtime/health.js';
import { HealthServer } from '../../src/runtime/health-server.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { configAdvice } from '../../src/config/advice.js';
import { httpsRequest, makeTlsMaterial, type TlsMaterial } from '../support/tls.js';

const TOKEN = 'status-server-token-0123456789';
let tls: TlsMaterial;
let ca: string;
const telemetry = new SelfTelemetry();
const health = new HealthState();
const servers: HealthServer[] = [];

/** A status server started from a config, as the jobs start it (resolveJobListeners → HealthServer). */
async function statusServer(telemetrySection: Record<string, unknown>): Promise<string> {
  const config = validateConfig({ telemetry: { metricsPort: 0, ...telemetrySection } });
  const security = resolveJobListeners(config).status;
  const s = new HealthServer({ host: '127.0.0.1', port: 0, security }, health, telemetry);
  await s.start();
  servers.push(s);
  return `${s.scheme()}://127.0.0.1:${s.port()}`;
}

beforeAll(() => {
  tls = makeTlsMaterial();
  ca = tls.read(tls.serverCert);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await telemetry.shutdown();
  tls.remove();
});

describe('status server with TLS and a bearer token', () => {
  it('serves https; /metrics needs the token, probes do not', async () => {
    const url = await statusServer({ metricsTls: { certFile: tls.serverCert, keyFile: tls.serverKey }, metricsAuth: { token: TOKEN } });
    expect(url).toMatch(/^https:/);
    expect((await httpsRequest(`${url}/healthz`, { ca })).status).toBe(200);
    expect((await httpsRequest(`${url}/readyz`, { ca })).status).toBe(200);
    const none = await httpsRequest(`${url}/metrics`, { ca });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="agent-credit metrics"');
    expect(JSON.parse(none.body.toString()).error).toMatch(/telemetry\.metricsAuth/);
    const wrong = await httpsRequest(`${url}/metrics`, { ca, headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    const ok = await httpsRequest(`${url}/metrics`, { ca, headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toMatch(/agent_credit_/);
    // an unknown path is not an oracle for the token either
    expect((await httpsRequest(`${url}/nothing`, { ca })).status).toBe(401);
  });

  it('with a client CA: /metrics needs a certificate it signed, probes connect without one', async () => {
    const url = await statusServer({ metricsTls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa } });
    // the kubelet's https probe presents no client certificate
    expect((await httpsRequest(`${url}/healthz`, { ca })).status).toBe(200);
    expect((await httpsRequest(`${url}/readyz`, { ca })).status).toBe(200);
    const bare = await httpsRequest(`${url}/metrics`, { ca });
    expect(bare.status).toBe(403);
    expect(JSON.parse(bare.body.toString()).error).toMatch(/presented no client certificate .*telemetry\.metricsTls\.clientCaFile/);
    const stranger = await httpsRequest(`${url}/metrics`, { ca, cert: tls.read(tls.strangerCert), key: tls.read(tls.strangerKey) });
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body.toString()).error).toMatch(/certificate was refused/);
    const signed = await httpsRequest(`${url}/metrics`, { ca, cert: tls.read(tls.clientCert), key: tls.read(tls.clientKey) });
    expect(signed.status).toBe(200);
    expect(signed.body.toString()).toMatch(/agent_credit_/);
  });
});

describe('status server settings', () => {
  it('refuses metricsTls / metricsAuth without metricsPort, naming the key and the live page keys', () => {
    let err: unknown;
    try {
      validateConfig({ telemetry: { metricsAuth: { token: TOKEN }, metricsTls: { certFile: 'c.pem', keyFile: 'k.pem' } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as Error).message;
    expect(text).toMatch(/telemetry\.metricsAuth: .*only with telemetry\.metricsPort.*sinks\.live\.auth/);
    expect(text).toMatch(/telemetry\.metricsTls: .*sinks\.live\.tls/);
  });

  it('names the status server key of an unreadable token file, with its environment variable', () => {
    const config = validateConfig({ telemetry: { metricsPort: 0, metricsAuth: { tokenFile: '/nonexistent/token' } } });
    expect(() => resolveJobListeners(config)).toThrow(/telemetry\.metricsAuth\.tokenFile: cannot read \/nonexistent\/token .*AGENT_CREDIT_TELEMETRY_METRICS_AUTH_TOKEN/);
  });

  it('warns when the status server listens beyond loopback in clear and open', () => {
    const advice = configAdvice(validateConfig({ telemetry: { metricsPort: 9464, metricsHost: '0.0.0.0' }, sinks: { live: { enabled: false } } }));
    expect(advice.map((a) => a.key)).toEqual(['telemetry.metricsTls', 'telemetry.metricsAuth']);
    expect(advice[1]!.message).toMatch(/telemetry\.metricsHost 0\.0\.0\.0 .*the status server \(\/metrics\) has no authentication.* set telemetry\.metricsAuth\.tokenFile \(or AGENT_CREDIT_TELEMETRY_METRICS_AUTH_TOKEN\)/);
    const secured = configAdvice(
      validateConfig({ telemetry: { metricsPort: 9464, metricsHost: '0.0.0.0', metricsAuth: { token: TOKEN }, metricsTls: { certFile: 'c.pem', keyFile: 'k.pem' } }, sinks: { live: { enabled: false } } }),
    );
    expect(secured).toEqual([]);
  });

  it('reads the token from AGENT_CREDIT_TELEMETRY_METRICS_AUTH_TOKEN', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const { config } = loadConfig({ env: { AGENT_CREDIT_TELEMETRY_METRICS_PORT: '0', AGENT_CREDIT_TELEMETRY_METRICS_AUTH_TOKEN: TOKEN } });
    expect(config.telemetry.metricsAuth).toEqual({ token: TOKEN });
  });
});
