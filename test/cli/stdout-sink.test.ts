import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CreditEvent } from '../../src/events/schemas.js';
import { sampleEpisodeCredit } from '../support/sample-events.js';
import { StdoutSink } from '../../src/sinks/stdout/index.js';

const event = (id: string): CreditEvent =>
  sampleEpisodeCredit(id, { event_id: 'c'.repeat(32), trace_ids: [], emitted_at_ms: 0, close_reason: 'shutdown', outcome: 'failure', evaluation: { name: 'task_success', score: 0, source: 'log-event' }, system_value: 0, agents: [], messages: 0 });

describe('StdoutSink', () => {
  it('writes one JSON event per line, in publish order', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const sink = new StdoutSink({ stream: out });
    await sink.publish([event('a'), event('b')]);
    await sink.publish([event('c')]);
    await sink.close();
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as CreditEvent).episode_id)).toEqual(['a', 'b', 'c']);
  });

  it('filters by event type', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const sink = new StdoutSink({ stream: out, eventTypes: ['message_reward'] });
    await sink.publish([event('a')]);
    await sink.flush();
    expect(text).toBe('');
  });

  it('waits for drain when the reader is slow (bounded memory)', async () => {
    let release: () => void = () => undefined;
    const slow = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        release = () => cb();
      },
    });
    const sink = new StdoutSink({ stream: slow });
    let done = false;
    const p = sink.publish([event('a')]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false); // the line is larger than the buffer: publish waits
    release();
    await p;
    expect(done).toBe(true);
  });

  it('a broken pipe rejects publishes instead of crashing the process', async () => {
    const broken = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const sink = new StdoutSink({ stream: broken });
    await sink.publish([event('a')]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    await expect(sink.publish([event('b')])).rejects.toThrow(/EPIPE/);
    await sink.flush();
  });
});
