/** The reason of the OtlpDecodeError `fn` throws (fails the test when it throws anything else, or nothing). */
import { expect } from 'vitest';
import { OtlpDecodeError } from '../../src/otlp/index.js';

export function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtlpDecodeError);
    return (e as OtlpDecodeError).reason;
  }
  throw new Error('expected an OtlpDecodeError');
}
