/**
 * Conversation (session, thread) id of a span, for conversation-keyed episodes that span
 * several traces. Attribute names, first match wins:
 * - `gen_ai.conversation.id` (OTel GenAI registry, semconv ≥ v1.34);
 * - `session.id` (OpenInference reserved attribute; also the OTel `session.*` registry);
 * - `traceloop.association.properties.{session_id,conversation_id,thread_id}` (OpenLLMetry
 *   association properties, set by `Traceloop.set_association_properties`).
 */
import type { Attributes, Span } from '../model/telemetry.js';
import { firstStr } from './attributes.js';
import { boundedId } from './text.js';

export const CONVERSATION_ID_ATTRIBUTES = [
  'gen_ai.conversation.id',
  'session.id',
  'traceloop.association.properties.session_id',
  'traceloop.association.properties.conversation_id',
  'traceloop.association.properties.thread_id',
] as const;

/** The conversation id the attributes name (bounded: conventions/text.ts `boundedId`). */
export function conversationIdOfAttributes(attrs: Attributes): string | undefined {
  return boundedId(firstStr(attrs, CONVERSATION_ID_ATTRIBUTES));
}

/** The span's conversation id, or undefined when it records none. */
export function conversationIdOf(span: Pick<Span, 'attributes'>): string | undefined {
  return conversationIdOfAttributes(span.attributes);
}

/** First conversation id among the spans (in the given order), or undefined. */
export function conversationIdOfSpans(spans: readonly Pick<Span, 'attributes'>[]): string | undefined {
  for (const s of spans) {
    const id = conversationIdOf(s);
    if (id !== undefined) return id;
  }
  return undefined;
}
