/**
 * A 401 (source.http.auth: no token, or a wrong one) is answered once the rest of the request body
 * has been read (and thrown away), as the 413 is (over-limit-linger.test.ts): answered while the
 * client was still sending, on a connection closed right after the answer, the client's next writes
 * failed — EPIPE / ECONNRESET — and Go's net/http, the collector's otlphttp exporter, returned
 * "write: broken pipe" (a retryable network error) instead of the 401 for about half of the 4 MB
 * requests without a token. Real sockets: the request's first part, a pause, then the rest.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveListenerSecurity } from '../../src/http/listener-security.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';

const TOKEN = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==';
const problems: number[] = [];
const received: string[] = [];
const receiver = new OtlpHttpReceiver(
  { host: '127.0.0.1', port: 0, maxBodyBytes: 4 * 1024 * 1024, security: resolveListenerSecurity({ auth: { token: TOKEN } }, 'source.http'), onProblem: (p) => problems.push(p.status) },
  { onSpans: () => void received.push('spans'), onLogs: () => void received.push('logs'), onEvaluations: () => void received.push('evaluations') },
);
beforeAll(() => receiver.start());
afterAll(() => receiver.close());

/** POSTs `body` chunked: `first` bytes, a pause, the rest. The raw answer and the client's socket error, if any. */
function postInTwoParts(path: string, headers: Record<string, string>, body: Buffer, first: number): Promise<{ answer: string; error: string | undefined }> {
  return new Promise((resolve) => {
    // as an HTTP client's socket: it keeps sending the request after the server's FIN
    const socket = connect({ port: receiver.address().port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let error: string | undefined;
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => resolve({ answer, error }));
    const chunk = (b: Buffer) => socket.write(`${b.length.toString(16)}\r\n`) && socket.write(b) && socket.write('\r\n');
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      chunk(body.subarray(0, first));
      setTimeout(() => {
        for (let at = first; at < body.length && !socket.destroyed; at += 16 * 1024) chunk(body.subarray(at, at + 16 * 1024));
        if (!socket.destroyed) socket.end('0\r\n\r\n');
      }, 300);
    });
  });
}

describe('OTLP/HTTP receiver with a bearer token: an unauthenticated body is read to its end before the 401', () => {
  it.each([
    ['/v1/traces', { 'Content-Type': 'application/x-protobuf' }],
    ['/v1/logs', { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}x` }],
    ['/v1/evaluations', { 'Content-Type': 'application/json' }],
  ] as const)('%s: the client sends the whole body without a socket error and reads the 401', async (path, headers) => {
    problems.length = 0;
    const { answer, error } = await postInTwoParts(path, headers, Buffer.alloc(1024 * 1024, 0x20), 64 * 1024);
    expect(error).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/\r\nWWW-Authenticate: Bearer /i);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(problems).toEqual([401]);
    expect(received).toEqual([]);
  });
});
