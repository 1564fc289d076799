import { describe, expect, it } from 'vitest';
import { canListenOn } from './ports.js';

describe('canListenOn', () => {
  it('is true for 127.0.0.1 and false for an address of no interface here (TEST-NET-1), as 127.0.0.2 is on macOS', async () => {
    expect(await canListenOn('127.0.0.1')).toBe(true);
    expect(await canListenOn('192.0.2.1')).toBe(false);
  });
});
