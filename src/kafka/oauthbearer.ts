/**
 * SASL/OAUTHBEARER tokens for the Kafka client (KIP-255, KIP-768): where managed Kafka services
 * and OAuth-secured clusters get their credentials — an OIDC token endpoint (client credentials
 * grant, as the Java client's `OAuthBearerLoginCallbackHandler` does), a command that prints a
 * token (e.g. a cloud CLI or a signer such as AWS MSK's), or a file a sidecar keeps fresh
 * (e.g. a Kubernetes projected token).
 *
 * kafkajs asks for a token on every new connection; `oauthBearerTokenProvider` hands out the
 * cached one until shortly before it expires (the endpoint's `expires_in`, else the JWT's `exp`),
 * fetches one at a time, and reads a file anew each time. Every failure names the setting.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface OAuthBearerSettings {
  readonly tokenEndpoint?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  readonly scope?: string | undefined;
  readonly audience?: string | undefined;
  readonly tokenCommand?: readonly string[] | undefined;
  readonly tokenFile?: string | undefined;
  readonly extensions?: Readonly<Record<string, string>> | undefined;
}

/** What kafkajs's `oauthBearerProvider` returns. */
export interface OAuthBearerToken {
  value: string;
  extensions?: Record<string, string>;
}

export interface OAuthBearerDeps {
  fetch: typeof fetch;
  now: () => number;
  runCommand: (argv: readonly string[], timeoutMs: number) => Promise<string>;
  readFile: (path: string) => Promise<string>;
}

const defaultDeps: OAuthBearerDeps = {
  fetch: (...a) => fetch(...a),
  now: () => Date.now(),
  runCommand: (argv, timeoutMs) =>
    new Promise((resolve, reject) => {
      execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(String(stdout));
        // not err.message: it repeats the whole command line, whose arguments may be secrets
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        const how = e.killed ? `killed after ${timeoutMs} ms` : typeof e.code === 'number' ? `exit code ${e.code}` : e.signal ? `signal ${e.signal}` : String(e.code ?? 'failed');
        reject(new Error(`${how}${stderr ? `: ${String(stderr).trim().slice(0, 300)}` : ''}`));
      });
    }),
  readFile: (path) => readFile(path, 'utf8'),
};

const REQUEST_TIMEOUT_MS = 15_000;
/** A token of unknown lifetime from a command is used this long before the command runs again. */
const UNKNOWN_LIFETIME_MS = 60_000;

/** The setting a token comes from, for messages: `<prefix>.tokenEndpoint` etc. */
export function oauthBearerSource(s: OAuthBearerSettings): 'tokenEndpoint' | 'tokenCommand' | 'tokenFile' {
  if (s.tokenEndpoint !== undefined) return 'tokenEndpoint';
  if (s.tokenCommand !== undefined) return 'tokenCommand';
  return 'tokenFile';
}

/** Seconds-since-epoch `exp` of a JWT (not verified: the broker does that), if the token is one. */
export function jwtExpiryMs(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export type OAuthBearerProvider = (() => Promise<OAuthBearerToken>) & {
  /** Tokens handed to the client so far: a connection that failed after one got as far as SASL. */
  readonly handedOut: () => number;
};

/** kafkajs `oauthBearerProvider` for the settings (`prefix` = their key, e.g. `source.kafka.sasl`). */
export function oauthBearerTokenProvider(s: OAuthBearerSettings, prefix = 'source.kafka.sasl', deps: OAuthBearerDeps = defaultDeps): OAuthBearerProvider {
  const source = oauthBearerSource(s);
  const key = `${prefix}.${source}`;
  let cached: { value: string; refreshAtMs: number; expiresAtMs: number } | undefined;
  let inFlight: Promise<{ value: string; expiresAtMs?: number | undefined }> | undefined;

  const fetchToken = async (): Promise<{ value: string; expiresAtMs?: number | undefined }> => {
    if (source === 'tokenFile') {
      let text: string;
      try {
        text = await deps.readFile(s.tokenFile!);
      } catch (err) {
        throw new Error(`${key}: cannot read ${s.tokenFile} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give the path of a file holding the token`);
      }
      return { value: text.trim() };
    }
    if (source === 'tokenCommand') {
      let out: string;
      try {
        out = await deps.runCommand(s.tokenCommand!, REQUEST_TIMEOUT_MS * 2);
      } catch (err) {
        throw new Error(`${key}: ${s.tokenCommand![0]} failed (${(err as Error).message}); it must print a token (or JSON with access_token) and exit 0`);
      }
      return parseTokenOutput(out.trim(), deps.now());
    }
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (s.scope !== undefined) body.set('scope', s.scope);
    if (s.audience !== undefined) body.set('audience', s.audience);
    // client_secret_basic (RFC 6749 §2.3.1), as the Java client sends it
    const basic = Buffer.from(`${encodeURIComponent(s.clientId!)}:${encodeURIComponent(s.clientSecret!)}`).toString('base64');
    let res: Response;
    try {
      res = await deps.fetch(s.tokenEndpoint!, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new Error(`${key}: cannot reach ${s.tokenEndpoint} (${(err as Error).message}); check the URL and that this machine can reach it`);
    }
    const text = await res.text();
    if (!res.ok) {
      const why = res.status === 400 || res.status === 401 || res.status === 403 ? `; check ${prefix}.clientId and ${prefix}.clientSecret (AGENT_CREDIT_SOURCE_KAFKA_SASL_CLIENT_SECRET)${s.scope ? ` and ${prefix}.scope` : ''}` : '';
      throw new Error(`${key}: ${s.tokenEndpoint} answered ${res.status}: ${text.slice(0, 300)}${why}`);
    }
    // the body is not quoted in these errors: it may be the token itself
    const what = `${res.headers.get('content-type') ?? 'no content type'}, ${text.length} characters`;
    if (!/^\s*\{/.test(text)) throw new Error(`${key}: ${s.tokenEndpoint} did not answer JSON with access_token (${what})`);
    try {
      return parseTokenOutput(text.trim(), deps.now());
    } catch (err) {
      throw new Error(`${key}: ${s.tokenEndpoint}: ${(err as Error).message} (${what})`);
    }
  };

  /** The token to use now: the cached one while fresh, else a new one (one fetch at a time). */
  const currentToken = async (): Promise<string> => {
    if (cached && deps.now() < cached.refreshAtMs) return cached.value;
    inFlight ??= fetchToken().finally(() => (inFlight = undefined));
    let fetched: { value: string; expiresAtMs?: number | undefined };
    try {
      fetched = await inFlight;
    } catch (err) {
      // a failed refresh while the cached token is still valid: keep using it (the next connection retries)
      if (cached && deps.now() < cached.expiresAtMs) return cached.value;
      throw err;
    }
    const { value, expiresAtMs } = fetched;
    if (value === '') throw new Error(`${key}: the token is empty`);
    if (source !== 'tokenFile') {
      const fetchedAt = deps.now();
      const lifetime = expiresAtMs !== undefined ? expiresAtMs - fetchedAt : UNKNOWN_LIFETIME_MS;
      // refresh a little before it expires: 20% of its lifetime, at most a minute early
      cached = { value, refreshAtMs: fetchedAt + Math.max(0, lifetime - Math.min(60_000, lifetime * 0.2)), expiresAtMs: fetchedAt + Math.max(0, lifetime) };
    }
    return value;
  };

  let handedOut = 0;
  const provide = async (): Promise<OAuthBearerToken> => {
    const value = await currentToken();
    handedOut++;
    return withExtensions(value, s.extensions);
  };
  return Object.assign(provide, { handedOut: () => handedOut });
}

function withExtensions(value: string, extensions: Readonly<Record<string, string>> | undefined): OAuthBearerToken {
  return extensions && Object.keys(extensions).length > 0 ? { value, extensions: { ...extensions } } : { value };
}

/**
 * A token from an endpoint's or command's output: JSON `{access_token | token, expires_in?}`, or
 * the token itself. Expiry: `expires_in`, else the JWT's `exp`.
 */
export function parseTokenOutput(text: string, nowMs: number): { value: string; expiresAtMs?: number | undefined } {
  if (text.startsWith('{')) {
    let json: { access_token?: unknown; token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new Error('the token answer is not valid JSON');
    }
    const value = typeof json.access_token === 'string' ? json.access_token : typeof json.token === 'string' ? json.token : undefined;
    if (value === undefined) throw new Error('the token answer has no access_token');
    const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : typeof json.expires_in === 'string' ? Number(json.expires_in) : undefined;
    return { value, expiresAtMs: expiresIn !== undefined && Number.isFinite(expiresIn) ? nowMs + expiresIn * 1000 : jwtExpiryMs(value) };
  }
  return { value: text, expiresAtMs: jwtExpiryMs(text) };
}

/** What kafkajs hands a SASL `authenticationProvider` (the subset used here). */
interface SaslExchange {
  host: string;
  port: number;
  saslAuthenticate: (step: { request: { encode(): Promise<Buffer> }; response?: { decode(bytes: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> } }) => Promise<unknown>;
}

/** SASL bytes as kafkajs's mechanisms encode them: int32 length, then the message. */
function saslBytes(message: string): { encode(): Promise<Buffer> } {
  return {
    encode: async () => {
      const body = Buffer.from(message, 'utf8');
      const out = Buffer.alloc(4 + body.length);
      out.writeInt32BE(body.length, 0);
      body.copy(out, 4);
      return out;
    },
  };
}

const SOH = '\u0001';

/**
 * A kafkajs `authenticationProvider` for OAUTHBEARER (RFC 7628) that, unlike kafkajs's own, reads
 * the broker's answer: a refused token comes back as an error challenge (JSON such as
 * `{"status":"invalid_token"}`) that the client must acknowledge with %x01 before the broker ends
 * the exchange. kafkajs's authenticator ignores it, the broker then closes the connection, and
 * kafkajs retries until "No brokers in the broker pool", without the reason. Here the challenge
 * becomes an error naming the setting (not retried: the same token would be refused again).
 */
export function oauthBearerAuthenticator(provider: () => Promise<OAuthBearerToken>, key: string): (exchange: SaslExchange) => { authenticate(): Promise<void> } {
  return ({ host, port, saslAuthenticate }) => ({
    authenticate: async () => {
      const token = await provider();
      const extensions = Object.entries(token.extensions ?? {})
        .map(([k, v]) => `${SOH}${k}=${v}`)
        .join('');
      // the answer as kafkajs's mechanisms decode theirs: an int32 length, then the bytes
      const passBytes = { decode: async (bytes: Buffer) => (bytes && bytes.length >= 4 ? bytes.subarray(4, 4 + Math.max(0, bytes.readInt32BE(0))) : Buffer.alloc(0)), parse: async (decoded: unknown) => decoded };
      const challenge = (await saslAuthenticate({ request: saslBytes(`n,,${SOH}auth=Bearer ${token.value}${extensions}${SOH}${SOH}`), response: passBytes })) as Buffer | null | undefined;
      if (!challenge || challenge.length === 0) return; // accepted
      const reason = challenge.toString('utf8').slice(0, 500);
      let brokerSays = '';
      try {
        await saslAuthenticate({ request: saslBytes(SOH) }); // the acknowledgement the broker waits for
      } catch (err) {
        const message = (err as Error).message;
        if (!message.includes(reason)) brokerSays = ` — ${message}`;
      }
      throw new Error(`${key}: the broker at ${host}:${port} refused the OAUTHBEARER token: ${reason}${brokerSays}; check the token's expiry, issuer, audience and scope against the listener's sasl.oauthbearer.* settings`);
    },
  });
}
