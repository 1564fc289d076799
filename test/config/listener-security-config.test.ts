/**
 * `source.http.tls` / `auth` and `sinks.live.tls` / `auth`: keys, environment overrides, and
 * errors that name the key (files read at start).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { resolveJobListeners, resolveListenerSecurity } from '../../src/http/listener-security.js';
import { startLocalJob } from '../../src/runtime/local-job.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls.js';

let tls: TlsMaterial;
beforeAll(() => {
  tls = makeTlsMaterial();
});
afterAll(() => tls.remove());

const config = (overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ env, overrides }).config;
const problemsOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('no ConfigError');
};

describe('listener security settings', () => {
  it('are off by default (plain http, no token)', () => {
    const c = config({});
    expect(c.source.http.tls).toBeUndefined();
    expect(c.source.http.auth).toBeUndefined();
    expect(c.sinks.live.tls).toBeUndefined();
    expect(c.sinks.live.auth).toBeUndefined();
  });

  it('take AGENT_CREDIT_<SECTION>_<KEY> overrides, the token kept out of the file', () => {
    const { config: c, origins } = loadConfig({
      env: {
        AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN: 'abc123',
        AGENT_CREDIT_SOURCE_HTTP_TLS_CERT_FILE: tls.serverCert,
        AGENT_CREDIT_SOURCE_HTTP_TLS_KEY_FILE: tls.serverKey,
        AGENT_CREDIT_SOURCE_HTTP_TLS_CLIENT_CA_FILE: tls.clientCa,
        AGENT_CREDIT_SINKS_LIVE_AUTH_TOKEN_FILE: '/run/secrets/live-token',
      },
    });
    expect(c.source.http.auth).toEqual({ token: 'abc123' });
    expect(c.source.http.tls).toEqual({ certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa });
    expect(c.sinks.live.auth).toEqual({ tokenFile: '/run/secrets/live-token' });
    expect(origins.get('source.http.auth.token')).toBe('AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN');
  });

  it('need exactly one of token and tokenFile, and never echo the token', () => {
    const both = problemsOf(() => loadConfig({ env: {}, text: 'source:\n  http:\n    auth:\n      token: hunter2-secret\n      tokenFile: /x\n' }));
    expect(both.join('\n')).toMatch(/source\.http\.auth\.tokenFile: give exactly one of token \(best from the environment\) or tokenFile/);
    const none = problemsOf(() => loadConfig({ env: {}, text: 'sinks:\n  live:\n    auth: {}\n' }));
    expect(none.join('\n')).toMatch(/sinks\.live\.auth: give exactly one of token/);
    const wrongType = problemsOf(() => loadConfig({ env: {}, text: 'source:\n  http:\n    auth:\n      token: [hunter2-secret]\n' }));
    expect(wrongType.join('\n')).toMatch(/source\.http\.auth\.token: expected a string, got a list \(value hidden: a secret\)/);
    expect([...both, ...wrongType].join('\n')).not.toContain('hunter2');
  });

  it('need both certFile and keyFile', () => {
    expect(problemsOf(() => loadConfig({ env: {}, text: `source:\n  http:\n    tls:\n      certFile: ${tls.serverCert}\n` })).join('\n')).toMatch(/source\.http\.tls\.keyFile: expected a string, got nothing/);
  });
});

describe('listener security files (read at start)', () => {
  it('a missing certificate file is a config error naming the key and the fix — run fails before anything listens', async () => {
    const c = config({ source: { http: { port: 0, tls: { certFile: join(tls.dir, 'nope.crt'), keyFile: tls.serverKey } }, grpc: { port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } });
    expect(problemsOf(() => resolveJobListeners(c))).toEqual([`source.http.tls.certFile: cannot read ${join(tls.dir, 'nope.crt')} (ENOENT) — give the path of the server's certificate (PEM), readable by this process`]);
    await expect(startLocalJob(c, { logger: createLogger('silent') })).rejects.toThrow(/source\.http\.tls\.certFile: cannot read .*nope\.crt \(ENOENT\)/);
  });

  it('a token file that does not exist is a config error naming the key', () => {
    const c = config({ sinks: { live: { auth: { tokenFile: join(tls.dir, 'no-token') } } } });
    expect(problemsOf(() => resolveJobListeners(c))).toEqual([
      `sinks.live.auth.tokenFile: cannot read ${join(tls.dir, 'no-token')} (ENOENT) — give the path of a file holding the token, readable by this process (or set AGENT_CREDIT_SINKS_LIVE_AUTH_TOKEN instead)`,
    ]);
  });

  it('lists every bad file at once: not PEM, a key that is not the certificate’s, an empty token file, a client CA that holds no certificate', () => {
    const notPem = join(tls.dir, 'cert.der');
    writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01]));
    const empty = join(tls.dir, 'empty-token');
    writeFileSync(empty, '\n\n');
    const c = config({
      source: { http: { tls: { certFile: notPem, keyFile: tls.serverKey, clientCaFile: tls.clientKey }, auth: { tokenFile: empty } } },
      sinks: { live: { tls: { certFile: tls.serverCert, keyFile: tls.clientKey } } },
    });
    const problems = problemsOf(() => resolveJobListeners(c));
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^source\.http\.tls\.certFile: .*cert\.der is not PEM \(no "-----BEGIN" line\) — give the server's certificate in PEM/);
    expect(problems[1]).toMatch(/^source\.http\.tls\.clientCaFile: .*client\.key holds no certificate \(its PEM block is PRIVATE KEY\)/);
    expect(problems[2]).toMatch(/^source\.http\.auth\.tokenFile: .*empty-token is empty — write the token into it/);
    expect(problems[3]).toMatch(/^sinks\.live\.tls\.keyFile: the key in .*client\.key does not belong to the certificate in sinks\.live\.tls\.certFile/);
  });

  it('a token file may list several tokens (rotation), each accepted', () => {
    const file = join(tls.dir, 'tokens');
    writeFileSync(file, 'old-token\n  new-token  \n');
    const { auth } = resolveListenerSecurity({ auth: { tokenFile: file } }, 'source.http');
    expect(auth!.checkHeader('Bearer old-token')).toBe('ok');
    expect(auth!.checkHeader('Bearer new-token')).toBe('ok');
    expect(auth!.checkHeader('Bearer other')).toBe('invalid');
    expect(auth!.checkHeader(undefined)).toBe('missing');
  });

  it('a token that cannot be sent in a header is refused without showing it', () => {
    const problems = problemsOf(() => resolveListenerSecurity({ auth: { token: 'has a space' } }, 'source.http'));
    expect(problems[0]).toMatch(/^source\.http\.auth\.token: the token holds spaces or characters that cannot be sent in an HTTP header \(value hidden: a secret\)/);
    expect(problems[0]).not.toContain('has a space');
  });
});
