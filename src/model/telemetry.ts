/**
 * Internal, immutable telemetry records decoded from OTLP.
 *
 * zod schemas are the single source of truth for these shapes; the decoders in `src/otlp`
 * build plain objects of exactly these types directly (no zod parse on the hot path) and the
 * schemas are used to validate at trust boundaries and in tests.
 *
 * Conventions chosen here (and relied on everywhere):
 * - ids are lowercase hex strings: trace id 32 chars, span id 16 chars; an absent/all-zero
 *   parent span id is `undefined`.
 * - timestamps are unix nanoseconds as `bigint` (OTLP fixed64), never lossy numbers.
 * - OTLP int64 attribute values become `number` when they are safe integers and a decimal
 *   `string` otherwise (JSON-safe, lossless); bytes become `Uint8Array`.
 * - attributes are a flat `Record<string, AttributeValue>` (OTLP keys are already dotted).
 */
import { z } from 'zod';

export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | AttributeValue[]
  | { [key: string]: AttributeValue };

const AttributeValueSchema: z.ZodType<AttributeValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.instanceof(Uint8Array),
    z.array(AttributeValueSchema),
    z.record(z.string(), AttributeValueSchema),
  ]),
);

export const AttributesSchema = z.record(z.string(), AttributeValueSchema);
export type Attributes = z.infer<typeof AttributesSchema>;

export const TraceIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'trace id: 32 lowercase hex chars');
export const SpanIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'span id: 16 lowercase hex chars');

export const ResourceSchema = z.object({
  attributes: AttributesSchema,
});
export type Resource = z.infer<typeof ResourceSchema>;

export const ScopeSchema = z.object({
  name: z.string(),
  version: z.string().optional(),
  attributes: AttributesSchema.optional(),
});
export type Scope = z.infer<typeof ScopeSchema>;

/** OTLP SpanKind numbers: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
const SpanKindSchema = z.number().int().min(0).max(5);

/** OTLP status: code 0 unset, 1 ok, 2 error. */
export const SpanStatusSchema = z.object({
  code: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  message: z.string().optional(),
});
export type SpanStatus = z.infer<typeof SpanStatusSchema>;

export const SpanEventSchema = z.object({
  timeUnixNano: z.bigint(),
  name: z.string(),
  attributes: AttributesSchema,
});
export type SpanEvent = z.infer<typeof SpanEventSchema>;

export const SpanLinkSchema = z.object({
  traceId: TraceIdSchema,
  spanId: SpanIdSchema,
  traceState: z.string().optional(),
  attributes: AttributesSchema,
});
export type SpanLink = z.infer<typeof SpanLinkSchema>;

export const SpanSchema = z.object({
  traceId: TraceIdSchema,
  spanId: SpanIdSchema,
  parentSpanId: SpanIdSchema.optional(),
  traceState: z.string().optional(),
  name: z.string(),
  kind: SpanKindSchema,
  startTimeUnixNano: z.bigint(),
  endTimeUnixNano: z.bigint(),
  attributes: AttributesSchema,
  events: z.array(SpanEventSchema),
  links: z.array(SpanLinkSchema),
  status: SpanStatusSchema,
  /** Shared by reference between all spans of one ResourceSpans block (decoded once). */
  resource: ResourceSchema,
  /** Shared by reference between all spans of one ScopeSpans block. */
  scope: ScopeSchema,
});
export type Span = Readonly<z.infer<typeof SpanSchema>>;

/**
 * Instrumentation scope of agent-credit's own spans (one per credited episode, self-tracing). They
 * are never part of an agent run: the assembler ignores them, so a fleet whose collector forwards
 * agent-credit's traces back into its input — or an app that registers the provider carrying the
 * in-process processor globally — does not credit agent-credit's own work, for ever.
 */
export const SELF_TRACER_NAME = 'agent-credit';

export const LogRecordSchema = z.object({
  timeUnixNano: z.bigint(),
  observedTimeUnixNano: z.bigint(),
  severityNumber: z.number().int(),
  severityText: z.string().optional(),
  body: AttributeValueSchema.optional(),
  attributes: AttributesSchema,
  /** OTLP LogRecord.event_name (field 12); GenAI events such as `gen_ai.evaluation.result`. */
  eventName: z.string().optional(),
  traceId: TraceIdSchema.optional(),
  spanId: SpanIdSchema.optional(),
  flags: z.number().int().optional(),
  resource: ResourceSchema,
  scope: ScopeSchema,
});
export type LogRecord = Readonly<z.infer<typeof LogRecordSchema>>;
