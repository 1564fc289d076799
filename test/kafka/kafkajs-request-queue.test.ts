import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/kafka/kafkajs-module.js';
import { kafkajsRequestQueueReport, scheduleCheckPendingRequests } from '../../src/kafka/kafkajs-request-queue.js';

const require = createRequire(import.meta.url);

interface Queue {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: unknown;
  push(r: { entry: Record<string, unknown>; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
  destroy(): void;
}
const RequestQueue = require(join(dirname(require.resolve('kafkajs/package.json')), 'src/network/requestQueue/index.js')) as new (o: Record<string, unknown>) => Queue;
const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
const queues: Queue[] = [];
function queue(): Queue {
  const q = new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'broker:9092', logger });
  queues.push(q);
  return q;
}
const request = (correlationId: number, sent: number[]) => ({
  entry: { correlationId, apiKey: 3, apiName: 'Metadata', apiVersion: 6, resolve: () => undefined, reject: () => undefined },
  expectResponse: true,
  sendRequest: () => sent.push(correlationId),
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const q of queues.splice(0)) q.destroy();
});

describe("kafkajs RequestQueue's pending-request timer (kafkajs-request-queue.ts)", () => {
  it('is installed on the kafkajs the product loads', () => {
    expect(kafkajsRequestQueueReport()).toEqual({ installed: true });
    expect((RequestQueue.prototype as unknown as { scheduleCheckPendingRequests: unknown }).scheduleCheckPendingRequests).toBe(scheduleCheckPendingRequests);
  });

  // kafkajs 2.2.4 passed `-1 - Date.now()` to setTimeout here (TimeoutNegativeWarning on Node ≥ 23)
  // and re-armed it every millisecond for as long as the connection was open.
  it('arms no timer after a response when nothing is pending: no negative delay, no 1 ms loop', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const q = queue();
    const sent: number[] = [];
    q.push(request(1, sent));
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1]);
    expect(q.throttleCheckTimeoutId).toBeNull();
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(spy.mock.calls.map((c) => c[1])).toEqual([]);
  });

  it('still sends a request held by a throttle once the throttle ends, with a positive delay', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const q = queue();
    const sent: number[] = [];
    q.throttledUntil = Date.now() + 30;
    q.push(request(2, sent));
    expect(sent).toEqual([]);
    expect(q.pending).toHaveLength(1);
    const delays = spy.mock.calls.map((c) => c[1] as number);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(0);
    expect(delays[0]).toBeLessThanOrEqual(30);
    await vi.waitFor(() => expect(sent).toEqual([2]), { timeout: 2_000, interval: 10 });
    expect(q.pending).toHaveLength(0);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    expect(q.throttleCheckTimeoutId).toBeNull();
    // vi.waitFor arms timers of its own (delay 0 or none): none of them, nor the queue's, is negative
    expect(spy.mock.calls.filter((c) => ((c[1] as number | undefined) ?? 0) < 0)).toEqual([]);
  });
});
