/**
 * Which span a `gen_ai.response.id` names. Evaluations that carry only a response id are joined to
 * "the LLM span that recorded it" (src/episodes assembler) and, when that response is the run's
 * last, may score the run (evaluations.ts `evaluatesFinalResponse`).
 *
 * Not every span recording a response id generated it: the GenAI `fetch_response` operation
 * (open-telemetry/semantic-conventions-genai `gen_ai.fetch_response.client`, #353; emitted by
 * opentelemetry-util-genai `FetchResponseInvocation`, e.g. polling an OpenAI background response)
 * REQUIRES `gen_ai.response.id` = the id of the earlier response it re-reads, performs no inference
 * and is no step of ours (kind `other`). Read as the response's span, a later fetch took the join
 * away from the LLM step that produced the answer (the verdict flagged nothing) and, ending last,
 * made the run's real final response look like an earlier one (its verdict flagged the last step
 * instead of scoring the run).
 */
import type { Span } from '../model/telemetry.js';
import { boundedId } from './text.js';

export const RESPONSE_ID_ATTRIBUTE = 'gen_ai.response.id';

const FETCH_OPERATION = 'fetch_response';

/** The response id a span records, if any (a non-empty string; bounded: conventions/text.ts `boundedId`). */
export function responseIdOf(span: Pick<Span, 'attributes'>): string | undefined {
  const v = span.attributes[RESPONSE_ID_ATTRIBUTE];
  return typeof v === 'string' && v !== '' ? boundedId(v) : undefined;
}

/** Whether the span only re-reads a response generated elsewhere (`gen_ai.operation.name = fetch_response`). */
export function isResponseFetch(span: Pick<Span, 'attributes'>): boolean {
  return span.attributes['gen_ai.operation.name'] === FETCH_OPERATION;
}
