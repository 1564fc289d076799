/**
 * Bearer-token authentication for agent-credit's own listeners, as the OpenTelemetry Collector's
 * `bearertokenauth` extension checks it on a receiver: a request must carry
 * `Authorization: Bearer <token>` with a configured token (RFC 6750 §2.1); otherwise 401 with a
 * `WWW-Authenticate: Bearer` challenge.
 *
 * Secrets stay out of the YAML as the Kafka SASL settings keep them out (src/kafka/connection.ts):
 * `token` is best given by its environment variable (`AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN`,
 * `AGENT_CREDIT_SINKS_LIVE_AUTH_TOKEN`, `AGENT_CREDIT_TELEMETRY_METRICS_AUTH_TOKEN`), or `tokenFile` names a file (a mounted Kubernetes
 * Secret) read at start and again when it changes (src/http/credential-renewal.ts). A file may list
 * several tokens, one per line, all accepted: to rotate, add the new one, move the clients over,
 * remove the old one — no restart.
 *
 * Comparison is constant-time per token (SHA-256 of both sides, `timingSafeEqual`) and every
 * token is compared, so neither a token's length nor which one matched shows in the timing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';

export const ListenerAuthSchema = z
  .strictObject({
    token: z.string().min(1).optional().describe('the bearer token clients must send; keep it out of the file: set it with the AGENT_CREDIT_…_AUTH_TOKEN variable'),
    tokenFile: z.string().min(1).optional().describe('file holding the token (one or more, one per line; read at start), e.g. a mounted Secret'),
  })
  .superRefine((a, ctx) => {
    if ((a.token === undefined) === (a.tokenFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: a.token === undefined ? [] : ['tokenFile'], message: 'give exactly one of token (best from the environment) or tokenFile' });
    }
  })
  .describe('require Authorization: Bearer <token>: token (from the environment) or tokenFile. Unset = no authentication');

export type ListenerAuthSetting = z.infer<typeof ListenerAuthSchema>;

/** What a request's credentials amount to: RFC 6750 distinguishes none from a wrong one. */
export type BearerCheck = 'ok' | 'missing' | 'invalid';

/** A token is sent in a header: printable ASCII without spaces (RFC 6750's b64token is a subset). */
const TOKEN_TEXT = /^[\x21-\x7E]+$/;
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class BearerAuth {
  private digests: readonly Buffer[];
  private sessions: readonly Buffer[];

  /** `tokens`: the accepted tokens (≥ 1). */
  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error('BearerAuth needs at least one token');
    this.digests = tokens.map(digest);
    // a browser session cookie carries a value derived from the token, never the token itself
    this.sessions = tokens.map((t) => digest(BearerAuth.sessionValueOf(t)));
  }

  /** Accepts `other`'s tokens from now on instead of these (a token file read again); sessions of removed tokens end. */
  adopt(other: BearerAuth): void {
    this.digests = other.digests;
    this.sessions = other.sessions;
  }

  /** Constant-time: true when `token` is one of the tokens. */
  acceptsToken(token: string): boolean {
    return anyEqual(this.digests, digest(token));
  }

  /** The `Authorization` header's verdict. The scheme is case-insensitive (RFC 7235 §2.1). */
  checkHeader(authorization: string | undefined): BearerCheck {
    if (authorization === undefined || authorization.trim() === '') return 'missing';
    const m = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!m) return 'invalid';
    return this.acceptsToken(m[1]!) ? 'ok' : 'invalid';
  }

  /**
   * What a refused request's Authorization lacks, to open its 401 message: "no bearer token",
   * "invalid bearer token", or — the token sent without its scheme (`Authorization: <token>`,
   * OTEL_EXPORTER_OTLP_HEADERS=authorization=<token>) or with another (`Basic …`) — that the
   * scheme is missing or wrong: those read "invalid bearer token" too, and a user with the right
   * token went looking for another one. The value is never echoed (only a scheme word).
   */
  static problem(check: BearerCheck, authorization: string | undefined): string {
    if (check === 'missing') return 'no bearer token';
    const value = authorization?.trim() ?? '';
    if (/^Bearer(\s|$)/i.test(value)) return 'invalid bearer token';
    const scheme = /^([A-Za-z][A-Za-z0-9._~+-]*)\s+\S/.exec(value)?.[1];
    return scheme !== undefined ? `the Authorization scheme is ${scheme}, not Bearer` : 'the Authorization value has no Bearer scheme before the token';
  }

  /** The cookie value standing for `token` (an HMAC of it): the cookie does not hold the token. */
  static sessionValueOf(token: string): string {
    return createHmac('sha256', token).update('agent-credit live page session').digest('base64url');
  }

  /** Constant-time: true when `value` is the session value of one of the tokens. */
  acceptsSession(value: string): boolean {
    return anyEqual(this.sessions, digest(value));
  }

  /** Answers a refused request: 401, the challenge for `realm`, and `{ error }` saying what to send. */
  static refuse(res: ServerResponse, check: BearerCheck, realm: string, error: string): void {
    const text = JSON.stringify({ error });
    res.writeHead(401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'WWW-Authenticate': BearerAuth.challenge(check, realm), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  /** The `WWW-Authenticate` value for a refused request (RFC 6750 §3: no error code when none was sent). */
  static challenge(check: BearerCheck, realm: string): string {
    return check === 'invalid' ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`;
  }
}

function anyEqual(candidates: readonly Buffer[], d: Buffer): boolean {
  let found = false;
  for (const c of candidates) found = timingSafeEqual(c, d) || found;
  return found;
}

/**
 * The tokens of a listener's `auth` setting (`prefix` = its key, e.g. `source.http.auth`), reading
 * `tokenFile` now. Problems (each naming its key and the fix, never a token) are appended to
 * `problems`; undefined when any.
 */
export function resolveBearerAuth(setting: ListenerAuthSetting, prefix: string, problems: string[]): BearerAuth | undefined {
  const envName = `AGENT_CREDIT_${prefix.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase()}_TOKEN`;
  let tokens: string[];
  let key: string;
  if (setting.tokenFile !== undefined) {
    key = `${prefix}.tokenFile`;
    let text: string;
    try {
      text = readFileSync(setting.tokenFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      problems.push(`${key}: cannot read ${setting.tokenFile} (${code}) — give the path of a file holding the token, readable by this process (or set ${envName} instead)`);
      return undefined;
    }
    tokens = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    if (tokens.length === 0) {
      problems.push(`${key}: ${setting.tokenFile} is empty — write the token into it (one per line)`);
      return undefined;
    }
  } else {
    key = `${prefix}.token`;
    tokens = [setting.token!.trim()];
  }
  const bad = tokens.findIndex((t) => !TOKEN_TEXT.test(t));
  if (bad >= 0) {
    problems.push(`${key}: ${tokens.length > 1 ? `token ${bad + 1} (line order) ` : 'the token '}holds spaces or characters that cannot be sent in an HTTP header (value hidden: a secret) — use printable ASCII without spaces, e.g. openssl rand -base64 32`);
    return undefined;
  }
  return new BearerAuth(tokens);
}
