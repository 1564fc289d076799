import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/runtime/with-timeout.js';

describe('withTimeout', () => {
  it('a limit beyond the longest Node.js timer (2^31 − 1 ms) waits, instead of firing after 1 ms — with credit workers the pipeline\'s limit is runtime.creditTimeoutMs × the episodes a worker holds', async () => {
    let settled: string | undefined;
    const never = new Promise<never>(() => undefined);
    withTimeout(never, 3_000_000_000, 'timed out').catch((e: Error) => (settled = e.message));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBeUndefined();
    // and a short one still fires
    await expect(withTimeout(never, 5, 'timed out')).rejects.toThrow('timed out');
  });
});
