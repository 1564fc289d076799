/**
 * HEAD on the live page's routes answers headers and ends: a HEAD /events is not an SSE client
 * (it never reads a stream), so it must not hold one of `maxClients` slots nor its connection.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveSink } from '../../src/sinks/live/index.js';

let live: LiveSink;

beforeAll(async () => {
  live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 1 });
  await live.start();
});
afterAll(async () => {
  await live.close();
});

function head(path: string): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${live.address().url}${path}`, { method: 'HEAD', agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('live page HEAD', () => {
  it('HEAD /events answers the stream headers without taking a client slot', { timeout: 5_000 }, async () => {
    expect(await head('/events')).toEqual({ status: 200, type: 'text/event-stream' });
    expect(await head('/events')).toEqual({ status: 200, type: 'text/event-stream' }); // maxClients 1: not 503
    await new Promise((r) => setTimeout(r, 50));
    expect(live.clientCount).toBe(0);
  });
});
