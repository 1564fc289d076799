import { describe, expect, it, vi } from 'vitest';
import { problemLogger } from '../../src/runtime/problem-logger.js';

describe('problemLogger (receiver rejections in the log)', () => {
  it('logs once a second per status with the count not logged since, messages cut to 500 characters', () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    let t = 0;
    const log = problemLogger({ warn: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }) }, 1_000, () => t);
    const long = `no OTLP endpoint at /${'p'.repeat(15_000)}`;
    for (let i = 0; i < 3_000; i++) log({ status: 404, message: long }); // a client looping on bad requests
    log({ status: 400, signal: 'traces', message: 'undecodable traces request' }); // another status still shows
    expect(lines).toHaveLength(2);
    expect(lines[0]!.msg.length).toBeLessThan(600);
    t += 1_000;
    log({ status: 404, message: 'again' });
    expect(lines.at(-1)!.obj).toMatchObject({ status: 404, notLoggedSince: 2_999 });
  });

  it('logs the ones held back as a count a second later even when no more come (a burst that ended within the second)', () => {
    vi.useFakeTimers();
    try {
      const lines: { obj: Record<string, unknown>; msg: string }[] = [];
      let t = 0;
      const log = problemLogger({ warn: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }) }, 1_000, () => t);
      for (let i = 0; i < 500; i++) log({ status: 401, signal: 'traces', message: `no bearer token ${i}` }); // an exporter without its token, then stopped
      expect(lines).toHaveLength(1);
      t += 1_000;
      vi.advanceTimersByTime(1_000);
      expect(lines).toHaveLength(2);
      expect(lines[1]!.obj).toMatchObject({ status: 401, signal: 'traces', notLoggedSince: 499 });
      expect(lines[1]!.msg).toBe('request rejected: 499 more not logged since the last line; the last one: no bearer token 499');
      // nothing held back: no further line
      t += 5_000;
      vi.advanceTimersByTime(5_000);
      expect(lines).toHaveLength(2);
      // a held-back one taken by the next line is not logged twice
      log({ status: 401, message: 'a' });
      log({ status: 401, message: 'b' });
      t += 1_000;
      log({ status: 401, message: 'c' });
      expect(lines.at(-1)!.obj).toMatchObject({ notLoggedSince: 1 });
      vi.advanceTimersByTime(1_000);
      expect(lines).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
