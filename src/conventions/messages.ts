/**
 * Chat messages as the three conventions record them, normalised to one small shape so the
 * causal linker can follow tool calls: which calls a step issued, which results it consumed.
 *
 * Forms read (spec versions checked 2026-11):
 * - OTel GenAI semconv (registry `gen_ai.input.messages` / `gen_ai.output.messages`, JSON schemas
 *   docs/gen-ai/gen-ai-{input,output}-messages.json): `[{role, parts: [{type: 'text', content} |
 *   {type: 'tool_call', id, name, arguments} | {type: 'tool_call_response', id, result}]}]`,
 *   as a JSON string or structured value. OpenLLMetry 0.62 and the current semantic-conventions-genai
 *   schema write `response` instead of `result`. `reasoning` and `blob` parts are not text (`NOT_SAID`).
 * - OpenAI chat format (OpenInference `input.value` / `output.value` JSON):
 *   `[{role, content, tool_calls: [{id, function: {name, arguments}}], tool_call_id}]`.
 * - OpenInference flattened (spec/semantic_conventions.md): `llm.{input,output}_messages.N.message.
 *   {role, content, tool_call_id, tool_calls.M.tool_call.{id, function.name, function.arguments},
 *   contents.K.message_content.text}`.
 * - OpenLLMetry legacy flattened: `gen_ai.{prompt,completion}.N.{role, content, tool_call_id,
 *   tool_calls.M.{id, name, arguments}}`.
 * - Quirk (opentelemetry-instrumentation-openai-agents-v2 0.1.0): an assistant output whose only
 *   text part is the Python `repr` of the OpenAI message, e.g. `{'content': None, ...,
 *   'tool_calls': [{'id': 'call_61', 'function': {'arguments': '{}', 'name': 'transfer_to_flights'}, ...}]}`;
 *   `toolCallsFromPythonRepr` recovers the calls from it.
 */
import type { Attributes } from '../model/telemetry.js';
import { REDACTED_TEXT, isRecord, parsedJsonText, structured, textOf } from './attributes.js';
import { NO_CALLS, NO_IDS } from './span-facts.js';

export interface ToolCallRef {
  readonly id?: string;
  readonly name?: string;
  /** Canonical JSON of the arguments (sorted keys) when parseable, else the raw text. */
  readonly args?: string;
}

export interface ChatMessage {
  readonly role: string;
  readonly text: string;
  /** Tool calls requested in this message (assistant), each key once (every reader dedupes them: `dedupeCalls`). */
  readonly toolCalls: readonly ToolCallRef[];
  /** Ids of tool calls whose results this message carries (tool role). */
  readonly toolResultIds: readonly string[];
}

const MAX_MESSAGES = 10_000; // bound work on hostile input

/**
 * Canonical forms of argument texts seen lately. An LLM span's input replays the conversation so
 * far, so the same tool call's arguments are canonicalized again for every later span of the
 * episode (quadratic in its length); the text → canonical form map is pure, so it is memoized.
 * Bounded: cleared when full (a plain Map; the texts of one episode fit many times over).
 */
const canonicalMemo = new Map<string, string>();
const CANONICAL_MEMO_MAX = 4_096;
const CANONICAL_MEMO_MAX_TEXT = 4_096; // longer texts are not kept (memory), only canonicalized

/** Canonical form of tool-call arguments, so `{"a": 1}` and `{ "a":1 }` (or an object) compare equal. */
export function canonicalArgs(v: unknown): string | undefined {
  if (v === undefined || v === null || v === REDACTED_TEXT) return undefined;
  if (typeof v !== 'string') return stableStringify(v);
  const memo = canonicalMemo.get(v);
  if (memo !== undefined) return memo;
  const t = v.trim();
  if (t === '') return undefined;
  let canonical: string;
  try {
    canonical = stableStringify(JSON.parse(t) as unknown);
  } catch {
    canonical = t;
  }
  if (v.length <= CANONICAL_MEMO_MAX_TEXT) {
    if (canonicalMemo.size >= CANONICAL_MEMO_MAX) canonicalMemo.clear();
    canonicalMemo.set(v, canonical);
  }
  return canonical;
}

function stableStringify(v: unknown, depth = 0): string {
  if (depth > 32) return '"…"';
  if (Array.isArray(v)) return `[${v.map((x) => stableStringify(x, depth + 1)).join(',')}]`;
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k], depth + 1)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return isRecord(v) ? v : undefined;
}

function asString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * GenAI part types whose `content` is not what the message says (semantic-conventions-genai
 * `model/gen-ai/gen-ai-{input,output}-messages.json`, unreleased): `reasoning` is the model's
 * thinking, recorded before the answer (Anthropic thinking blocks, OpenAI reasoning summaries), and
 * `blob` is base64 bytes (an inline image or file). Read as text, either became the head of a step's
 * output text, so the answer that another agent's prompt held (C8, which probes the head) no longer
 * matched. `file`, `uri` and server tool parts carry no `content` and yield no text anyway.
 * Pydantic AI writes the same under its own names (pydantic_ai `_otel_messages.py`, `ModelResponse.otel_message_parts`):
 * a thinking part as `{type: 'thinking', content}` and a file (before its instrumentation version 4's `blob`) as
 * `{type: 'binary', media_type, content: <base64>}` — read as text alike before. Strands Agents maps a Bedrock
 * `reasoningContent` block (a model's thinking, kept before its answer) to `{type: 'reasoningContent', content:
 * {reasoningText: {text, signature}}}` (`telemetry/tracer.py` `_map_content_blocks_to_otel_parts`, "the key as type
 * and value as content"; content-events.ts `strandsParts` maps its span events alike): the JSON of the thinking was
 * the head of the output text.
 */
const NOT_SAID: ReadonlySet<string> = new Set(['reasoning', 'blob', 'thinking', 'binary', 'reasoningContent']);

/**
 * Reads a list of messages in GenAI-parts or OpenAI-chat form; anything else yields []. A message
 * without tool calls or result ids holds the shared empty lists (`NO_CALLS`, `NO_IDS`), and one
 * text part is its text without a list of parts: an LLM span's input replays the conversation so
 * far, and three new arrays per message read (and a fourth per text part, for the calls of a
 * Python repr) were most of what this function allocated.
 */
export function readMessages(value: unknown): ChatMessage[] {
  const list = Array.isArray(value) ? value : asRecord(value) ? [value] : [];
  const out: ChatMessage[] = [];
  // indexed up to the bound rather than over a bounded copy (`slice`) of each list
  for (let i = 0, n = Math.min(list.length, MAX_MESSAGES); i < n; i++) {
    const m = asRecord(list[i]);
    if (!m) continue;
    const role = asString(m['role']) ?? 'unknown';
    const texts = new MessageTexts();
    let toolCalls: ToolCallRef[] | undefined;
    let toolResultIds: string[] | undefined;
    const parts = m['parts'];
    if (Array.isArray(parts)) {
      for (let j = 0, n = Math.min(parts.length, MAX_MESSAGES); j < n; j++) {
        const part = asRecord(parts[j]);
        if (!part) continue;
        const type = asString(part['type']);
        if (NOT_SAID.has(type ?? '')) continue;
        if (type === 'text') {
          const c = textOf(part['content']);
          if (c !== undefined) {
            texts.add(c);
            if (c.includes('tool_calls')) pushPythonReprCalls(c, (toolCalls ??= []));
          }
        } else if (type === 'tool_call') {
          (toolCalls ??= []).push(ref(part['id'], part['name'], part['arguments']));
        } else if (type === 'tool_call_response') {
          const id = asString(part['id'])?.trim();
          if (id) (toolResultIds ??= []).push(id);
          const r = textOf(part['result'] ?? part['response']);
          if (r !== undefined && texts.empty) texts.add(r);
        } else {
          const c = textOf(part['content']);
          if (c !== undefined) texts.add(c);
        }
      }
    } else {
      const c = m['content'];
      const text = typeof c === 'string' ? textOf(c) : Array.isArray(c) ? contentArrayText(c) : textOf(c);
      if (text) texts.add(text);
      if (Array.isArray(c)) anthropicBlockCalls(c, (toolCalls ??= []), (toolResultIds ??= []));
    }
    const calls = m['tool_calls'];
    if (Array.isArray(calls)) {
      for (let j = 0, n = Math.min(calls.length, MAX_MESSAGES); j < n; j++) {
        const call = asRecord(calls[j]);
        if (!call) continue;
        const fn = asRecord(call['function']);
        (toolCalls ??= []).push(ref(call['id'], fn?.['name'] ?? call['name'], fn?.['arguments'] ?? call['arguments']));
      }
    }
    const resultId = asString(m['tool_call_id']);
    if (resultId) (toolResultIds ??= []).push(resultId);
    out.push({
      role,
      text: texts.text(),
      toolCalls: toolCalls === undefined || toolCalls.length === 0 ? NO_CALLS : dedupeCalls(toolCalls),
      toolResultIds: toolResultIds === undefined || toolResultIds.length === 0 ? NO_IDS : toolResultIds,
    });
  }
  return out;
}

/** A message's texts, joined by `\n`: the one text of most messages is kept without a list. */
class MessageTexts {
  private first: string | undefined = undefined;
  private more: string[] | undefined = undefined;

  get empty(): boolean {
    return this.first === undefined;
  }

  add(t: string): void {
    if (this.first === undefined) this.first = t;
    else (this.more ??= [this.first]).push(t);
  }

  /** The texts joined by `\n` ('' when none). */
  text(): string {
    return this.more !== undefined ? this.more.join('\n') : this.first ?? '';
  }
}

/**
 * `readMessages` of a structured attribute (`structured`: a JSON text or a structured value); []
 * when absent or not JSON.
 */
export function messagesOfAttribute(attrs: Attributes, key: string): ChatMessage[] {
  const v = attrs[key];
  if (typeof v === 'string') return messagesOfJsonText(v);
  const parsed = structured(attrs, key);
  return parsed === undefined ? [] : readMessages(parsed);
}

/**
 * A JSON array of messages read lately: its text (trimmed), that text without its closing bracket,
 * its item count and its messages.
 */
interface ReadText {
  readonly text: string;
  readonly head: string;
  readonly items: number;
  readonly messages: readonly ChatMessage[];
}

/**
 * Message lists read lately from JSON text, newest last. An LLM span's input messages replay the
 * conversation so far, and SDKs serialize the list the same way on every call: the next call's
 * input text is the previous one's with more items before its closing bracket. Parsing and reading
 * that prefix again made an episode quadratic in its conversation's length (60 % of the bench
 * fleet's `gen_ai.input.messages` bytes). A text that extends a remembered one (its items, then
 * `,` and one or more items) is parsed past the prefix only: JSON values parse alike wherever they
 * stand, and `readMessages` reads every item on its own, so the prefix's messages are the
 * remembered ones. A few entries: the calls of one conversation follow each other.
 */
const recentTexts: ReadText[] = [];
const RECENT_TEXTS = 8;

function messagesOfJsonText(v: string): ChatMessage[] {
  const t = v.trim();
  if (t.startsWith('[')) {
    const extended = extendedMessages(t);
    if (extended !== undefined) return extended;
  }
  const parsed = parsedJsonText(t);
  if (parsed === undefined) return [];
  const messages = readMessages(parsed);
  if (Array.isArray(parsed)) remember(t, parsed.length, messages);
  return messages;
}

/** The messages of `t` (trimmed, starting with `[`) read through a remembered text it repeats or extends; undefined when none. */
function extendedMessages(t: string): ChatMessage[] | undefined {
  let base: ReadText | undefined;
  for (const r of recentTexts) {
    if (r.text === t) return r.messages.slice();
    if ((base === undefined || r.items > base.items) && t.length > r.text.length && startsWithText(t, r.head)) base = r;
  }
  if (base === undefined) return undefined;
  let i = base.head.length;
  while (i < t.length && isJsonSpace(t.charCodeAt(i))) i++;
  if (t.charCodeAt(i) !== 44 /* , */) return undefined;
  let rest: unknown;
  try {
    rest = JSON.parse(`[${t.slice(i + 1)}`);
  } catch {
    return undefined; // not JSON: read as a whole (which finds that too)
  }
  // `[a,]` is no JSON, `[` + `]` is: an extension has at least one item
  if (!Array.isArray(rest) || rest.length === 0 || base.items + rest.length > MAX_MESSAGES) return undefined;
  const messages = base.messages.concat(readMessages(rest));
  remember(t, base.items + rest.length, messages);
  return messages;
}

/**
 * `t.startsWith(head)` for long texts: V8's startsWith compares character by character (~1 ns
 * each), a slice compared whole is a memory compare (~0.07 ns a character); the last character
 * first turns most other conversations' texts away at once.
 */
function startsWithText(t: string, head: string): boolean {
  const n = head.length;
  return n === 0 || (t.charCodeAt(n - 1) === head.charCodeAt(n - 1) && t.slice(0, n) === head);
}

function remember(text: string, items: number, messages: readonly ChatMessage[]): void {
  // only non-empty lists within the read bound: their text minus `]` ends after a complete item
  if (items === 0 || items > MAX_MESSAGES) return;
  if (recentTexts.length >= RECENT_TEXTS) recentTexts.shift();
  recentTexts.push({ text, head: text.slice(0, -1), items, messages: messages.slice() });
}

/** JSON's insignificant whitespace (RFC 8259): space, tab, line feed, carriage return. */
function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The tool calls and results in a content list of Anthropic Messages blocks (`{type: 'tool_use', id, name, input}`,
 * `{type: 'tool_result', tool_use_id, content}`): a tool's result reaches the model as such a block in a user message,
 * with no `tool_call_id` beside it. OpenLLMetry's Anthropic instrumentation (traceloop/openllmetry
 * opentelemetry-instrumentation-anthropic `span_utils.py` `_dump_content`) records a message's blocks as this list in
 * JSON (`gen_ai.prompt.N.content`), other sources as the message's `content`. Unread, the model call that read the
 * results named none of them: C3 linked no tool to it, and of tools run side by side (one response's calls) only the
 * one that ended last reached it (C4); the others' results were dead ends.
 * Bedrock's Converse API has the same blocks under other names, `{toolUse: {toolUseId, name, input}}` and
 * `{toolResult: {toolUseId, content, status}}`, and OpenLLMetry's Bedrock instrumentation up to 0.56 (`span_utils.py`
 * `set_converse_input_prompt_span_attributes`, before its GenAI-parts rewrite) records a message's blocks as JSON in
 * `gen_ai.prompt.N.content` the same way (and of a response only its text blocks: a call is found in the next call's
 * history): read alike.
 */
function anthropicBlockCalls(blocks: readonly unknown[], toolCalls: ToolCallRef[], toolResultIds: string[]): void {
  for (let i = 0, n = Math.min(blocks.length, MAX_MESSAGES); i < n; i++) {
    const b = asRecord(blocks[i]);
    if (b === undefined) continue;
    if (b['type'] === 'tool_result') {
      const id = asString(b['tool_use_id'])?.trim();
      if (id) toolResultIds.push(id);
    } else if (b['type'] === 'tool_use') {
      toolCalls.push(ref(b['id'], b['name'], b['input']));
    } else if (isRecord(b['toolResult'])) {
      const id = asString(b['toolResult']['toolUseId'])?.trim();
      if (id) toolResultIds.push(id);
    } else if (isRecord(b['toolUse'])) {
      const u = b['toolUse'];
      toolCalls.push(ref(u['toolUseId'], u['name'], u['input']));
    }
  }
}

/**
 * Whether a flattened message's content may be a block list in JSON with tool calls or results
 * (`anthropicBlockCallsOfText`). Its first character first: searching every message text of every
 * flattened LLM span three times over for the block names (~1 % of the conventions stage's time in
 * the bench fleet's profile) turned away texts that a look at their head turns away.
 */
function mayHoldBlockCalls(content: string | undefined): content is string {
  return content !== undefined && content.trimStart().startsWith('[') && (content.includes('"tool_') || content.includes('"toolUse') || content.includes('"toolResult'));
}

/** `anthropicBlockCalls` of a flattened message's content when it is such a block list in JSON (else nothing; see `mayHoldBlockCalls`). */
function anthropicBlockCallsOfText(content: string, toolCalls: ToolCallRef[], toolResultIds: string[]): void {
  const blocks = parsedJsonText(content);
  if (Array.isArray(blocks)) anthropicBlockCalls(blocks, toolCalls, toolResultIds);
}

function contentArrayText(parts: unknown[]): string {
  const texts: string[] = [];
  for (const p of parts) {
    const r = asRecord(p);
    const t = textOf(r ? asString(r['text']) ?? asString(r['content']) : asString(p));
    if (t) texts.push(t);
  }
  return texts.join('\n');
}

function ref(id: unknown, name: unknown, args: unknown): ToolCallRef {
  const call: { id?: string; name?: string; args?: string } = {};
  const i = asString(id)?.trim();
  if (i) call.id = i;
  const n = asString(name);
  if (n) call.name = n;
  const a = canonicalArgs(args);
  if (a !== undefined) call.args = a;
  return call;
}

/** `calls` without the calls whose key (id, else name and arguments) an earlier one has; `calls` itself when none repeats. */
function dedupeCalls(calls: ToolCallRef[]): ToolCallRef[] {
  if (calls.length < 2) return calls; // most messages request one call or none: no Set, no copy
  // A few calls with no repeat (the usual list, e.g. a conversation's history) are compared pair by
  // pair and come back as they are: no key list, no copy, and no key string for a call with an id.
  if (calls.length <= SCAN_MAX && !repeatsCall(calls)) return calls;
  // as `resultIds`: the keys of a few calls are scanned, a Set is kept once there are more
  const keys: string[] = [];
  let seen: Set<string> | undefined;
  const out: ToolCallRef[] = [];
  for (const c of calls) {
    const key = callKey(c);
    if (seen !== undefined ? seen.has(key) : keys.includes(key)) continue;
    out.push(c);
    if (seen !== undefined) seen.add(key);
    else if (keys.push(key) > SCAN_MAX) seen = new Set(keys);
  }
  return out;
}

/** What `dedupeCalls` tells calls apart by: the id, else the name and arguments. */
function callKey(c: ToolCallRef): string {
  return c.id ?? `${c.name ?? ''}\u0000${c.args ?? ''}`;
}

/** Whether two of `calls` have one key (`callKey`), compared pair by pair. */
function repeatsCall(calls: readonly ToolCallRef[]): boolean {
  for (let i = 1; i < calls.length; i++) {
    const a = calls[i]!;
    for (let j = 0; j < i; j++) {
      const b = calls[j]!;
      if (a.id !== undefined && b.id !== undefined ? a.id === b.id : callKey(a) === callKey(b)) return true;
    }
  }
  return false;
}

// A Python str literal in either quote style, with backslash escapes.
const PY_STR = String.raw`(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")`;
const PY_CALL = new RegExp(
  String.raw`['"]id['"]\s*:\s*${PY_STR}\s*,\s*['"]function['"]\s*:\s*\{\s*['"]arguments['"]\s*:\s*${PY_STR}\s*,\s*['"]name['"]\s*:\s*${PY_STR}`,
  'g',
);

function unescapePy(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/**
 * Tool calls inside the Python `repr` of an OpenAI chat message (quirk of
 * opentelemetry-instrumentation-openai-agents-v2 0.1.0, see file header). Only the key order
 * that `ChatCompletionMessageToolCall.__repr__`/dict repr produces (`id`, `function: {arguments,
 * name}`) is recognised; other text yields [].
 */
export function toolCallsFromPythonRepr(text: string): ToolCallRef[] {
  const out: ToolCallRef[] = [];
  if (text.includes('tool_calls')) pushPythonReprCalls(text, out);
  return out;
}

/** Appends the calls `toolCallsFromPythonRepr` reads in `text` to `out` (at most MAX_MESSAGES of them). */
function pushPythonReprCalls(text: string, out: ToolCallRef[]): void {
  let added = 0;
  for (const m of text.slice(0, 1_000_000).matchAll(PY_CALL)) {
    const id = unescapePy(m[1] ?? m[2] ?? '');
    const args = unescapePy(m[3] ?? m[4] ?? '');
    const name = unescapePy(m[5] ?? m[6] ?? '');
    out.push(ref(id, name, args));
    if (++added >= MAX_MESSAGES) break;
  }
}

interface FlatLayout {
  /** e.g. `llm.input_messages.` */
  readonly prefix: string;
  /** suffix of the message fields after `<prefix>N.` */
  readonly role: string;
  readonly content: string;
  readonly toolCallId: string;
  /** prefix of the tool call list after `<prefix>N.`, followed by `M.` and the call fields */
  readonly toolCalls: string;
  readonly callId: string;
  readonly callName: string;
  readonly callArgs: string;
  /** optional multi-part contents: `<prefix>N.<contents>K.<contentText>` */
  readonly contents?: string;
  readonly contentText?: string;
  /** the part's type, `<prefix>N.<contents>K.<contentType>`: a part of a type in `NOT_SAID_CONTENT` is no text */
  readonly contentType?: string;
}

export const OPENINFERENCE_INPUT: FlatLayout = oiLayout('llm.input_messages.');
export const OPENINFERENCE_OUTPUT: FlatLayout = oiLayout('llm.output_messages.');
function oiLayout(prefix: string): FlatLayout {
  return {
    prefix,
    role: 'message.role',
    content: 'message.content',
    toolCallId: 'message.tool_call_id',
    toolCalls: 'message.tool_calls.',
    callId: 'tool_call.id',
    callName: 'tool_call.function.name',
    callArgs: 'tool_call.function.arguments',
    contents: 'message.contents.',
    contentText: 'message_content.text',
    contentType: 'message_content.type',
  };
}
export const OPENLLMETRY_PROMPT: FlatLayout = legacyLayout('gen_ai.prompt.');
export const OPENLLMETRY_COMPLETION: FlatLayout = legacyLayout('gen_ai.completion.');
function legacyLayout(prefix: string): FlatLayout {
  return {
    prefix,
    role: 'role',
    content: 'content',
    toolCallId: 'tool_call_id',
    toolCalls: 'tool_calls.',
    callId: 'id',
    callName: 'name',
    callArgs: 'arguments',
  };
}

/**
 * What one flattened attribute key addresses in its message (see `keyPartOf`): `contentText` is
 * a `<contents>K.<contentText>` part; `none` a message key with no field of ours, which still
 * makes the message exist (role `unknown`).
 */
type Field = 'role' | 'content' | 'toolCallId' | 'callId' | 'callName' | 'callArgs' | 'contentText' | 'contentType' | 'none';

interface KeyPart {
  /** Message index (`<prefix>N.`). */
  readonly index: number;
  readonly field: Field;
  /** Tool call or content part index, for the fields that have one. */
  readonly sub: number;
  /** A key of a call's output layout (`readFlattenedCall`); false for its input layout and for a single layout. */
  readonly output: boolean;
}

/**
 * Parsed keys per layout. Attribute keys are a small vocabulary (`llm.input_messages.3.message.
 * content` recurs on every span of every conversation that long), and parsing one is several
 * string scans and slices, repeated per layout and per span: the key → part map is pure, so it is
 * memoized. `null` = not a message key of the layout. Bounded like `canonicalMemo`: cleared when
 * full, long (hostile) keys are parsed but not kept.
 */
const keyPartMemo = new WeakMap<FlatLayout | FlatCall, Map<string, KeyPart | null>>();
const KEY_MEMO_MAX = 16_384;
const KEY_MEMO_MAX_KEY = 256;

/** The key → part memo of a layout or a call's two (looked up once per read, not per key). */
function keyPartsOf(layouts: FlatLayout | FlatCall): Map<string, KeyPart | null> {
  let memo = keyPartMemo.get(layouts);
  if (memo === undefined) keyPartMemo.set(layouts, (memo = new Map()));
  return memo;
}

function keyPartOf(key: string, layouts: FlatLayout | FlatCall, memo: Map<string, KeyPart | null>): KeyPart | null {
  const known = memo.get(key);
  if (known !== undefined) return known;
  const part = 'prefix' in layouts ? parseKey(key, layouts, false) : parseKey(key, layouts.input, false) ?? parseKey(key, layouts.output, true);
  if (key.length <= KEY_MEMO_MAX_KEY) {
    if (memo.size >= KEY_MEMO_MAX) memo.clear();
    memo.set(key, part);
  }
  return part;
}

function parseKey(key: string, layout: FlatLayout, output: boolean): KeyPart | null {
  const prefix = layout.prefix;
  if (!key.startsWith(prefix)) return null;
  const dot = key.indexOf('.', prefix.length);
  if (dot <= prefix.length) return null;
  const index = decimalAt(key, prefix.length, dot);
  if (!Number.isSafeInteger(index) || index < 0) return null;
  const field = key.slice(dot + 1);
  const part = (f: Field, sub = 0): KeyPart => ({ index, field: f, sub, output });
  if (field === layout.role) return part('role');
  if (field === layout.content) return part('content');
  if (field === layout.toolCallId) return part('toolCallId');
  if (field.startsWith(layout.toolCalls)) {
    const from = layout.toolCalls.length;
    const dd = field.indexOf('.', from);
    if (dd <= from) return part('none');
    const ci = decimalAt(field, from, dd);
    if (!Number.isSafeInteger(ci) || ci < 0) return part('none');
    const cf = field.slice(dd + 1);
    if (cf === layout.callId) return part('callId', ci);
    if (cf === layout.callName) return part('callName', ci);
    if (cf === layout.callArgs) return part('callArgs', ci);
    return part('none');
  }
  if (layout.contents && layout.contentText && field.startsWith(layout.contents)) {
    const from = layout.contents.length;
    const dd = field.indexOf('.', from);
    const ci = dd > from ? decimalAt(field, from, dd) : NaN;
    if (Number.isSafeInteger(ci) && field.slice(dd + 1) === layout.contentText) return part('contentText', ci);
    if (Number.isSafeInteger(ci) && layout.contentType && field.slice(dd + 1) === layout.contentType) return part('contentType', ci);
  }
  return part('none');
}

/**
 * Rebuilds messages from flattened, indexed attributes (see layouts above). Indices need not
 * be contiguous (real instrumentation numbers tool calls per conversation, e.g.
 * `llm.input_messages.4.message.tool_calls.1.tool_call.id` with no call 0); order follows the index.
 * `keys`: the keys to read (default `Object.keys(attrs)`). A model call's two sides are read
 * together by `readFlattenedCall`.
 */
export function readFlattenedMessages(attrs: Attributes, layout: FlatLayout, keys: readonly string[] = Object.keys(attrs)): ChatMessage[] {
  const memo = keyPartsOf(layout);
  const messages = new FlatMessages();
  for (const key of keys) {
    const part = keyPartOf(key, layout, memo);
    if (part !== null) messages.add(part, attrs[key]);
  }
  return messages.read();
}

/** A model call's flattened input and output layouts (the same convention's), read together. */
export interface FlatCall {
  readonly input: FlatLayout;
  readonly output: FlatLayout;
}

export const OPENINFERENCE_CALL: FlatCall = { input: OPENINFERENCE_INPUT, output: OPENINFERENCE_OUTPUT };
export const OPENLLMETRY_CALL: FlatCall = { input: OPENLLMETRY_PROMPT, output: OPENLLMETRY_COMPLETION };

/**
 * `readFlattenedMessages` of both layouts of a call, in one pass over the span's keys: an LLM span
 * carries dozens of flattened keys (the conversation so far), and reading them once per layout
 * listed and looked up every key twice. `for…in` with the value read in the loop lets V8 load the
 * value by the key's position instead of a keyed lookup.
 */
export function readFlattenedCall(attrs: Attributes, call: FlatCall): { input: ChatMessage[]; output: ChatMessage[] } {
  const memo = keyPartsOf(call);
  const input = new FlatMessages();
  const output = new FlatMessages();
  for (const key in attrs) {
    const part = keyPartOf(key, call, memo);
    if (part === null) continue;
    (part.output ? output : input).add(part, attrs[key]);
  }
  return { input: input.read(), output: output.read() };
}

interface FlatCallDraft {
  id: unknown;
  name: unknown;
  args: unknown;
}

/** One message being rebuilt. Every member declared up front: one object shape for all. */
interface FlatDraft {
  role: string | undefined;
  content: string | undefined;
  // Created on first use: most messages have neither multi-part contents nor tool calls.
  contents: Map<number, string> | undefined;
  /** Indices of the parts whose `message_content.type` says they are no text (`NOT_SAID_CONTENT`). */
  notSaid: Set<number> | undefined;
  toolCallId: string | undefined;
  /**
   * The message's call 0 while it is its only one (`calls` undefined): most messages with calls
   * have one, and a Map per such message — and its values copied out to read them — was most of
   * what their calls cost; a call of another index moves it into `calls`.
   */
  call0: FlatCallDraft | undefined;
  calls: Map<number, FlatCallDraft> | undefined;
}

/** The messages of one layout, rebuilt key by key (`add`), then read in index order (`read`). */
class FlatMessages {
  private readonly drafts = new Map<number, FlatDraft>();
  // Instrumentations write messages in index order: then no sort is needed at the end.
  private ascending = true;
  private lastIndex = -1;
  // The draft the previous key went to: a message's keys come one after another, so most keys
  // find their draft here without a look-up in `drafts`.
  private recent: FlatDraft | undefined = undefined;
  private recentIndex = -1;

  add(part: KeyPart, value: unknown): void {
    const index = part.index;
    let d = index === this.recentIndex ? this.recent : this.drafts.get(index);
    if (d === undefined) {
      if (this.drafts.size >= MAX_MESSAGES) return;
      d = { role: undefined, content: undefined, contents: undefined, notSaid: undefined, toolCallId: undefined, call0: undefined, calls: undefined };
      this.drafts.set(index, d);
      if (index < this.lastIndex) this.ascending = false;
      this.lastIndex = index;
    }
    this.recent = d;
    this.recentIndex = index;
    switch (part.field) {
      case 'role':
        d.role = textOf(value);
        break;
      case 'content':
        d.content = textOf(value);
        break;
      case 'toolCallId':
        d.toolCallId = textOf(value);
        break;
      case 'callId':
      case 'callName':
      case 'callArgs': {
        let call: FlatCallDraft;
        if (part.sub === 0 && d.calls === undefined) call = d.call0 ??= { id: undefined, name: undefined, args: undefined };
        else {
          const calls = (d.calls ??= new Map());
          if (d.call0 !== undefined) {
            calls.set(0, d.call0);
            d.call0 = undefined;
          }
          call = calls.get(part.sub) ?? { id: undefined, name: undefined, args: undefined };
          if (calls.size < MAX_MESSAGES) calls.set(part.sub, call);
        }
        if (part.field === 'callId') call.id = value;
        else if (part.field === 'callName') call.name = value;
        else call.args = value;
        break;
      }
      case 'contentText': {
        const t = textOf(value);
        const contents = (d.contents ??= new Map());
        if (t !== undefined && contents.size < MAX_MESSAGES) contents.set(part.sub, t);
        break;
      }
      case 'contentType': {
        const t = textOf(value);
        if (t !== undefined && NOT_SAID_CONTENT.has(t.toLowerCase())) (d.notSaid ??= new Set()).add(part.sub);
        break;
      }
      case 'none':
        break;
    }
  }

  /**
   * The messages in index order. One loop into one array (not a spread copy of the drafts and its
   * mapped copy), and the shared empty lists for a message without calls or result ids.
   */
  read(): ChatMessage[] {
    const out: ChatMessage[] = [];
    if (this.ascending) for (const d of this.drafts.values()) out.push(messageOfDraft(d));
    else for (const d of sortedValues(this.drafts)) out.push(messageOfDraft(d));
    return out;
  }
}

function messageOfDraft(d: FlatDraft): ChatMessage {
  const text = d.content ?? (d.contents ? saidContents(d.contents, d.notSaid).join('\n') : '');
  let calls: ToolCallRef[] | undefined;
  if (d.call0) calls = [ref(d.call0.id, d.call0.name, d.call0.args)];
  else if (d.calls) {
    calls = [];
    for (const c of sortedValues(d.calls)) calls.push(ref(c.id, c.name, c.args));
  }
  let resultIds = d.toolCallId ? [d.toolCallId] : undefined;
  if (mayHoldBlockCalls(d.content)) anthropicBlockCallsOfText(d.content, (calls ??= []), (resultIds ??= []));
  return {
    role: d.role ?? 'unknown',
    text,
    toolCalls: calls === undefined || calls.length === 0 ? NO_CALLS : dedupeCalls(calls),
    toolResultIds: resultIds === undefined || resultIds.length === 0 ? NO_IDS : resultIds.length > 1 ? [...new Set(resultIds)] : resultIds,
  };
}

/**
 * OpenInference `message_content.type` values whose `message_content.text` is not what the message says
 * (Arize-ai/openinference spec/semantic_conventions.md: `"reasoning"` for reasoning/thinking content, the
 * text being the visible reasoning or its summary). Its Anthropic instrumentations (JS
 * `openinference-instrumentation-anthropic` `getAnthropicOutputMessagesAttributes`, Python `_stream.py`)
 * write a thinking block as such a part before the answer's `text` part, the OpenAI ones a Responses
 * reasoning item's summary: read as text, the model's thinking became the head of the step's output
 * text, as GenAI `reasoning` parts did before `NOT_SAID`.
 */
const NOT_SAID_CONTENT: ReadonlySet<string> = new Set(['reasoning']);

/** The texts of a message's content parts in index order, without the parts that are no text. */
function saidContents(contents: ReadonlyMap<number, string>, notSaid: ReadonlySet<number> | undefined): string[] {
  const texts = sortedValues(contents);
  if (notSaid === undefined) return texts;
  const indices = [...contents.keys()].sort((a, b) => a - b);
  return texts.filter((_t, i) => !notSaid.has(indices[i]!));
}

/** Values of an index-keyed map in ascending index order. */
function sortedValues<T>(m: ReadonlyMap<number, T>): T[] {
  let prev = -Infinity;
  let ascending = true;
  for (const k of m.keys()) {
    if (k < prev) {
      ascending = false;
      break;
    }
    prev = k;
  }
  return ascending ? [...m.values()] : [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/**
 * `Number(s.slice(from, to))` without the slice for the usual plain-digit index (≤ 9 digits is
 * exact); anything else (signs, spaces, exponents) goes through `Number` so it means the same.
 */
function decimalAt(s: string, from: number, to: number): number {
  if (to > from && to - from <= 9) {
    let n = 0;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return Number(s.slice(from, to));
      n = n * 10 + c;
    }
    return n;
  }
  return Number(s.slice(from, to));
}

/**
 * Message lists (`toolCalls`, `toolResultIds`) and the facts' call and id lists are walked by
 * index in this folder, not with `for…of`: a list is either a message's own array or one of the
 * shared frozen empty ones (`NO_CALLS`, `NO_IDS`), and V8 does not inline the array iterator over
 * both kinds of elements at one loop, so every step of such a loop allocated its `{value, done}`.
 */

/** Transcript form for `inputText`: one `role: text` line per message, tool calls as `→ name(args)`. */
export function renderTranscript(messages: readonly ChatMessage[]): string | undefined {
  const lines: string[] = [];
  for (const m of messages) {
    if (m.text) lines.push(`${m.role}: ${m.text}`);
    const calls = m.toolCalls;
    for (let k = 0; k < calls.length; k++) lines.push(`${m.role}: → ${calls[k]!.name ?? '?'}(${calls[k]!.args ?? ''})`);
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** Output form: the assistant text, or the requested tool calls when there is no text. */
export function renderOutput(messages: readonly ChatMessage[]): string | undefined {
  // the one text of the usual output without a list of texts (every LLM span's output)
  const texts = new MessageTexts();
  for (const m of messages) if (m.text.length > 0) texts.add(m.text);
  if (!texts.empty) return texts.text();
  const calls = messages.flatMap((m) => m.toolCalls);
  return calls.length > 0 ? calls.map((c) => `→ ${c.name ?? '?'}(${c.args ?? ''})`).join('\n') : undefined;
}

/**
 * Calls requested in the messages (assistant tool calls), each key once (`dedupeCalls`). When one
 * message holds them all (an LLM span's output) they are that message's list, which its reader
 * deduped already; the shared empty list when none. A list gathered per span, and its deduped
 * copy, were made for every LLM span's output and input.
 */
export function issuedCalls(messages: readonly ChatMessage[]): readonly ToolCallRef[] {
  let only: readonly ToolCallRef[] | undefined; // the calls of the one message with calls so far
  let calls: ToolCallRef[] | undefined;
  for (const m of messages) {
    const own = m.toolCalls;
    if (own.length === 0) continue;
    if (only === undefined && calls === undefined) {
      only = own;
      continue;
    }
    if (calls === undefined) {
      calls = only!.slice();
      only = undefined;
    }
    for (let k = 0; k < own.length; k++) calls.push(own[k]!);
  }
  return calls !== undefined ? dedupeCalls(calls) : only ?? NO_CALLS;
}

/** Ids of tool results present in the messages, each once, in order of appearance; the shared empty list when none. */
export function resultIds(messages: readonly ChatMessage[]): readonly string[] {
  let ids: string[] | undefined;
  // A conversation's results are a few ids: a scan of the list finds a repeat sooner than a Set
  // (one per LLM span, and its copy into an array) is built; long lists switch to a Set.
  let seen: Set<string> | undefined;
  for (const m of messages) {
    for (let k = 0; k < m.toolResultIds.length; k++) {
      const id = m.toolResultIds[k]!;
      if (ids === undefined) ids = [];
      else if (seen !== undefined ? seen.has(id) : ids.includes(id)) continue;
      ids.push(id);
      if (seen !== undefined) seen.add(id);
      else if (ids.length > SCAN_MAX) seen = new Set(ids);
    }
  }
  return ids ?? NO_IDS;
}

/** Longest list `resultIds` and `dedupeCalls` scan for a repeat before they keep a Set (a scan is quadratic). */
const SCAN_MAX = 16;
