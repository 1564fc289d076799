import { describe, expect, it } from 'vitest';
import { problemLogger } from '../../src/runtime/local-job.js';

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
});
