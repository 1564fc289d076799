/**
 * Answers with a large body — the live page's `/api/recent` (up to 8 MiB of events) and
 * `/api/agents`, `/metrics` (megabytes with a thousand agents) — stay in the process until the
 * client has read them. Nothing bounded how many: a client that asked and never read, many times
 * over, held one body each (150 stalled GET /api/recent of a full buffer: 1.8 GB), so anything that
 * could reach the server could have the job killed for memory. SSE clients are bounded by
 * `maxClients` and `maxClientBufferBytes`; these answers by `LargeAnswers`: at most
 * MAX_LARGE_ANSWERS being sent at once per server, 503 + Retry-After beyond. A slot is held until
 * the response is sent or its connection closes. Scripts and Prometheus read their answer at once,
 * so a handful is plenty.
 */
import type { ServerResponse } from 'node:http';

/** Large answers a server sends at once. */
export const MAX_LARGE_ANSWERS = 8;

export class LargeAnswers {
  private sending = 0;

  constructor(private readonly max = MAX_LARGE_ANSWERS) {}

  /**
   * True when `res` may be answered (it holds a slot until it closes); otherwise answers 503 with
   * Retry-After and returns false.
   */
  admit(res: ServerResponse, path: string): boolean {
    if (this.sending >= this.max) {
      const text = JSON.stringify({ error: `${this.max} answers of /api/recent, /api/agents or /metrics are being sent to clients that have not read them yet: retry ${path} shortly` });
      res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Retry-After': '1', 'Cache-Control': 'no-store' });
      res.end(text);
      return false;
    }
    this.sending++;
    res.once('close', () => this.sending--);
    return true;
  }
}
