/**
 * The live page's `/?token=` with a token as `openssl rand -base64 32` makes it (the advice the
 * config error gives): `+`, `/` and `=` typed into the address bar as they are. A browser sends
 * them unencoded; `+` in a query is not a space here (a token holds no spaces).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveListenerSecurity } from '../../src/http/listener-security.js';
import { LiveSink } from '../../src/sinks/live/index.js';

const TOKEN = 'k3+Zq/8xW1v+AbCdEfGh0123456789abcdefgh+/A=';
let live: LiveSink;
let base = '';

beforeAll(async () => {
  live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 4, security: resolveListenerSecurity({ auth: { token: TOKEN } }, 'sinks.live') });
  await live.start();
  base = live.address().url;
});
afterAll(async () => {
  await live.close();
});

/** GET with the path sent byte for byte as given (no client-side encoding). */
function get(path: string): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('live page /?token= with a base64 token', () => {
  it('accepts the token typed as is (+ / =), and percent-encoded', async () => {
    const typed = await get(`/?token=${TOKEN}`);
    expect(typed.status).toBe(200);
    expect(typed.setCookie).toHaveLength(1);
    expect((await get(`/?token=${encodeURIComponent(TOKEN)}`)).status).toBe(200);
    expect((await get(`/?other=1&token=${TOKEN}`)).status).toBe(200);
  });

  it('still refuses a token with a + where the real one has none, or a space', async () => {
    expect((await get(`/?token=${TOKEN.replace('+', '%20')}`)).status).toBe(401);
    expect((await get(`/?token=${TOKEN.slice(0, -1)}`)).status).toBe(401);
    expect((await get(`/?token=%E0%A4%A`)).status).toBe(401); // malformed percent-encoding: refused, not a crash
  });
});
