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
 *
 * Some sources write the same events on the span itself (`span.addEvent`: Strands Agents, Semantic
 * Kernel .NET, Azure AI SDKs; `SPAN_CONTENT_EVENTS` below): `mergeContentSpans` folds those into
 * their span as well, with the same body readers.
 */
import type { AttributeValue, Attributes, LogRecord, Span, SpanEvent } from '../model/telemetry.js';
import { eventNameOf, isRecord, parsedJsonText, str } from './attributes.js';
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
  const parsed = parsedJsonText(v);
  return Array.isArray(parsed) ? (parsed as AttributeValue[]) : [];
}

interface Content {
  readonly direction: 'input' | 'output';
  readonly messages: AttributeValue[];
}

/**
 * What a content event (`name`: its event name; `body`: its body, `attributes`: its attributes)
 * contributes; [] for other events.
 */
function contentsOf(name: string | undefined, body: AttributeValue | undefined, attributes: Attributes): Content[] {
  if (name === undefined) return [];
  const role = INPUT_EVENTS.get(name);
  if (role !== undefined) {
    const m = inputMessage(role, body);
    return carriesSomething(m) ? [{ direction: 'input', messages: [m] }] : [];
  }
  if (name === CHOICE_EVENT) {
    const m = choiceMessage(body);
    return m !== undefined && carriesSomething(m) ? [{ direction: 'output', messages: [m] }] : [];
  }
  if (name !== DETAILS_EVENT) return [];
  const out: Content[] = [];
  const system = attributes['gen_ai.system_instructions'];
  const systemParts = typeof system === 'string' ? messageList(system) : Array.isArray(system) ? system : [];
  const input = messageList(attributes['gen_ai.input.messages']).filter(carriesSomething); // a copy: the record is not ours to change
  const instructions: AttributeValue = { role: 'system', parts: systemParts };
  if (systemParts.length > 0 && carriesSomething(instructions)) input.unshift(instructions);
  if (input.length > 0) out.push({ direction: 'input', messages: input });
  const output = messageList(attributes['gen_ai.output.messages']).filter(carriesSomething);
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
    const contents = contentsOf(name, log.body, log.attributes);
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

// ---------------------------------------------------------------------------------------------
// The same events on the span itself
// ---------------------------------------------------------------------------------------------

/**
 * Span event names read as message contents of the span that carries them: the GenAI event names
 * above, written with `span.addEvent` instead of the logs API by
 * - AWS Strands Agents (strands-agents/sdk-python `telemetry/tracer.py`, checked v1.9–v1.40): by
 *   default `gen_ai.system.message` / `gen_ai.user.message` / `gen_ai.assistant.message` /
 *   `gen_ai.tool.message` with attribute `content` (the message's Bedrock content blocks as JSON,
 *   `[{"text"}, {"toolUse": {toolUseId, name, input}}, {"toolResult": {toolUseId, status, content}}]`)
 *   and `gen_ai.choice` with `message` (the blocks as JSON; on an `invoke_agent` span the answer as
 *   plain text) and `finish_reason`; on an `execute_tool` span `gen_ai.tool.message` holds the call
 *   (`content` its input as JSON, `id` the tool use id) and `gen_ai.choice` its result (`message`, `id`).
 *   With `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` (v1.11+), one
 *   `gen_ai.client.inference.operation.details` event per direction instead (JSON-string
 *   `gen_ai.input.messages` / `gen_ai.output.messages` / `gen_ai.system_instructions` in GenAI parts).
 * - Microsoft Semantic Kernel .NET (`InternalUtilities/src/Diagnostics/ModelDiagnostics.cs`, checked
 *   dotnet-1.80.0) and the Azure AI SDKs (azure-ai-inference, azure-ai-agents): the message or choice
 *   body as JSON in one attribute, `gen_ai.event.content` (`{role, content, tool_calls}`,
 *   `{index, message, finish_reason}`).
 * - GenAI semantic conventions v1.26.0–v1.27.0 (`model/trace/gen-ai.yaml`; replaced by the log events
 *   in v1.28.0): `gen_ai.content.prompt` with `gen_ai.prompt` and `gen_ai.content.completion` with
 *   `gen_ai.completion`, the whole prompt / completion in one string, RECOMMENDED as JSON in the OpenAI
 *   messages format (written so by e.g. Semantic Kernel before it moved to the per-message events).
 */
const PROMPT_EVENT = 'gen_ai.content.prompt';
const COMPLETION_EVENT = 'gen_ai.content.completion';
const SPAN_CONTENT_EVENTS: ReadonlySet<string> = new Set([...INPUT_EVENTS.keys(), CHOICE_EVENT, DETAILS_EVENT, PROMPT_EVENT, COMPLETION_EVENT]);

/**
 * A v1.26–v1.27 `gen_ai.prompt` / `gen_ai.completion` value → messages: the JSON list (or one message
 * object) as recorded, else — the spec's own example is a Python-style `[{'role': 'user', ...}]`, not
 * JSON — the whole text as one message of `role`.
 */
function wholeTextMessages(v: AttributeValue | undefined, role: string): AttributeValue[] {
  if (v === undefined || v === null) return [];
  const parsed = parsedJsonText(v);
  const list = Array.isArray(parsed) ? (parsed as AttributeValue[]) : isRecord(parsed) ? [parsed as AttributeValue] : typeof v === 'string' ? [{ role, content: v }] : [];
  return list.filter(carriesSomething);
}

/** Whether the span carries message contents as span events (`SPAN_CONTENT_EVENTS`). */
function hasContentSpanEvents(span: Span): boolean {
  const events = span.events;
  if (events.length === 0) return false;
  for (const e of events) if (SPAN_CONTENT_EVENTS.has(e.name)) return true;
  return false;
}


/**
 * Bedrock Converse content blocks (Strands `types/content.py` `ContentBlock`, recorded as JSON)
 * → GenAI parts, as Strands itself maps them when it writes the latest conventions
 * (`Tracer._map_content_blocks_to_otel_parts`): so a run recorded either way reads the same.
 * Undefined when `v` is not a list of such blocks (a plain text, a tool's own JSON).
 */
function strandsParts(v: AttributeValue | undefined): AttributeValue[] | undefined {
  const blocks = parsedJsonText(v);
  if (!Array.isArray(blocks) || blocks.length === 0) return undefined;
  const parts: AttributeValue[] = [];
  let known = false;
  for (const b of blocks) {
    if (!isRecord(b)) return undefined;
    const toolUse = asRecord(b['toolUse'] as AttributeValue);
    const toolResult = asRecord(b['toolResult'] as AttributeValue);
    if (typeof b['text'] === 'string') {
      known = true;
      parts.push({ type: 'text', content: b['text'] });
    } else if (toolUse !== undefined) {
      known = true;
      parts.push({ type: 'tool_call', name: toolUse['name'] ?? null, id: toolUse['toolUseId'] ?? null, arguments: toolUse['input'] ?? null });
    } else if (toolResult !== undefined) {
      known = true;
      parts.push({ type: 'tool_call_response', id: toolResult['toolUseId'] ?? null, response: toolResult['content'] ?? null });
    } else {
      for (const [key, value] of Object.entries(b)) parts.push({ type: key, content: value as AttributeValue });
    }
  }
  return known ? parts : undefined;
}

/**
 * A message span event's body: the JSON of `gen_ai.event.content` (Semantic Kernel .NET, Azure AI
 * SDKs), else the event's attributes themselves (Strands: `content`, `message`, `id`, `finish_reason`).
 */
function spanEventBody(attributes: Attributes): AttributeValue | undefined {
  const carried = attributes['gen_ai.event.content'];
  if (carried === undefined) return attributes;
  const parsed = parsedJsonText(carried);
  return parsed !== undefined ? (parsed as AttributeValue) : carried;
}

/** What one span event of a model call, agent or cycle span contributes (`contentsOf` plus Strands' content blocks). */
function spanEventContents(e: SpanEvent): Content[] {
  const name = e.name;
  if (name === DETAILS_EVENT) return contentsOf(name, undefined, e.attributes);
  if (name === PROMPT_EVENT || name === COMPLETION_EVENT) {
    const input = name === PROMPT_EVENT;
    const messages = wholeTextMessages(e.attributes[input ? 'gen_ai.prompt' : 'gen_ai.completion'], input ? 'user' : 'assistant');
    return messages.length > 0 ? [{ direction: input ? 'input' : 'output', messages }] : [];
  }
  const body = spanEventBody(e.attributes);
  const b = asRecord(body);
  const role = INPUT_EVENTS.get(name);
  if (role !== undefined) {
    const parts = strandsParts(b?.['content']);
    if (parts !== undefined) {
      const m: AttributeValue = { role, parts };
      return carriesSomething(m) ? [{ direction: 'input', messages: [m] }] : [];
    }
    return contentsOf(name, body, e.attributes);
  }
  // gen_ai.choice: a message object (event bodies), Strands' blocks as JSON, or a plain answer
  const message = b?.['message'];
  if (typeof message !== 'string') return contentsOf(name, body, e.attributes);
  const parts = strandsParts(message);
  const m: { [key: string]: AttributeValue } = parts !== undefined ? { role: 'assistant', parts } : { role: 'assistant', content: message };
  if (b?.['finish_reason'] !== undefined) m['finish_reason'] = b['finish_reason'];
  return carriesSomething(m) ? [{ direction: 'output', messages: [m] }] : [];
}

/** The first GenAI part of `type` among the messages (`tool_call` / `tool_call_response`). */
function firstPart(messages: readonly AttributeValue[], type: string): { [key: string]: AttributeValue } | undefined {
  for (const m of messages) {
    const parts = asRecord(m)?.['parts'];
    if (!Array.isArray(parts)) continue;
    for (const p of parts) {
      const part = asRecord(p);
      if (part?.['type'] === type) return part;
    }
  }
  return undefined;
}

/**
 * A tool span's call from its span events → `gen_ai.tool.call.arguments` / `gen_ai.tool.call.result`
 * (what the GenAI mapper reads of a tool): Strands' `gen_ai.tool.message` `content` / `gen_ai.choice`
 * `message` as recorded, or the `tool_call` part's `arguments` / the `tool_call_response` part's
 * `response` of its operation.details events.
 */
function toolCallFromSpanEvents(events: readonly SpanEvent[]): { arguments?: AttributeValue; result?: AttributeValue } {
  const out: { arguments?: AttributeValue; result?: AttributeValue } = {};
  for (const e of events) {
    if (e.name === DETAILS_EVENT) {
      const call = firstPart(messageList(e.attributes['gen_ai.input.messages']), 'tool_call');
      if (out.arguments === undefined && call?.['arguments'] !== undefined && call['arguments'] !== null) out.arguments = call['arguments'];
      const response = firstPart(messageList(e.attributes['gen_ai.output.messages']), 'tool_call_response');
      if (out.result === undefined && response?.['response'] !== undefined && response['response'] !== null) out.result = response['response'];
      continue;
    }
    const b = asRecord(spanEventBody(e.attributes));
    if (b === undefined) continue;
    if (INPUT_EVENTS.has(e.name) && out.arguments === undefined && b['content'] !== undefined && b['content'] !== null) out.arguments = b['content'];
    if (e.name === CHOICE_EVENT && out.result === undefined) {
      const m = b['message'];
      if (typeof m === 'string') out.result = m;
      else if (isRecord(m) && m['content'] !== undefined && m['content'] !== null) out.result = m['content'];
    }
  }
  return out;
}

/** Span events in emission order: by time, then as recorded. */
function eventsInOrder(events: readonly SpanEvent[]): SpanEvent[] {
  const list = events.filter((e) => SPAN_CONTENT_EVENTS.has(e.name));
  return list.map((e, i) => [e, i] as const).sort(([a, i], [b, j]) => (a.timeUnixNano !== b.timeUnixNano ? (a.timeUnixNano < b.timeUnixNano ? -1 : 1) : i - j)).map(([e]) => e);
}

/**
 * What a span's own content events add to its attributes: `gen_ai.input.messages` /
 * `gen_ai.output.messages`, and for an `execute_tool` span its call's arguments and result, each
 * only where the span lacks that attribute. Undefined when they add nothing.
 */
function spanEventAttributes(span: Span): Attributes | undefined {
  const events = eventsInOrder(span.events);
  const added: { [key: string]: AttributeValue } = {};
  const a = span.attributes;
  if (str(a, 'gen_ai.operation.name') === 'execute_tool') {
    const call = toolCallFromSpanEvents(events);
    if (call.arguments !== undefined && a['gen_ai.tool.call.arguments'] === undefined) added['gen_ai.tool.call.arguments'] = call.arguments;
    if (call.result !== undefined && a['gen_ai.tool.call.result'] === undefined) added['gen_ai.tool.call.result'] = call.result;
  } else {
    const input: AttributeValue[] = [];
    const output: AttributeValue[] = [];
    // a loop, not push(...): an event of millions of messages threw a RangeError out of the mapping
    for (const e of events) for (const c of spanEventContents(e)) for (const m of c.messages) (c.direction === 'input' ? input : output).push(m);
    if (input.length > 0 && a['gen_ai.input.messages'] === undefined) added['gen_ai.input.messages'] = input;
    if (output.length > 0 && a['gen_ai.output.messages'] === undefined) added['gen_ai.output.messages'] = output;
  }
  return Object.keys(added).length > 0 ? added : undefined;
}

function byEmission(a: Span, b: Span): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return (a.attributes[ORDER] as number) - (b.attributes[ORDER] as number) || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
}

/**
 * Folds content spans into the spans they name, and a span's own content span events into it
 * (module comment). Per direction, a span's own `gen_ai.input.messages` / `gen_ai.output.messages`
 * wins over its span events, which win over log records. Returns `spans` itself when it holds no
 * content span and no span with content events (the common case costs one scan).
 */
export function mergeContentSpans(spans: readonly Span[]): MergedContent {
  let any = false;
  for (const s of spans) {
    if (s.scope.name === CONTENT_EVENT_SCOPE || hasContentSpanEvents(s)) {
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
    const own = hasContentSpanEvents(span) ? spanEventAttributes(span) : undefined;
    const contents = byTarget.get(span.spanId);
    if (contents === undefined && own === undefined) return span;
    const attributes: Attributes = own === undefined ? { ...span.attributes } : { ...span.attributes, ...own };
    if (contents !== undefined) {
      byTarget.delete(span.spanId);
      merged += contents.length;
      contents.sort(byEmission);
      for (const [direction, key] of [['input', 'gen_ai.input.messages'], ['output', 'gen_ai.output.messages']] as const) {
        if (attributes[key] !== undefined) continue;
        const messages = contents.filter((c) => c.attributes[DIRECTION] === direction).flatMap((c) => c.attributes[MESSAGES] as AttributeValue[]);
        if (messages.length > 0) attributes[key] = messages;
      }
    }
    return { ...span, attributes };
  });
  let orphans = 0;
  for (const list of byTarget.values()) orphans += list.length;
  return { spans: out, merged, orphans };
}
