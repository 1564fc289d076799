import { describe, expect, it } from 'vitest';
import {
  OPENINFERENCE_INPUT,
  canonicalArgs,
  issuedCalls,
  readFlattenedMessages,
  readMessages,
  resultIds,
  toolCallsFromPythonRepr,
} from '../../src/conventions/messages.js';
import { digestOf, truncateUtf8 } from '../../src/conventions/text.js';
import { runSpans } from './fixtures.js';

describe('messages', () => {
  it('lists result ids and issued calls once each, in order, in short and long conversations alike', () => {
    // 40 tool results, each answered twice (ids call_0…call_39, then again): past the 16 that are scanned for a repeat
    const results = Array.from({ length: 80 }, (_x, i) => ({ role: 'tool', content: 'ok', tool_call_id: `call_${i % 40}` }));
    const ids = Array.from({ length: 40 }, (_x, i) => `call_${i}`);
    expect(resultIds(readMessages(results))).toEqual(ids);
    expect(resultIds(readMessages(results.slice(0, 12).concat(results.slice(0, 3))))).toEqual(ids.slice(0, 12));
    // one assistant message requesting 30 calls, each twice, and two calls without ids that differ only in their arguments
    const calls = Array.from({ length: 60 }, (_x, i) => ({ id: `call_${i % 30}`, function: { name: 'f', arguments: `{"n":${i % 30}}` } }));
    const anonymous = [{ function: { name: 'g', arguments: '{"a":1}' } }, { function: { name: 'g', arguments: '{"a":2}' } }, { function: { name: 'g', arguments: '{ "a": 1 }' } }];
    const issued = issuedCalls(readMessages([{ role: 'assistant', tool_calls: [...calls, ...anonymous] }]));
    expect(issued.map((c) => c.id ?? c.args)).toEqual([...Array.from({ length: 30 }, (_x, i) => `call_${i}`), '{"a":1}', '{"a":2}']);
  });

  it('recovers tool calls from the Python repr text of openai-agents-v2 0.1.0 (real fixture output)', () => {
    const chat = runSpans('genai')[0]!.find((s) => s.name === 'chat fake-gpt')!;
    const [msg] = readMessages(JSON.parse(chat.attributes['gen_ai.output.messages'] as string));
    expect(msg!.toolCalls).toHaveLength(1);
    expect(msg!.toolCalls[0]!.name).toMatch(/^transfer_to_/);
    expect(msg!.toolCalls[0]!.id).toMatch(/^call_\d+$/);
    expect(toolCallsFromPythonRepr(`{'tool_calls': [{'id': "call_'q'", 'function': {'arguments': '{"a": "it\\'s"}', 'name': 'f'}}]}`)).toEqual([
      { id: "call_'q'", name: 'f', args: '{"a":"it\'s"}' },
    ]);
    expect(toolCallsFromPythonRepr('no calls here')).toEqual([]);
  });

  it('reads flattened OpenInference messages with non-contiguous tool call indices (real fixture input)', () => {
    const last = runSpans('openinference')[0]!.filter((s) => s.name === 'generation').at(-1)!;
    const msgs = readFlattenedMessages(last.attributes, OPENINFERENCE_INPUT);
    expect(msgs.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'tool']);
    expect(msgs[4]!.toolCalls[0]!.name).toBe('search_flights');
    expect(msgs[5]!.toolResultIds).toEqual([msgs[4]!.toolCalls[0]!.id]);
  });

  it('canonicalises tool arguments so string and object forms compare equal', () => {
    expect(canonicalArgs('{"b": 1, "a": [1, {"d": 2, "c": 3}]}')).toBe(canonicalArgs({ a: [1, { c: 3, d: 2 }], b: 1 }));
    expect(canonicalArgs('not json')).toBe('not json');
    expect(canonicalArgs('')).toBeUndefined();
  });
});

describe('text', () => {
  it('truncates at code point boundaries within the byte budget, head or tail', () => {
    const s = 'a🚀é'.repeat(100);
    for (const max of [0, 1, 2, 3, 4, 5, 7, 50, 401]) {
      for (const keep of ['head', 'tail'] as const) {
        const t = truncateUtf8(s, max, keep);
        expect(Buffer.byteLength(t)).toBeLessThanOrEqual(max);
        expect(t).not.toContain('\uFFFD');
      }
    }
    expect(truncateUtf8('short', 10)).toBe('short');
    expect(truncateUtf8('0123456789', 6, 'tail')).toBe('…789');
    expect(truncateUtf8('0123456789', 6, 'head')).toBe('012…');
  });

  it('digests are 16 hex chars and content-sensitive', () => {
    expect(digestOf('x')).toMatch(/^[0-9a-f]{16}$/);
    expect(digestOf('x')).not.toBe(digestOf('y'));
  });
});
