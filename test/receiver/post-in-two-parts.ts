/**
 * A raw HTTP/1.1 client for the receiver's "read the body to its end before refusing" paths (413,
 * 401): POSTs `body` chunked to `path` — its first `first` bytes, a pause, then the rest — as an
 * HTTP client's socket does, which keeps sending the request after the server's FIN. Resolves with
 * the raw answer and the socket error the client got while sending, if any.
 */
import { connect } from 'node:net';

export function postInTwoParts(port: number, path: string, headers: Record<string, string>, body: Buffer, first: number): Promise<{ answer: string; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let error: string | undefined;
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => resolve({ answer, error }));
    const chunk = (b: Buffer) => socket.write(`${b.length.toString(16)}\r\n`) && socket.write(b) && socket.write('\r\n');
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      chunk(body.subarray(0, first));
      setTimeout(() => {
        for (let at = first; at < body.length && !socket.destroyed; at += 16 * 1024) chunk(body.subarray(at, at + 16 * 1024));
        if (!socket.destroyed) socket.end('0\r\n\r\n');
      }, 300);
    });
  });
}
