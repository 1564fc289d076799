/**
 * Message contents recorded as OTel log events instead of span attributes.
 *
 * Several GenAI instrumentations put the prompt and the completion of an LLM call in log records
 * emitted inside the call's span, not on the span: OpenTelemetry JS contrib
 * `@opentelemetry/instrumentation-openai` (checked: 0.21.0) and Python
 * `opentelemetry-instrumentation-openai-v2` write one event per message —
 * `gen_ai.system.message`, `gen_ai.user.message`, `gen_ai.assistant.message` (body `{content,
 * tool_calls}`), `gen_ai.tool.message` (body `{content, id}`) and one `gen_ai.choice` per choice
 * (body `{index, finish_reason, message: {role, content, tool_calls}}`) — and the newer semconv
 * event `gen_ai.client.inference.operation.details` carries `gen_ai.input.messages`,
 * `gen_ai.output.messages` and `gen_ai.system_instructions` as attributes (the instrumentation's
 * Responses API path). Without them an LLM step has no text: tool calls cannot be followed (C3),
 * text passed on between agents is not found (C8), duplicates are not seen.
 *
 * How they reach the mappers: `contentSpansFromLogs` turns each such record into a *content
 * span* — a child of the span the record names (its span id), marked by its instrumentation scope
 * `CONTENT_EVENT_SCOPE`. The assembler joins content spans to the episode holding their trace
 * (never opening one: they wait for the trace's spans, holding the Kafka offset watermark;
 * deduplicated by id; after the credit only counted, src/episodes) and `mergeContentSpans` (called by `SpanTree`) folds
 * them back into their span as `gen_ai.input.messages` / `gen_ai.output.messages` in the order
 * they were emitted, when the span does not carry that attribute itself. They never become steps.
 */
import type { AttributeValue, Attributes, LogRecord, Span } from '../model/telemetry.js';
import { eventNameOf, isRecord } from './attributes.js';
import { sha256Hex } from './text.js';

/** Instrumentation scope name that marks a content span (never a real instrumentation's). */
export const CONTENT_EVENT_SCOPE = 'agent-credit.genai-content-event';
const CONTENT_SCOPE = Object.freeze({ name: CONTENT_EVENT_SCOPE, attributes: {} });

/** Content span attribute: `input` or `output`. */
const DIRECTION = 'agent_credit.content.direction';
/** Content span attribute: the messages, in the OpenAI chat or GenAI parts shape `readMessages` reads. */
const MESSAGES = 'agent_credit.content.messages';
/**
 * Content span attribute: arrival order (the caller's running count). The events of one call
 * often share a timestamp (the JS instrumentation takes one `Date.now()` for all prompt events),
 * and the collector's kafka exporter writes one record per log record: ties are broken by it.
 */
const ORDER = 'agent_credit.content.order';

const INPUT_EVENTS: ReadonlyMap<string, string> = new Map([
  ['gen_ai.system.message', 'system'],
  ['gen_ai.user.message', 'user'],
  ['gen_ai.assistant.message', 'assistant'],
  ['gen_ai.tool.message', 'tool'],
]);
const CHOICE_EVENT = 'gen_ai.choice';
const DETAILS_EVENT = 'gen_ai.client.inference.operation.details';

/** Whether the log record is a GenAI content event this module reads (by event name). */
export function isContentEvent(log: LogRecord): boolean {
  const name = eventNameOf(log);
  return name !== undefined && (INPUT_EVENTS.has(name) || name === CHOICE_EVENT || name === DETAILS_EVENT);
}


function asRecord(v: AttributeValue | undefined): { [key: string]: AttributeValue } | undefined {
  return isRecord(v) ? v : undefined;
}

/** A message event's body → one chat message (`readMessages` shape), `role` from the event name. */
function inputMessage(role: string, body: AttributeValue | undefined): AttributeValue {
  const b = asRecord(body);
  if (b === undefined) return typeof body === 'string' ? { role, content: body } : { role };
  const m: { [key: string]: AttributeValue } = { role };
  if (b['content'] !== undefined) m['content'] = b['content'];
  if (Array.isArray(b['tool_calls'])) m['tool_calls'] = b['tool_calls'];
  // the tool message names the call it answers as `id` (event body), chat format as `tool_call_id`
  const callId = b['tool_call_id'] ?? (role === 'tool' ? b['id'] : undefined);
  if (typeof callId === 'string') m['tool_call_id'] = callId;
  return m;
}

/**
 * Whether a message from an event body carries anything a mapper reads: text, tool calls or the
 * id of the call it answers. With message capture off (the instrumentations' default) they still
 * log every message — `{}`, `{id}`, tool calls without arguments — and each call logs the whole
 * history again: the empty ones would only be held.
 */
function carriesSomething(m: AttributeValue): boolean {
  const r = asRecord(m);
  if (r === undefined) return false;
  const c = r['content'];
  if ((c !== undefined && c !== null && c !== '') || (Array.isArray(r['tool_calls']) && r['tool_calls'].length > 0) || typeof r['tool_call_id'] === 'string') return true;
  // GenAI parts (operation.details): with capture off the Responses path logs `{type: 'text'}` parts
  const parts = r['parts'];
  return Array.isArray(parts) && parts.some((p) => {
    const part = asRecord(p);
    if (part === undefined) return false;
    const t = part['type'];
    if (t === 'tool_call' || t === 'tool_call_response') return typeof part['id'] === 'string' || typeof part['name'] === 'string';
    const pc = part['content'] ?? part['result'] ?? part['response'];
    return pc !== undefined && pc !== null && pc !== '';
  });
}

/** Whether a content span's messages hold any text (not only tool-call names and ids): `agent-credit check`. */
export function contentSpanHasText(span: Span): boolean {
  const messages = span.attributes[MESSAGES];
  if (!Array.isArray(messages)) return false;
  return messages.some((m) => {
    const r = asRecord(m);
    if (r === undefined) return false;
    const c = r['content'];
    if (typeof c === 'string' ? c !== '' : c !== undefined && c !== null) return true;
    const parts = r['parts'];
    return Array.isArray(parts) && parts.some((p) => {
      const part = asRecord(p);
      const pc = part?.['content'] ?? part?.['result'] ?? part?.['response'] ?? part?.['arguments'];
      return pc !== undefined && pc !== null && pc !== '';
    });
  });
}

/** A `gen_ai.choice` body → the output message, or undefined when it holds none. */
function choiceMessage(body: AttributeValue | undefined): AttributeValue | undefined {
  const b = asRecord(body);
  if (b === undefined) return typeof body === 'string' ? { role: 'assistant', content: body } : undefined;
  const msg = asRecord(b['message']);
  if (msg === undefined) return undefined;
  const role = msg['role'];
  const m: { [key: string]: AttributeValue } = { role: typeof role === 'string' ? role : 'assistant' };
  if (msg['content'] !== undefined) m['content'] = msg['content'];
  if (Array.isArray(msg['tool_calls'])) m['tool_calls'] = msg['tool_calls'];
  if (b['finish_reason'] !== undefined) m['finish_reason'] = b['finish_reason'];
  return m;
}

/** A messages attribute as a list: structured, or a JSON string (both are allowed by the semconv). */
function messageList(v: AttributeValue | undefined): AttributeValue[] {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') {
    const r = asRecord(v);
    return r !== undefined ? [r] : [];
  }
  try {
    const parsed = JSON.parse(v) as unknown;
    return Array.isArray(parsed) ? (parsed as AttributeValue[]) : [];
  } catch {
    return [];
  }
}

interface Content {
  readonly direction: 'input' | 'output';
  readonly messages: AttributeValue[];
}

/** What a content event (`name`: its event name) contributes; [] for other records. */
function contentsOf(log: LogRecord, name: string | undefined): Content[] {
  if (name === undefined) return [];
  const role = INPUT_EVENTS.get(name);
  if (role !== undefined) {
    const m = inputMessage(role, log.body);
    return carriesSomething(m) ? [{ direction: 'input', messages: [m] }] : [];
  }
  if (name === CHOICE_EVENT) {
    const m = choiceMessage(log.body);
    return m !== undefined && carriesSomething(m) ? [{ direction: 'output', messages: [m] }] : [];
  }
  if (name !== DETAILS_EVENT) return [];
  const out: Content[] = [];
  const system = log.attributes['gen_ai.system_instructions'];
  const systemParts = typeof system === 'string' ? messageList(system) : Array.isArray(system) ? system : [];
  const input = messageList(log.attributes['gen_ai.input.messages']).filter(carriesSomething); // a copy: the record is not ours to change
  const instructions: AttributeValue = { role: 'system', parts: systemParts };
  if (systemParts.length > 0 && carriesSomething(instructions)) input.unshift(instructions);
  if (input.length > 0) out.push({ direction: 'input', messages: input });
  const output = messageList(log.attributes['gen_ai.output.messages']).filter(carriesSomething);
  if (output.length > 0) out.push({ direction: 'output', messages: output });
  return out;
}

/** JSON for the content span id: stable for one record (re-read after a restart → same id → deduplicated). */
function idText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
}

export interface ContentSpanOptions {
  /**
   * Arrival order of `logs[0]`: callers keep a running count across requests and records. It
   * orders events with equal timestamps. Default 0.
   */
  readonly firstOrder?: number;
  /**
   * Where `logs` came from, stable when the same input is read again (a Kafka record's
   * `topic/partition/offset`; none for an OTLP/HTTP request, whose retry holds the same records):
   * part of each content span's id, so that two equal records from different places (one log
   * record per Kafka record, as the collector's exporter writes them) are two messages.
   */
  readonly source?: string;
}

/**
 * Content spans for the GenAI content events among `logs` (see the module comment); records that
 * name no span (no span context), records whose trace flags say their span was not sampled (not
 * exported), and other records, give none. The span id depends on the
 * record, its index in `logs` and `options.source` only, so a record read twice (an exporter's
 * retry, a Kafka record read again) is a duplicate and is ignored.
 */
export function contentSpansFromLogs(logs: readonly LogRecord[], options: ContentSpanOptions = {}): Span[] {
  const firstOrder = options.firstOrder ?? 0;
  const out: Span[] = [];
  for (let seq = 0; seq < logs.length; seq++) {
    const log = logs[seq]!;
    if (log.traceId === undefined || log.spanId === undefined) continue;
    // Trace flags without the sampled bit: the span this record names is not exported (head
    // sampling drops spans, not logs), so its content would only wait for spans that never come
    // — with 1% sampling, 99 traces' worth per credited run, filling the assembler's pending
    // store and holding the Kafka watermark until they expire.
    if (log.flags !== undefined && (log.flags & 1) === 0) continue;
    const name = eventNameOf(log);
    const contents = contentsOf(log, name);
    if (contents.length === 0) continue;
    const time = log.timeUnixNano !== 0n ? log.timeUnixNano : log.observedTimeUnixNano;
    for (const c of contents) {
      const id = sha256Hex(idText([options.source ?? '', seq, log.traceId, log.spanId, time, name, c.direction, c.messages])).slice(0, 16);
      out.push({
        traceId: log.traceId,
        spanId: id,
        parentSpanId: log.spanId,
        name: name!,
        kind: 1,
        startTimeUnixNano: time,
        endTimeUnixNano: time,
        attributes: { [DIRECTION]: c.direction, [MESSAGES]: c.messages, [ORDER]: firstOrder + seq },
        events: [],
        links: [],
        status: { code: 0 },
        resource: log.resource,
        scope: CONTENT_SCOPE,
      });
    }
  }
  return out;
}

/** Whether the span is a content span (`contentSpansFromLogs`), not telemetry of the run itself. */
export function isContentSpan(span: Span): boolean {
  return span.scope.name === CONTENT_EVENT_SCOPE;
}

export interface MergedContent {
  /** The spans without content spans, each span that content spans name carrying their messages. */
  readonly spans: readonly Span[];
  /** Content spans folded into their span. */
  readonly merged: number;
  /** Content spans whose span is not among `spans` (not arrived, or another episode's): ignored. */
  readonly orphans: number;
}

function byEmission(a: Span, b: Span): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return (a.attributes[ORDER] as number) - (b.attributes[ORDER] as number) || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
}

/**
 * Folds content spans into the spans they name (module comment). A span's own
 * `gen_ai.input.messages` / `gen_ai.output.messages` wins over events. Returns `spans` itself when
 * it holds no content span (the common case costs one scan).
 */
export function mergeContentSpans(spans: readonly Span[]): MergedContent {
  let any = false;
  for (const s of spans) {
    if (s.scope.name === CONTENT_EVENT_SCOPE) {
      any = true;
      break;
    }
  }
  if (!any) return { spans, merged: 0, orphans: 0 };
  const ids = new Set<string>();
  const byTarget = new Map<string, Span[]>();
  const rest: Span[] = [];
  for (const s of spans) {
    if (s.scope.name !== CONTENT_EVENT_SCOPE) {
      rest.push(s);
      ids.add(s.spanId);
      continue;
    }
    if (ids.has(s.spanId)) continue; // duplicate content span (first kept, as for spans)
    ids.add(s.spanId);
    const target = s.parentSpanId!;
    const list = byTarget.get(target);
    if (list === undefined) byTarget.set(target, [s]);
    else list.push(s);
  }
  let merged = 0;
  const out = rest.map((span) => {
    const contents = byTarget.get(span.spanId);
    if (contents === undefined) return span;
    byTarget.delete(span.spanId);
    merged += contents.length;
    contents.sort(byEmission);
    const attributes: Attributes = { ...span.attributes };
    for (const [direction, key] of [['input', 'gen_ai.input.messages'], ['output', 'gen_ai.output.messages']] as const) {
      if (span.attributes[key] !== undefined) continue;
      const messages = contents.filter((c) => c.attributes[DIRECTION] === direction).flatMap((c) => c.attributes[MESSAGES] as AttributeValue[]);
      if (messages.length > 0) attributes[key] = messages;
    }
    return { ...span, attributes };
  });
  let orphans = 0;
  for (const list of byTarget.values()) orphans += list.length;
  return { spans: out, merged, orphans };
}
