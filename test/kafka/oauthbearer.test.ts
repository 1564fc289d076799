/**
 * SASL/OAUTHBEARER token provider (src/kafka/oauthbearer.ts) and its settings. The broker side
 * is tested in test/integration/kafka-oauthbearer.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { explainConnectionError, resolveKafkaConnection } from '../../src/kafka/connection.js';
import { jwtExpiryMs, oauthBearerAuthenticator, oauthBearerTokenProvider, parseTokenOutput, type OAuthBearerDeps } from '../../src/kafka/oauthbearer.js';
import { tempDir } from '../support/temp-dir.js';

const jwt = (claims: object) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

function deps(over: Partial<OAuthBearerDeps> & { clock?: { t: number } } = {}): OAuthBearerDeps {
  const clock = over.clock ?? { t: 1_000_000 };
  return {
    fetch: over.fetch ?? (async () => new Response('{}')),
    now: () => clock.t,
    runCommand: over.runCommand ?? (async () => ''),
    readFile: over.readFile ?? (async () => ''),
  };
}

describe('oauthBearerTokenProvider', () => {
  it('client credentials: one request (HTTP Basic, form body) while the token is fresh, a new one shortly before expires_in', async () => {
    const clock = { t: 1_000_000 };
    const requests: { auth: string | null; body: string }[] = [];
    let n = 0;
    const fetch = (async (_url: string, init: RequestInit) => {
      requests.push({ auth: new Headers(init.headers).get('authorization'), body: String(init.body) });
      return new Response(JSON.stringify({ access_token: `tok-${++n}`, token_type: 'bearer', expires_in: 600 }), { headers: { 'content-type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const provide = oauthBearerTokenProvider({ tokenEndpoint: 'https://idp.example/token', clientId: 'agent credit', clientSecret: 's3:cret', scope: 'kafka', extensions: { logicalCluster: 'lkc-1' } }, 'source.kafka.sasl', deps({ fetch, clock }));
    const [a, b] = await Promise.all([provide(), provide()]); // concurrent connections: one request
    expect(a).toEqual({ value: 'tok-1', extensions: { logicalCluster: 'lkc-1' } });
    expect(b.value).toBe('tok-1');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.auth).toBe(`Basic ${Buffer.from('agent%20credit:s3%3Acret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(requests[0]!.body))).toEqual({ grant_type: 'client_credentials', scope: 'kafka' });
    clock.t += 530_000; // 70 s left: still used (refresh 60 s before expiry)
    expect((await provide()).value).toBe('tok-1');
    clock.t += 15_000; // 55 s left
    expect((await provide()).value).toBe('tok-2');
    expect(requests).toHaveLength(2);
  });

  it('a failed refresh keeps using the cached token while it is valid, then fails', async () => {
    const clock = { t: 0 };
    let up = true;
    const fetch = (async () => {
      if (!up) throw new Error('connect ECONNREFUSED');
      return new Response(JSON.stringify({ access_token: 'tok', expires_in: 600 }));
    }) as unknown as typeof globalThis.fetch;
    const provide = oauthBearerTokenProvider({ tokenEndpoint: 'https://idp.example/token', clientId: 'c', clientSecret: 's' }, 'source.kafka.sasl', deps({ fetch, clock }));
    expect((await provide()).value).toBe('tok');
    up = false;
    clock.t = 570_000; // past the refresh point, before expiry
    expect((await provide()).value).toBe('tok');
    clock.t = 601_000;
    await expect(provide()).rejects.toThrow(/^source\.kafka\.sasl\.tokenEndpoint: cannot reach https:\/\/idp\.example\/token \(connect ECONNREFUSED\)/);
  });

  it('a token endpoint answering something else than JSON: the error does not quote the body (it may be the token)', async () => {
    const fetch = (async () => new Response('opaque-token-value', { headers: { 'content-type': 'text/plain' } })) as unknown as typeof globalThis.fetch;
    const err = await oauthBearerTokenProvider({ tokenEndpoint: 'https://idp.example/token', clientId: 'c', clientSecret: 's' }, 'source.kafka.sasl', deps({ fetch }))().then(() => undefined, (e: Error) => e);
    expect(err?.message).toBe('source.kafka.sasl.tokenEndpoint: https://idp.example/token did not answer JSON with access_token (text/plain, 18 characters)');
  });

  it('a refused client names the keys to check, without the secret', async () => {
    const fetch = (async () => new Response('{"error":"invalid_client"}', { status: 401 })) as unknown as typeof globalThis.fetch;
    const provide = oauthBearerTokenProvider({ tokenEndpoint: 'https://idp.example/token', clientId: 'c', clientSecret: 'very-secret-9' }, 'source.kafka.sasl', deps({ fetch }));
    const err = await provide().then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/^source\.kafka\.sasl\.tokenEndpoint: https:\/\/idp\.example\/token answered 401: \{"error":"invalid_client"\}; check source\.kafka\.sasl\.clientId and source\.kafka\.sasl\.clientSecret/);
    expect(err?.message).not.toContain('very-secret-9');
  });

  it('token command: JSON with access_token, or the token itself (expiry from its exp claim); a failing command names the key', async () => {
    const clock = { t: 2_000_000_000_000 };
    let runs = 0;
    const token = jwt({ sub: 'svc', exp: clock.t / 1000 + 300 });
    const provide = oauthBearerTokenProvider({ tokenCommand: ['print-token'] }, 'source.kafka.sasl', deps({ clock, runCommand: async () => (runs++, `${token}\n`) }));
    expect((await provide()).value).toBe(token);
    clock.t += 200_000;
    await provide();
    expect(runs).toBe(1); // 100 s left of 300: still fresh
    clock.t += 50_000;
    await provide();
    expect(runs).toBe(2);
    const failing = oauthBearerTokenProvider({ tokenCommand: ['gcloud', 'auth', 'print-access-token'] }, 'source.kafka.sasl', deps({ runCommand: async () => Promise.reject(new Error('Command failed: gcloud: not logged in')) }));
    await expect(failing()).rejects.toThrow(/^source\.kafka\.sasl\.tokenCommand: gcloud failed \(Command failed: gcloud: not logged in\)/);
    // the real runner: exit code and stderr, not the command line (its arguments may be secrets)
    const exits = oauthBearerTokenProvider({ tokenCommand: [process.execPath, '-e', 'console.error("no session"); process.exit(3)', 'secret-arg-123'] });
    const err = await exits().then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/tokenCommand: .*node failed \(exit code 3: no session\)/);
    expect(err?.message).not.toContain('secret-arg-123');
    const real = oauthBearerTokenProvider({ tokenCommand: [process.execPath, '-e', 'console.log(JSON.stringify({ access_token: "from-node", expires_in: 60 }))'] });
    expect(await real()).toEqual({ value: 'from-node' });
  });

  it('token file: read again for every connection (a sidecar rotates it); empty or missing names the key', async () => {
    let content = 'first';
    const provide = oauthBearerTokenProvider({ tokenFile: '/var/run/token' }, 'source.kafka.sasl', deps({ readFile: async () => `${content}\n` }));
    expect((await provide()).value).toBe('first');
    content = 'rotated';
    expect((await provide()).value).toBe('rotated');
    content = '';
    await expect(provide()).rejects.toThrow('source.kafka.sasl.tokenFile: the token is empty');
    await expect(oauthBearerTokenProvider({ tokenFile: '/no/such/token/file' })()).rejects.toThrow(/^source\.kafka\.sasl\.tokenFile: cannot read \/no\/such\/token\/file \(ENOENT\)/);
  });

  it('parses expiry from expires_in or the JWT', () => {
    expect(parseTokenOutput('{"token":"t","expires_in":"30"}', 1_000)).toEqual({ value: 't', expiresAtMs: 31_000 });
    expect(jwtExpiryMs(jwt({ exp: 1234 }))).toBe(1_234_000);
    expect(jwtExpiryMs('opaque-token')).toBeUndefined();
    expect(() => parseTokenOutput('{"nope":1}', 0)).toThrow(/no access_token/);
  });
});

describe('oauthBearerAuthenticator (RFC 7628 client side)', () => {
  /** A SASL exchange that records what is sent and answers from `answers` (int32-length-prefixed, as on the wire). */
  function exchange(answers: (string | Error)[]) {
    const sent: string[] = [];
    const saslAuthenticate = async (step: { request: { encode(): Promise<Buffer> }; response?: { decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown> } }) => {
      const bytes = await step.request.encode();
      expect(bytes.readInt32BE(0)).toBe(bytes.length - 4);
      sent.push(bytes.subarray(4).toString('utf8'));
      const answer = answers.shift() ?? '';
      if (answer instanceof Error) throw answer;
      if (!step.response) return undefined;
      const body = Buffer.from(answer);
      const framed = Buffer.concat([Buffer.alloc(4), body]);
      framed.writeInt32BE(body.length, 0);
      return step.response.parse(await step.response.decode(framed));
    };
    return { sent, saslAuthenticate, host: 'b1', port: 9093 };
  }

  it('sends the token and extensions as the initial response; an empty answer is success', async () => {
    const ex = exchange(['']);
    await oauthBearerAuthenticator(async () => ({ value: 'tok', extensions: { logicalCluster: 'lkc-1' } }), 'source.kafka.sasl.tokenFile')(ex).authenticate();
    expect(ex.sent).toEqual(['n,,\u0001auth=Bearer tok\u0001logicalCluster=lkc-1\u0001\u0001']);
  });

  it("a refusal: acknowledges the broker's error challenge with %x01 and fails with the broker's reason, naming the setting", async () => {
    const ex = exchange(['{"status":"invalid_token"}', new Error('{"status":"invalid_token"}')]);
    const err = await oauthBearerAuthenticator(async () => ({ value: 'tok' }), 'source.kafka.sasl.tokenEndpoint')(ex).authenticate().then(() => undefined, (e: Error) => e);
    expect(ex.sent).toEqual(['n,,\u0001auth=Bearer tok\u0001\u0001', '\u0001']);
    expect(err?.message).toBe('source.kafka.sasl.tokenEndpoint: the broker at b1:9093 refused the OAUTHBEARER token: {"status":"invalid_token"}; check the token\'s expiry, issuer, audience and scope against the listener\'s sasl.oauthbearer.* settings');
  });
});

describe('explainConnectionError with OAUTHBEARER', () => {
  it('blames the token only for a connection closed after a token was sent', async () => {
    const file = join(tempDir('oauth-'), 'token');
    writeFileSync(file, 'tok');
    const connection = resolveKafkaConnection({ sasl: { mechanism: 'oauthbearer', tokenFile: file } });
    const closed = Object.assign(new Error('No brokers in the broker pool'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    expect(explainConnectionError(closed, 'source.kafka', connection)).toBe(closed); // no token sent yet
    if (connection.sasl?.mechanism !== 'oauthbearer') throw new Error('expected an oauthbearer connection');
    await connection.sasl.oauthBearerProvider();
    expect(explainConnectionError(closed, 'source.kafka', connection).message).toMatch(/check source\.kafka\.sasl: the broker refused the OAUTHBEARER token/);
    const refused = new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    // a refused connection is the address, not the token: it names source.kafka.brokers (never sasl)
    const explained = explainConnectionError(refused, 'source.kafka', connection).message;
    expect(explained).toContain('check source.kafka.brokers');
    expect(explained).not.toMatch(/sasl|token/);
    const missing = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError' });
    expect(explainConnectionError(missing, 'source.kafka', connection)).toBe(missing);
  });
});

describe('source.kafka.sasl with mechanism oauthbearer', () => {
  const base = 'source:\n  kind: kafka\n  kafka:\n    brokers: [a:9092]\n    sasl:\n      mechanism: oauthbearer\n';
  const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ text, env }).config.source.kafka!.sasl;

  it('takes a token endpoint with the client secret from the environment', () => {
    expect(load(`${base}      tokenEndpoint: https://idp/token\n      clientId: c\n`, { AGENT_CREDIT_SOURCE_KAFKA_SASL_CLIENT_SECRET: 's' })).toMatchObject({ tokenEndpoint: 'https://idp/token', clientId: 'c', clientSecret: 's' });
  });

  it('names the key and the fix for each mistake, never echoing the secret', () => {
    expect(() => load(base)).toThrow(/source\.kafka\.sasl: mechanism oauthbearer needs exactly one token source: tokenEndpoint \(with clientId, clientSecret\), tokenCommand or tokenFile/);
    expect(() => load(`${base}      tokenEndpoint: https://idp/token\n      clientSecret: hunter22\n`)).toThrow(/source\.kafka\.sasl\.clientId: required with tokenEndpoint/);
    expect(() => load(`${base}      tokenFile: /t\n      clientSecret: hunter22\n`)).toThrow(/source\.kafka\.sasl\.clientSecret: only used with tokenEndpoint: remove it/);
    expect(() => load(`${base}      tokenFile: /t\n      clientSecret: hunter22\n`)).not.toThrow(/hunter22/);
    expect(() => load(`${base}      tokenFile: /t\n      password: p\n`)).toThrow(/source\.kafka\.sasl\.password: not used with mechanism oauthbearer/);
    expect(() => load(`${base}      tokenEndpoint: http://idp.example/token\n      clientId: c\n      clientSecret: s\n`)).toThrow(/source\.kafka\.sasl\.tokenEndpoint: use https: the client secret goes to the token endpoint/);
    expect(load(`${base}      tokenEndpoint: http://127.0.0.1:8080/token\n      clientId: c\n      clientSecret: s\n`)?.tokenEndpoint).toBe('http://127.0.0.1:8080/token');
    expect(() => load(`${base}      tokenFile: /t\n      extensions: { auth: x }\n`)).toThrow(/extension key "auth" is reserved/);
    expect(() => load(`${base}      tokenFile: /t\n      extensions: { "logical-cluster": x }\n`)).toThrow(/an extension key is letters only/);
    expect(() => load('source:\n  kind: kafka\n  kafka:\n    brokers: [a:9092]\n    sasl:\n      mechanism: scram-sha-512\n      username: u\n      password: p\n      tokenFile: /t\n')).toThrow(/source\.kafka\.sasl\.tokenFile: only for mechanism oauthbearer \(this is scram-sha-512\): remove it/);
  });
});
