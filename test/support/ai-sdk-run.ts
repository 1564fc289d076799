/**
 * Records multi-agent runs the way a TypeScript app built on the Vercel AI SDK (npm `ai` 6.x)
 * traces itself: the REAL `generateText` / `streamText` with `experimental_telemetry: { isEnabled:
 * true, functionId, metadata }`, the REAL OpenTelemetry JS SDK (`BasicTracerProvider`,
 * `AsyncLocalStorageContextManager`) recording what the SDK emits, and the SDK's own
 * `MockLanguageModelV3` (`ai/test`) answering in place of a provider, scripted per agent. No
 * instrumentation package: the spans are the AI SDK's own (`ai.generateText`,
 * `ai.generateText.doGenerate`, `ai.streamText`, `ai.streamText.doStream`, `ai.toolCall`).
 *
 * The app (a travel desk): a `router` agent (generateText, functionId `router`) whose tools run
 * sub-agents — `ask_researcher` runs the `researcher` agent (generateText, functionId
 * `researcher`, its own `web_search` tool), `ask_writer` runs the `writer` agent (streamText,
 * functionId `writer`) on the findings — then the router answers with the writer's text. The
 * sub-agents run inside the router's tool executions, so their spans are children of the
 * router's `ai.toolCall` spans (AI SDK multi-agent pattern "agents as tools").
 * `failingSearch`: `web_search` throws; the SDK records the error on its `ai.toolCall` span and
 * hands the model a tool error, the researcher reports that it found nothing, and the run fails.
 * A separate evaluator emits the `gen_ai.evaluation.result` log record on the root span.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { context, ROOT_CONTEXT, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateText, simulateReadableStream, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { PASS_THRESHOLD } from '../../src/scenarios/record.js';
import { appResource, recordEvaluation } from './openai-instrumented-run.js';

export const USER_REQUEST = 'Plan a 3-day trip to Lisbon in May for two people who love food and history.';
export const RESEARCH_QUESTION = 'What are the best food and history sights in Lisbon in May?';
export const WEB_SEARCH_ARGS = { q: 'Lisbon May food history sights' } as const;
export const WEB_SEARCH_RESULT = 'Top results: Belem Tower and Jeronimos Monastery (history), Time Out Market and pasteis de nata in Belem (food), Alfama walking tours; May is mild (22 C), festivals start in June.';
export const FINDINGS =
  'Findings: Lisbon in May is mild. History: Belem Tower, Jeronimos Monastery, Alfama. Food: Time Out Market, pasteis de nata at Belem.';
export const FINDINGS_WITHOUT_SEARCH = 'I could not search the web, so I have no verified findings about Lisbon in May.';
export const ITINERARY =
  'Day 1: Belem Tower, Jeronimos Monastery and pasteis de nata. Day 2: Alfama walking tour and fado dinner. Day 3: Time Out Market and a sunset at Miradouro da Senhora do Monte.';
export const SEARCH_ERROR = 'search backend unavailable (HTTP 503)';

export const CALL_ASK_RESEARCHER = 'call_ask_researcher_1';
export const CALL_WEB_SEARCH = 'call_web_search_1';
export const CALL_ASK_WRITER = 'call_ask_writer_1';

export interface AiSdkRunOptions {
  /** `web_search` throws (the error path); default false. */
  readonly failingSearch?: boolean;
  /** The evaluator's score; default 1 (0 when `failingSearch`). */
  readonly score?: number;
  /** `experimental_telemetry.recordInputs` / `recordOutputs`; default true (the SDK's default). */
  readonly recordInputs?: boolean;
  readonly recordOutputs?: boolean;
  /** Leave `functionId` unset (the agents are then unnamed); default false. */
  readonly noFunctionId?: boolean;
}

export interface AiSdkRun {
  readonly traceId: string;
  /** The router's `ai.generateText` span (the run's root). */
  readonly rootSpanId: string;
  /** In end order, as the SDK delivered them. */
  readonly spans: ReadableSpan[];
  /** The evaluator's verdict. */
  readonly logRecords: ReadableLogRecord[];
  /** Agent (functionId) → its outer `ai.generateText` / `ai.streamText` span id. */
  readonly agentSpanIds: Readonly<Record<string, string>>;
  /** Provider call spans (`…doGenerate` / `…doStream`) in start order, with their agent. */
  readonly llmSpans: readonly { spanId: string; agent: string }[];
  /** `ai.toolCall` spans in start order. */
  readonly toolSpans: readonly { spanId: string; name: string; callId: string }[];
  readonly finalText: string;
  readonly score: number;
  readonly label: 'pass' | 'fail';
}

const USAGE = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

let responseCounter = 0;
const responseMeta = (modelId: string) => ({ id: `resp_${++responseCounter}`, modelId, timestamp: new Date(Date.UTC(2026, 4, 1, 12, 0, 0)) });

/** One scripted `doGenerate` answer: text or tool calls. */
type Reply = { text: string } | { calls: { id: string; name: string; input: unknown }[] };

function generateReply(modelId: string, reply: Reply) {
  const content =
    'text' in reply
      ? [{ type: 'text' as const, text: reply.text }]
      : reply.calls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) }));
  return {
    content,
    finishReason: { unified: 'text' in reply ? ('stop' as const) : ('tool-calls' as const), raw: 'text' in reply ? 'stop' : 'tool_calls' },
    usage: USAGE(40 + 10 * content.length, 12),
    response: responseMeta(modelId),
    warnings: [],
  };
}

/** A mock model answering its scripted replies in order (one per provider call). */
function scriptedModel(modelId: string, replies: readonly Reply[]): LanguageModel {
  let i = 0;
  return new MockLanguageModelV3({
    provider: 'mock-provider',
    modelId,
    doGenerate: async () => {
      await sleep(2);
      const reply = replies[i++];
      if (reply === undefined) throw new Error(`${modelId}: no scripted reply left`);
      return generateReply(modelId, reply);
    },
  });
}

/** A mock model streaming one text answer. */
function streamingModel(modelId: string, text: string): LanguageModel {
  return new MockLanguageModelV3({
    provider: 'mock-provider',
    modelId,
    doStream: async () => {
      const meta = responseMeta(modelId);
      const words = text.split(/(?<= )/);
      return {
        stream: simulateReadableStream({
          initialDelayInMs: 2,
          chunkDelayInMs: 0,
          chunks: [
            { type: 'stream-start' as const, warnings: [] },
            { type: 'response-metadata' as const, ...meta },
            { type: 'text-start' as const, id: 't1' },
            ...words.map((delta) => ({ type: 'text-delta' as const, id: 't1', delta })),
            { type: 'text-end' as const, id: 't1' },
            { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage: USAGE(80, 40) },
          ],
        }),
      };
    },
  });
}

/**
 * APP_GAP: the OTel JS SDK records a span's start at `Date.now()` (whole milliseconds) and its end
 * as start + a sub-millisecond duration, so of two spans less than 1 ms apart the later may be
 * recorded as starting before the earlier ended. Rules that compare times (C4, C7, C8) then see
 * them as overlapping. The SDK starts a tool right after the model call that asked for it (no gap
 * an app can add); where the app's own code runs (a tool handing a sub-agent's answer back) it
 * takes 2 ms, as real code would, so the recorded order is the real one.
 */
/** Records one run of the travel-desk app. */
export async function recordAiSdkRun(opts: AiSdkRunOptions = {}): Promise<AiSdkRun> {
  const failing = opts.failingSearch ?? false;
  const spans: ReadableSpan[] = [];
  const started: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart: (span) => void started.push(span as unknown as ReadableSpan),
    onEnd: (span) => void spans.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const tracerProvider = new BasicTracerProvider({ resource: appResource({ serviceName: 'travel-desk' }), spanProcessors: [collect] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContextManager = context.setGlobalContextManager(contextManager);
  if (!ownsContextManager) contextManager.disable();
  const tracer: Tracer = tracerProvider.getTracer('travel-desk-app', '1.0.0');
  const telemetry = (functionId: string) => ({
    isEnabled: true,
    ...(opts.noFunctionId ? {} : { functionId }),
    metadata: { app: 'travel-desk', agentRole: functionId },
    ...(opts.recordInputs !== undefined ? { recordInputs: opts.recordInputs } : {}),
    ...(opts.recordOutputs !== undefined ? { recordOutputs: opts.recordOutputs } : {}),
    tracer,
  });

  const researcherModel = scriptedModel('mock-researcher', [
    { calls: [{ id: CALL_WEB_SEARCH, name: 'web_search', input: WEB_SEARCH_ARGS }] },
    { text: failing ? FINDINGS_WITHOUT_SEARCH : FINDINGS },
  ]);
  const routerModel = scriptedModel('mock-router', [
    { calls: [{ id: CALL_ASK_RESEARCHER, name: 'ask_researcher', input: { question: RESEARCH_QUESTION } }] },
    { calls: [{ id: CALL_ASK_WRITER, name: 'ask_writer', input: { brief: failing ? FINDINGS_WITHOUT_SEARCH : FINDINGS } }] },
    { text: ITINERARY },
  ]);
  const writerModel = streamingModel('mock-writer', ITINERARY);

  const webSearch = tool({
    description: 'Search the web',
    inputSchema: z.object({ q: z.string() }),
    execute: async () => {
      await sleep(2);
      if (failing) throw new Error(SEARCH_ERROR);
      return WEB_SEARCH_RESULT;
    },
  });
  const askResearcher = tool({
    description: 'Ask the research agent a question',
    inputSchema: z.object({ question: z.string() }),
    execute: async ({ question }) => {
      const r = await generateText({
        model: researcherModel,
        system: 'You research travel destinations. Use web_search.',
        prompt: question,
        tools: { web_search: webSearch },
        stopWhen: stepCountIs(4),
        experimental_telemetry: telemetry('researcher'),
      });
      await sleep(2); // the app's own work on the answer (see APP_GAP)
      return r.text;
    },
  });
  const askWriter = tool({
    description: 'Ask the writer agent to write the itinerary',
    inputSchema: z.object({ brief: z.string() }),
    execute: async ({ brief }) => {
      const r = streamText({
        model: writerModel,
        system: 'You write day-by-day itineraries.',
        prompt: `Write a 3-day itinerary from these findings:\n${brief}`,
        experimental_telemetry: telemetry('writer'),
      });
      const text = await r.text;
      await sleep(2); // see APP_GAP
      return text;
    },
  });

  try {
    const result = await context.with(ROOT_CONTEXT, () =>
      generateText({
        model: routerModel,
        system: 'You are a travel desk. Delegate research and writing to your agents, then answer.',
        prompt: USER_REQUEST,
        tools: { ask_researcher: askResearcher, ask_writer: askWriter },
        stopWhen: stepCountIs(6),
        experimental_telemetry: telemetry('router'),
      }),
    );
    await tracerProvider.forceFlush();
    const root = spans.find((s) => s.parentSpanContext === undefined);
    if (!root || root.name !== 'ai.generateText') throw new Error(`the run's root is not the router's ai.generateText: ${root?.name}`);
    const score = opts.score ?? (failing ? 0 : 1);
    const label = score >= PASS_THRESHOLD ? 'pass' : 'fail';
    const evaluation = await recordEvaluation(trace.setSpanContext(ROOT_CONTEXT, root.spanContext()), score, label);

    const fn = (s: ReadableSpan) => String(s.attributes['ai.telemetry.metadata.agentRole'] ?? '');
    const agentSpanIds: Record<string, string> = {};
    for (const s of started) if (s.name === 'ai.generateText' || s.name === 'ai.streamText') agentSpanIds[fn(s)] = s.spanContext().spanId;
    return {
      traceId: root.spanContext().traceId,
      rootSpanId: root.spanContext().spanId,
      spans: [...spans],
      logRecords: [evaluation],
      agentSpanIds,
      llmSpans: started.filter((s) => /\.do(Generate|Stream)$/.test(s.name)).map((s) => ({ spanId: s.spanContext().spanId, agent: fn(s) })),
      // tool attributes are set when the span starts: read them off the ended spans
      toolSpans: started
        .filter((s) => s.name === 'ai.toolCall')
        .map((s) => spans.find((e) => e.spanContext().spanId === s.spanContext().spanId)!)
        .map((s) => ({ spanId: s.spanContext().spanId, name: String(s.attributes['ai.toolCall.name']), callId: String(s.attributes['ai.toolCall.id']) })),
      finalText: result.text,
      score,
      label,
    };
  } finally {
    await tracerProvider.shutdown();
    if (ownsContextManager) context.disable();
  }
}
