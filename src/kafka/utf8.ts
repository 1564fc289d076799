/**
 * Writing the short strings of every produced record — its key and its headers' names and values
 * (ids, event types, `application/json`) — without a call into Node's C++ for each. Pure.
 *
 * Why: an event record carries ten strings, nine of them under 40 characters, and each was written
 * by `Buffer#write` (~234k calls for the 26k events of the bench fleet). For such a string the
 * call — argument checks, the encoding looked up, the crossing into C++ — cost more than copying
 * its bytes in JavaScript does. Long strings (the JSON values) and anything not ASCII still take
 * Node's own UTF-8 writer.
 */

/** Up to this many UTF-16 units an ASCII string is copied in JavaScript; longer ones go to Node. */
const SHORT = 64;

/**
 * `buf.write(s, offset, size, 'utf8')` where `size` is `Buffer.byteLength(s)` and
 * `buf[offset, offset + size)` is in range. A string whose UTF-8 length is its UTF-16 length is
 * ASCII (every other unit takes two bytes or more, a lone surrogate three): its units are its bytes.
 */
export function writeUtf8(buf: Buffer, s: string, offset: number, size: number): void {
  if (size === s.length && size <= SHORT) {
    for (let i = 0; i < size; i++) buf[offset + i] = s.charCodeAt(i);
    return;
  }
  // what Buffer#write calls for 'utf8' once it has checked its arguments (in range here)
  (buf as Buffer & { utf8Write(s: string, offset: number, length: number): number }).utf8Write(s, offset, size);
}
