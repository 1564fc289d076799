/**
 * Locates the first syntax error in a JSON text, for error messages only: V8's `JSON.parse`
 * messages do not always carry a position ("Unexpected token '}', ... is not valid JSON").
 * Runs only after `JSON.parse` has failed, so it favours simplicity over speed.
 */

/** Offset of the first JSON syntax error in `text` (text.length when the text ends too early). */
export function jsonErrorPosition(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  class Stop extends Error {}
  const fail = (): never => {
    throw new Stop();
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    i++; // opening quote
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) return void i++;
      if (ch < 0x20) fail();
      if (ch === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
    fail();
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += m![0].length;
  };
  // Iterative over containers so deep nesting cannot overflow the stack.
  const stack: Array<'[' | '{'> = [];
  /** Reads a value; returns true when it opened a non-empty container (its first element follows). */
  const value = (): boolean => {
    ws();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      i++;
      ws();
      if (text[i] === (ch === '{' ? '}' : ']')) {
        i++;
        return false;
      }
      stack.push(ch);
      if (ch === '{') key();
      return true;
    }
    if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
    else fail();
    return false;
  };
  const key = () => {
    ws();
    if (text[i] !== '"') fail();
    string();
    ws();
    if (text[i] !== ':') fail();
    i++;
  };
  try {
    let needValue = true;
    for (;;) {
      if (needValue) {
        needValue = value();
        continue;
      }
      const top = stack[stack.length - 1];
      if (top === undefined) break;
      ws();
      if (text[i] === ',') {
        i++;
        if (top === '{') key();
        needValue = true;
      } else if (text[i] === (top === '{' ? '}' : ']')) {
        stack.pop();
        i++;
      } else fail();
    }
    ws();
    return i < n ? i : n;
  } catch (e) {
    if (e instanceof Stop) return Math.min(i, n);
    throw e;
  }
}
