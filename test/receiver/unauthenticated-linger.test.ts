/**
 * A 401 (source.http.auth: no token, or a wrong one) is answered once the rest of the request body
 * has been read (and thrown away), as the 413 is (over-limit-linger.test.ts): answered while the
 * client was still sending, on a connection closed right after the answer, the client's next writes
 * failed — EPIPE / ECONNRESET — and Go's net/http, the collector's otlphttp exporter, returned
 * "write: broken pipe" (a retryable network error) instead of the 401 for about half of the 4 MB
 * requests without a token. Real sockets: the request's first part, a pause, then the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveListenerSecurity } from '../../src/http/listener-security.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { postInTwoParts } from './post-in-two-parts.js';

const TOKEN = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==';
const problems: number[] = [];
const received: string[] = [];
const receiver = new OtlpHttpReceiver(
  { host: '127.0.0.1', port: 0, maxBodyBytes: 4 * 1024 * 1024, security: resolveListenerSecurity({ auth: { token: TOKEN } }, 'source.http'), onProblem: (p) => problems.push(p.status) },
  { onSpans: () => void received.push('spans'), onLogs: () => void received.push('logs'), onEvaluations: () => void received.push('evaluations') },
);
beforeAll(() => receiver.start());
afterAll(() => receiver.close());


describe('OTLP/HTTP receiver with a bearer token: an unauthenticated body is read to its end before the 401', () => {
  it.each([
    ['/v1/traces', { 'Content-Type': 'application/x-protobuf' }],
    ['/v1/logs', { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}x` }],
    ['/v1/evaluations', { 'Content-Type': 'application/json' }],
  ] as const)('%s: the client sends the whole body without a socket error and reads the 401', async (path, headers) => {
    problems.length = 0;
    const { answer, error } = await postInTwoParts(receiver.address().port, path, headers, Buffer.alloc(1024 * 1024, 0x20), 64 * 1024);
    expect(error).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/\r\nWWW-Authenticate: Bearer /i);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(problems).toEqual([401]);
    expect(received).toEqual([]);
  });
});
