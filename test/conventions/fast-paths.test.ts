/**
 * The conventions stage's fast paths give exactly what the straightforward forms give: one-shot
 * sha256, truncation without encoding short texts, flattened messages read without per-key slices,
 * one span tree shared by both passes, span evaluations passed in instead of read twice.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluationsFromLogs,
  evaluationsFromSpans,
  evaluationsFromTree,
  SpanTree,
  stepsFromSpans,
  stepsFromTree,
} from '../../src/conventions/index.js';
import {
  messagesOfAttribute,
  OPENINFERENCE_CALL,
  OPENINFERENCE_INPUT,
  OPENINFERENCE_OUTPUT,
  OPENLLMETRY_CALL,
  OPENLLMETRY_COMPLETION,
  OPENLLMETRY_PROMPT,
  readFlattenedCall,
  readFlattenedMessages,
  readMessages,
  type ChatMessage,
} from '../../src/conventions/messages.js';
import { digestOf, sha256Hex, truncateUtf8 } from '../../src/conventions/text.js';
import type { Attributes } from '../../src/model/telemetry.js';
import { fixtureLogs, INSTRUMENTATIONS, runSpans } from './fixtures.js';
import { at, recordSpans } from './sdk.js';

describe('sha256Hex and digestOf', () => {
  it('equal createHash over the UTF-8 text, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const want = createHash('sha256').update(s, 'utf8').digest('hex');
        expect(sha256Hex(s)).toBe(want);
        expect(digestOf(s)).toBe(want.slice(0, 16));
      }),
    );
    expect(sha256Hex('\ud800')).toBe(createHash('sha256').update('\ud800', 'utf8').digest('hex'));
  });
});

/** Truncation by encoding every text first: the form the fast path must agree with (uncut: the text its UTF-8 bytes decode to, lone surrogates U+FFFD). */
function truncateByEncoding(text: string, maxBytes: number, keep: 'head' | 'tail'): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return new TextDecoder().decode(bytes);
  const budget = maxBytes >= 3 ? maxBytes - 3 : maxBytes;
  const mark = maxBytes >= 3 ? '…' : '';
  if (keep === 'head') {
    let end = budget;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    return new TextDecoder().decode(bytes.subarray(0, end)) + mark;
  }
  let start = bytes.length - budget;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return mark + new TextDecoder().decode(bytes.subarray(start));
}

describe('truncateUtf8', () => {
  it('equals truncation by full encoding for any text, budget and side, lone surrogates included', () => {
    // 'binary' units are code points, never half a pair: the halves are added as units of their own
    const unit = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('\ud83d', '\ude80', '\udfff'));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 80 }), fc.nat(120), fc.constantFrom('head' as const, 'tail' as const), (s, max, keep) => {
        expect(truncateUtf8(s, max, keep)).toBe(truncateByEncoding(s, max, keep));
      }),
    );
  });
});

/**
 * The reader as first written (slices per key, maps per message): the oracle for the current one.
 * Same layouts, same caps; only the bookkeeping differs.
 */
function readFlattenedReference(attrs: Attributes, layout: typeof OPENINFERENCE_INPUT): { role: string; text: string; calls: unknown[][]; results: string[] }[] {
  const drafts = new Map<number, { role?: string; content?: string; contents: Map<number, string>; toolCallId?: string; calls: Map<number, unknown[]> }>();
  const text = (v: unknown) => (typeof v === 'string' ? (v.length > 0 ? v : undefined) : v === undefined || v === null ? undefined : JSON.stringify(v));
  for (const key of Object.keys(attrs)) {
    if (!key.startsWith(layout.prefix)) continue;
    const rest = key.slice(layout.prefix.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) continue;
    const index = Number(rest.slice(0, dot));
    if (!Number.isSafeInteger(index) || index < 0) continue;
    const field = rest.slice(dot + 1);
    let d = drafts.get(index);
    if (!d) drafts.set(index, (d = { contents: new Map(), calls: new Map() }));
    const value = attrs[key];
    if (field === layout.role) d.role = text(value);
    else if (field === layout.content) d.content = text(value);
    else if (field === layout.toolCallId) d.toolCallId = text(value);
    else if (field.startsWith(layout.toolCalls)) {
      const r = field.slice(layout.toolCalls.length);
      const dd = r.indexOf('.');
      const ci = Number(r.slice(0, dd));
      if (dd <= 0 || !Number.isSafeInteger(ci) || ci < 0) continue;
      const cf = r.slice(dd + 1);
      const call = d.calls.get(ci) ?? [undefined, undefined];
      if (cf === layout.callId) call[0] = value;
      else if (cf === layout.callName) call[1] = value;
      else continue;
      d.calls.set(ci, call);
    } else if (layout.contents && layout.contentText && field.startsWith(layout.contents)) {
      const r = field.slice(layout.contents.length);
      const dd = r.indexOf('.');
      const ci = Number(r.slice(0, dd));
      if (dd > 0 && Number.isSafeInteger(ci) && r.slice(dd + 1) === layout.contentText) {
        const t = text(value);
        if (t !== undefined) d.contents.set(ci, t);
      }
    }
  }
  const byIndex = <T,>(m: Map<number, T>) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  // Calls as ToolCallRef makes them (non-empty strings, trimmed id), de-duplicated by id, else by name.
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const calls = (raw: unknown[][]) => {
    const seen = new Set<string>();
    const out: unknown[][] = [];
    for (const [id, name] of raw) {
      const c = [str(id)?.trim() || undefined, str(name)];
      const key = (c[0] as string | undefined) ?? `${(c[1] as string | undefined) ?? ''}\u0000`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(c);
      }
    }
    return out;
  };
  return byIndex(drafts).map((d) => ({
    role: d.role ?? 'unknown',
    text: d.content ?? byIndex(d.contents).join('\n'),
    calls: calls(byIndex(d.calls)),
    results: d.toolCallId ? [d.toolCallId] : [],
  }));
}

const summary = (msgs: readonly ChatMessage[]) =>
  msgs.map((m) => ({ role: m.role, text: m.text, calls: m.toolCalls.map((c) => [c.id, c.name]), results: [...m.toolResultIds] }));

describe('readFlattenedMessages', () => {
  // Index segments that are plain digits, padded, signed, spaced, exponents, empty or huge.
  const index = fc.oneof(fc.nat(12).map(String), fc.constantFrom('01', '1e1', ' 2', '+3', '-1', '', '0x2', '99999999999999999999', '1.5'));
  const oiField = fc.oneof(
    fc.constantFrom('message.role', 'message.content', 'message.tool_call_id', 'message.other'),
    fc.tuple(index, fc.constantFrom('tool_call.id', 'tool_call.function.name', 'tool_call.x')).map(([i, f]) => `message.tool_calls.${i}.${f}`),
    fc.tuple(index, fc.constantFrom('message_content.text', 'message_content.type')).map(([i, f]) => `message.contents.${i}.${f}`),
  );
  const value = fc.oneof(fc.constantFrom('user', 'assistant', 'tool', '', 'call_1', 'search'), fc.integer(), fc.constant(null));

  it('reads random OpenInference attribute maps exactly like the reference reader', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(index, oiField, value), { maxLength: 25 }), fc.array(fc.tuple(fc.string(), value), { maxLength: 5 }), (entries, noise) => {
        const attrs: Attributes = {};
        for (const [k, v] of noise) attrs[k] = v;
        for (const [i, f, v] of entries) attrs[`llm.input_messages.${i}.${f}`] = v;
        expect(summary(readFlattenedMessages(attrs, OPENINFERENCE_INPUT))).toEqual(readFlattenedReference(attrs, OPENINFERENCE_INPUT));
        // Passing the key list changes nothing.
        expect(readFlattenedMessages(attrs, OPENINFERENCE_INPUT, Object.keys(attrs))).toEqual(readFlattenedMessages(attrs, OPENINFERENCE_INPUT));
      }),
    );
  });

  it('reads random OpenLLMetry legacy attribute maps exactly like the reference reader', () => {
    const field = fc.oneof(
      fc.constantFrom('role', 'content', 'tool_call_id', 'other'),
      fc.tuple(index, fc.constantFrom('id', 'name', 'z')).map(([i, f]) => `tool_calls.${i}.${f}`),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(index, field, value), { maxLength: 25 }), (entries) => {
        const attrs: Attributes = {};
        for (const [i, f, v] of entries) attrs[`gen_ai.prompt.${i}.${f}`] = v;
        expect(summary(readFlattenedMessages(attrs, OPENLLMETRY_PROMPT))).toEqual(readFlattenedReference(attrs, OPENLLMETRY_PROMPT));
      }),
    );
  });

  it('reads both sides of a call in one pass exactly as each layout on its own', () => {
    const legacyField = fc.oneof(
      fc.constantFrom('role', 'content', 'tool_call_id', 'other'),
      fc.tuple(index, fc.constantFrom('id', 'name', 'arguments', 'z')).map(([i, f]) => `tool_calls.${i}.${f}`),
    );
    const calls = [
      { call: OPENINFERENCE_CALL, input: OPENINFERENCE_INPUT, output: OPENINFERENCE_OUTPUT, field: oiField },
      { call: OPENLLMETRY_CALL, input: OPENLLMETRY_PROMPT, output: OPENLLMETRY_COMPLETION, field: legacyField },
    ];
    for (const { call, input, output, field } of calls) {
      const entry = fc.tuple(fc.boolean(), index, field, value);
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 30 }), fc.array(fc.tuple(fc.string(), value), { maxLength: 5 }), (entries, noise) => {
          const attrs: Attributes = {};
          // keys of both sides interleaved, among keys of neither
          for (const [k, v] of noise) attrs[k] = v;
          for (const [out, i, f, v] of entries) attrs[`${(out ? output : input).prefix}${i}.${f}`] = v;
          expect(readFlattenedCall(attrs, call)).toEqual({ input: readFlattenedMessages(attrs, input), output: readFlattenedMessages(attrs, output) });
        }),
      );
    }
  });
});

describe('messagesOfAttribute', () => {
  /** The straightforward reading: the whole text parsed, then read. */
  const reference = (text: string): ChatMessage[] => {
    const t = text.trim();
    if (!t.startsWith('[') && !t.startsWith('{')) return [];
    try {
      return readMessages(JSON.parse(t));
    } catch {
      return [];
    }
  };
  const part = fc.oneof(
    fc.record({ type: fc.constant('text'), content: fc.string() }),
    fc.record({ type: fc.constant('tool_call'), id: fc.constantFrom('c1', 'c2'), name: fc.constantFrom('search', 'transfer_to_b'), arguments: fc.jsonValue() }),
    fc.record({ type: fc.constant('tool_call_response'), id: fc.constantFrom('c1', 'c2'), result: fc.jsonValue() }),
  );
  const item = fc.oneof(fc.record({ role: fc.constantFrom('user', 'assistant', 'tool'), parts: fc.array(part, { maxLength: 3 }) }), fc.jsonValue());
  // What may follow a remembered text's items: more items (the conversation going on), or text that
  // only looks like it (a trailing comma, garbage, another value glued on, whitespace JSON does not allow).
  const tail = fc.oneof(
    fc.array(item, { minLength: 1, maxLength: 4 }).map((xs) => `,${xs.map((x) => JSON.stringify(x)).join(',')}]`),
    fc.constantFrom(',]', ' , ]', ']', '1]', ',{]', ',\u00a0{"role":"user"}]', ' ,\n\t{"role":"user","parts":[]} ]', ',"a"]x', ', null ]'),
    fc.string().map((s) => `,${s}]`),
  );

  it('reads a text extending one read before exactly as the whole text, whatever follows the prefix', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 5 }), fc.constantFrom('', ' ', '\n  '), tail, fc.boolean(), (items, space, more, twice) => {
        const first = `${space}[${items.map((x) => JSON.stringify(x)).join(',')}${space}]${space}`;
        const next = `${first.trimEnd().slice(0, -1)}${space}${more}`;
        expect(messagesOfAttribute({ k: first }, 'k')).toEqual(reference(first));
        if (twice) expect(messagesOfAttribute({ k: first }, 'k')).toEqual(reference(first));
        expect(messagesOfAttribute({ k: next }, 'k')).toEqual(reference(next));
        expect(messagesOfAttribute({ k: next }, 'k')).toEqual(reference(next));
      }),
    );
  });

  it('gives every caller its own list', () => {
    const text = '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]';
    const a = messagesOfAttribute({ k: text }, 'k');
    a.length = 0;
    expect(messagesOfAttribute({ k: text }, 'k')).toEqual(reference(text));
  });
});

describe('one span tree per episode', () => {
  it('stepsFromTree / evaluationsFromTree equal stepsFromSpans / evaluationsFromSpans on the recorded runs', () => {
    for (const inst of INSTRUMENTATIONS) {
      const logs = evaluationsFromLogs(fixtureLogs(inst));
      for (const spans of runSpans(inst)) {
        const tree = new SpanTree(spans);
        const spanEvaluations = evaluationsFromTree(tree, { rootScoreAttribute: 'agent_credit.score' });
        expect(spanEvaluations).toEqual(evaluationsFromSpans(spans, { rootScoreAttribute: 'agent_credit.score' }));
        const evaluations = [...logs, ...spanEvaluations];
        const want = stepsFromSpans(spans, { evaluations });
        expect(stepsFromTree(tree, { evaluations })).toEqual(want);
        // Span evaluations handed in instead of read again: the same steps (and flags).
        expect(stepsFromTree(tree, { evaluations, spanEvaluations })).toEqual(want);
      }
    }
  });

  it('ignores passed span evaluations when another label table is given', () => {
    const spans = runSpans('openinference')[2]!;
    const tree = new SpanTree(spans);
    const labelScores = { pass: 1, fail: 1 }; // nothing fails under this table
    const withTable = stepsFromTree(tree, { labelScores, spanEvaluations: evaluationsFromTree(tree) });
    expect(withTable).toEqual(stepsFromSpans(spans, { labelScores }));
  });
});

/** A bare span with the given id and parent (structure tests need nothing else). */
function bareSpan(spanId: string, parentSpanId?: string) {
  return {
    traceId: '0'.repeat(32),
    spanId,
    ...(parentSpanId !== undefined ? { parentSpanId } : {}),
    name: 's',
    kind: 1,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0 as const },
    resource: { attributes: {} },
    scope: { name: 'x' },
  };
}

describe('SpanTree nearestWhere', () => {
  it('equals a plain walk with a visited set, on long chains and through parent cycles', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 80 }), fc.array(fc.nat(160), { maxLength: 6 }), (cycle, tail, marked) => {
        // Spans 0..cycle-1 form a parent cycle; spans cycle..cycle+tail-1 hang below it as a chain.
        const id = (i: number) => i.toString(16).padStart(16, '0');
        const n = cycle + tail;
        const spans = Array.from({ length: n }, (_, i) => bareSpan(id(i), i === 0 ? id(cycle - 1) : id(i - 1)));
        const tree = new SpanTree(spans);
        const hit = new Set(marked.filter((m) => m < n).map(id));
        const nearest = tree.nearestWhere((sp) => hit.has(sp.spanId));
        for (let i = n - 1; i >= 0; i--) {
          const seen = new Set<string>();
          let want: string | undefined;
          for (let cur: string | undefined = id(i); cur !== undefined && !seen.has(cur); cur = tree.parentOf(cur)) {
            if (hit.has(cur)) {
              want = cur;
              break;
            }
            seen.add(cur);
          }
          expect(nearest(id(i))?.spanId).toBe(want);
        }
      }),
    );
  });
});

describe('SpanTree depth', () => {
  it('equals the number of ancestors for random forests given in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(40), { minLength: 1, maxLength: 40 }), fc.nat(), (parentPick, seed) => {
        // Span i's parent is an earlier span (or none), so the structure is a forest.
        const ids = parentPick.map((_, i) => i.toString(16).padStart(16, '0'));
        const parent = parentPick.map((p, i) => (i === 0 || p % (i + 1) === i ? undefined : p % i));
        const spans = ids.map((spanId, i) => bareSpan(spanId, parent[i] !== undefined ? ids[parent[i]!]! : undefined));
        const shuffled = [...spans].sort((a, b) => ((Number.parseInt(a.spanId, 16) * 7919 + seed) % 101) - ((Number.parseInt(b.spanId, 16) * 7919 + seed) % 101));
        const tree = new SpanTree(shuffled);
        for (let i = 0; i < ids.length; i++) {
          let d = 0;
          for (let p = parent[i]; p !== undefined; p = parent[p]) d++;
          expect(tree.depth(ids[i]!)).toBe(d);
          expect(tree.parentOf(ids[i]!)).toBe(parent[i] === undefined ? undefined : ids[parent[i]!]);
        }
      }),
    );
  });
});

describe('conventions options kept from the previous episode', () => {
  const spans = recordSpans((r) => {
    r.start('chat m', 0, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }).end(at(5));
  });
  const agentOf = (options: Parameters<typeof stepsFromSpans>[1]) => stepsFromSpans(spans, options).steps[0]!.agentName;

  it('a changed value is read, an unchanged one as before', () => {
    expect(agentOf({ fallbackAgentName: 'first' })).toBe('first');
    expect(agentOf({ fallbackAgentName: 'first', evaluations: [] })).toBe('first');
    expect(agentOf({ fallbackAgentName: 'second' })).toBe('second');
    expect(agentOf(undefined)).toBe('sdk-agents'); // the default: the service name
  });

  it('invalid options throw on every call, also after the same ones passed before', () => {
    expect(agentOf({ fallbackAgentName: 'first' })).toBe('first');
    for (let i = 0; i < 2; i++) expect(() => stepsFromSpans(spans, { maxTextBytes: -1 })).toThrow(/conventions\.maxTextBytes/);
    expect(agentOf({ fallbackAgentName: 'first' })).toBe('first');
  });
});
