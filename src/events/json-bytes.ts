/**
 * JSON text written as UTF-8 bytes into a growable buffer, for the events' record values.
 *
 * Why: an event's JSON was built as a string (from ~50 pieces for a reward), then measured and
 * copied into a record's bytes by the produce path — ~25 MB of text for the bench fleet built,
 * flattened and encoded again. Written here straight as bytes, nothing in between is allocated:
 * ASCII text (keys, ids, numbers) is copied unit by unit in JavaScript — for short strings
 * cheaper than a call into Node's C++ (as src/kafka/utf8.ts found) — and anything else (escapes,
 * non-ASCII) goes through JSON.stringify and Node's UTF-8 writer, so the bytes are always
 * `Buffer.from(JSON.stringify(…))`'s.
 */

/** Bytes the scratch buffer keeps between uses; a larger one (a huge episode) is let go after it. */
const KEPT_BYTES = 1 << 20;

export class JsonBytes {
  buf: Buffer;
  /** Bytes written: `buf[0, at)`. */
  at = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** `s`, known to be ASCII (the writers' own keys and punctuation, number texts). */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** `s` as UTF-8, whatever it holds. */
  utf8(s: string): void {
    // a UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair: 4 for 2 units)
    this.ensure(s.length * 3);
    this.at += (this.buf as Buffer & { utf8Write(s: string, offset: number, length: number): number }).utf8Write(s, this.at, s.length * 3);
  }

  /**
   * `JSON.stringify(s)` for a string: quoted, copied unit by unit while it is ASCII and needs no
   * escape (ids, names), else written again from JSON.stringify's text.
   */
  string(s: string): void {
    this.ensure(s.length + 2);
    const buf = this.buf;
    const start = this.at;
    let at = start;
    buf[at++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) {
        this.at = start;
        this.utf8(JSON.stringify(s));
        return;
      }
      buf[at++] = c;
    }
    buf[at++] = 0x22;
    this.at = at;
  }

  /** Bytes copied in (a remembered text's). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** `buf[from, at)` copied into a new Buffer of its own. */
  copy(from = 0): Buffer {
    const out = Buffer.allocUnsafe(this.at - from);
    this.buf.copy(out, 0, from, this.at);
    return out;
  }

  /** Empty again, for the next use; a buffer grown past KEPT_BYTES is replaced by a small one. */
  reset(): void {
    this.at = 0;
    if (this.buf.length > KEPT_BYTES) this.buf = Buffer.allocUnsafe(64 * 1024);
  }
}
