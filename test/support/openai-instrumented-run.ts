/**
 * Records multi-agent runs the way a real app instrumented with OpenTelemetry JS contrib does: the
 * REAL `openai` client, patched by the REAL `@opentelemetry/instrumentation-openai`, talks to a
 * local fake OpenAI HTTP server that answers `POST /v1/chat/completions` with scripted replies. The
 * instrumentation makes the `chat <model>` spans and puts message contents in OTel log events
 * (`gen_ai.user.message`, `gen_ai.system.message`, `gen_ai.assistant.message`, `gen_ai.tool.message`,
 * `gen_ai.choice`; the name is the `event.name` ATTRIBUTE, the OTLP `eventName` field stays empty).
 * The app around the calls (root span, `invoke_agent <name>` spans, `execute_tool <tool>` spans) is
 * written with the OTel API in GenAI semantic-convention form; a separate evaluator emits the
 * `gen_ai.evaluation.result` event on the root span, as src/scenarios/record.ts does.
 *
 * Loading: vitest loads externalized node_modules through Node's ESM loader, which
 * require-in-the-middle does not see. So the instrumentation is enabled first and `openai` is then
 * loaded through `createRequire` (its CJS build), which RITM patches. RITM caches the patched
 * exports per thread, so one instrumentation instance is kept per thread (on globalThis, surviving
 * vitest's per-file module re-evaluation) and re-enabled/disabled around every run; `enable()` on
 * an instance that has seen the module re-applies the patch. Runs are serialized by a lock.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { LoggerProvider, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type OpenAIType from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { collectLogs, EVALUATOR_SERVICE, PASS_THRESHOLD } from '../../src/scenarios/record.js';
import { encodeLogs, encodeTraces, type OtlpEncodingName } from '../../src/scenarios/serialize.js';

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

export interface ScriptedToolCall {
  /** Default `call_<name>_<n>`. */
  readonly id?: string;
  readonly name: string;
  /** An object is JSON-encoded; a string is sent as is (OpenAI sends arguments as JSON text). */
  readonly arguments: Record<string, unknown> | string;
}

/** What the fake model answers to one chat call. */
export type ScriptedReply =
  | { readonly text: string; readonly model?: string }
  | { readonly toolCalls: readonly ScriptedToolCall[]; readonly model?: string };

export interface ToolCallSeen {
  readonly id: string;
  readonly name: string;
  /** JSON text, as the model sent it. */
  readonly arguments: string;
}

export type AgentStep =
  /** One `client.chat.completions.create` call with the agent's conversation so far. */
  | { readonly kind: 'chat'; readonly reply: ScriptedReply }
  /**
   * Executes every tool call of the previous chat reply: one `execute_tool <name>` span each, then
   * a `role: 'tool'` message with its `tool_call_id` is appended to the conversation.
   */
  | { readonly kind: 'tool'; readonly result: string | ((call: ToolCallSeen) => string) };

export interface AgentPlan {
  readonly name: string;
  /** Request model; default `gpt-4o-mini`. */
  readonly model?: string;
  readonly system?: string;
  /** The first user message; a function gets the final answers of the agents that ran before. */
  readonly input: string | ((outputs: Readonly<Record<string, string>>) => string);
  /** Sent as `tools` in every chat request of this agent. */
  readonly tools?: readonly ChatCompletionTool[];
  readonly steps: readonly AgentStep[];
}

export interface OpenAIRunPlan {
  /** Resource `service.name` of the app; default `openai-agents-app`. */
  readonly serviceName?: string;
  /**
   * `invoke_agent` (default): root span `invoke_agent` with `gen_ai.operation.name: invoke_agent`
   * and no agent name. `plain`: root span `run` without gen_ai attributes.
   */
  readonly root?: 'invoke_agent' | 'plain';
  /** Agents run one after the other, in this order. */
  readonly agents: readonly AgentPlan[];
  /** `task_success` score of the evaluator's verdict on the root span; default 1. */
  readonly score?: number;
}

export interface RecordOptions {
  /** `captureMessageContent` of the instrumentation; default true. */
  readonly captureContent?: boolean;
  /** Put `gen_ai.tool.call.arguments` / `gen_ai.tool.call.result` on execute_tool spans; default false. */
  readonly toolCallContent?: boolean;
  /** Real-time pause between steps (and between agents), ms; default 2. */
  readonly stepGapMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------

export interface InstrumentedRun {
  readonly traceId: string;
  readonly rootSpanId: string;
  /** In end order (children before parents), as the SDK delivered them. */
  readonly spans: ReadableSpan[];
  /** The instrumentation's content events in emit order, then the evaluator's verdict (last). */
  readonly logRecords: ReadableLogRecord[];
  /** Only the instrumentation's content events. */
  readonly contentLogRecords: ReadableLogRecord[];
  /** The `gen_ai.evaluation.result` record (resource `service.name: task-evaluator`). */
  readonly evaluation: ReadableLogRecord;
  /** `chat <model>` span ids in call order. */
  readonly chatSpanIds: string[];
  /** Agent name → its `invoke_agent <name>` span id. */
  readonly agentSpanIds: Readonly<Record<string, string>>;
  /** `execute_tool` span ids in execution order. */
  readonly toolSpanIds: string[];
  /** Agent name → its final assistant text. */
  readonly agentOutputs: Readonly<Record<string, string>>;
  /** `chatcmpl-…` ids in call order. */
  readonly responseIds: string[];
  /** JSON bodies the fake server received, in call order. */
  readonly requests: unknown[];
  readonly score: number;
  readonly label: 'pass' | 'fail';
}

/** OTLP ExportTraceServiceRequest bytes of the run's spans (real otlp-transformer serializer); any recorder's run. */
export function runTraceBytes(run: Pick<InstrumentedRun, 'spans'>, encoding: OtlpEncodingName = 'otlp_proto'): Uint8Array {
  return encodeTraces(run.spans, encoding);
}

/** OTLP ExportLogsServiceRequest bytes of the run's log records (content events + verdict). */
export function runLogBytes(run: Pick<InstrumentedRun, 'logRecords'>, encoding: OtlpEncodingName = 'otlp_proto'): Uint8Array {
  return encodeLogs(run.logRecords, encoding);
}

// ---------------------------------------------------------------------------------------------
// Ready-made plan
// ---------------------------------------------------------------------------------------------

export const RESEARCH_QUESTION = 'What are the main causes of the 2021 Texas power grid failure? Research it for an article.';
export const WEB_SEARCH_ARGS = { q: '2021 Texas power grid failure causes' } as const;
export const WEB_SEARCH_RESULT =
  'ERCOT report (2021): 52,277 MW of generation forced offline at peak; natural gas supply froze; wind turbines not winterized; limited interconnection with other grids.';
export const RESEARCH_FINDINGS =
  'Findings: the February 2021 Texas grid failure had several causes. Natural gas production and pipelines froze, cutting fuel to the largest share of generation; ' +
  'power plants of every type, including gas, coal, nuclear and wind, were not winterized; demand hit a record as homes heated with electricity; ' +
  'and ERCOT could import little power because the Texas grid is largely isolated from its neighbours.';
export const ARTICLE =
  'When the Lights Went Out in Texas. In February 2021 a winter storm pushed the Texas grid to the brink. Frozen gas supply, unwinterized plants of every kind, ' +
  'record demand and an isolated grid combined into days of blackouts. The lesson: resilience must be planned before the cold arrives.';

/**
 * `researcher` asks a question, the model calls `web_search`, the tool runs, the researcher's
 * second call answers with RESEARCH_FINDINGS (200+ chars); then `writer` gets the findings
 * verbatim inside its user message and answers with ARTICLE.
 */
export function researchWriteRun(options: { score?: number; root?: 'invoke_agent' | 'plain' } = {}): OpenAIRunPlan {
  return {
    serviceName: 'research-write-app',
    root: options.root ?? 'invoke_agent',
    score: options.score ?? 1,
    agents: [
      {
        name: 'researcher',
        model: 'gpt-4o-mini',
        system: 'You are a careful researcher. Use web_search, then report findings.',
        input: RESEARCH_QUESTION,
        tools: [
          {
            type: 'function',
            function: {
              name: 'web_search',
              description: 'Searches the web.',
              parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
            },
          },
        ],
        steps: [
          { kind: 'chat', reply: { toolCalls: [{ id: 'call_web_search_1', name: 'web_search', arguments: { ...WEB_SEARCH_ARGS } }] } },
          { kind: 'tool', result: WEB_SEARCH_RESULT },
          { kind: 'chat', reply: { text: RESEARCH_FINDINGS } },
        ],
      },
      {
        name: 'writer',
        model: 'gpt-4o',
        system: 'You write short, clear articles.',
        input: (outputs) => `Write a short article based on these research findings:\n\n${outputs['researcher'] ?? ''}`,
        steps: [{ kind: 'chat', reply: { text: ARTICLE } }],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Fake OpenAI server
// ---------------------------------------------------------------------------------------------

/** The fake OpenAI server (also used by the OpenInference / OpenLLMetry JS recorders, js-instrumented-run.ts). */
export interface FakeServer {
  readonly baseURL: string;
  readonly requests: unknown[];
  /** Queue the reply of the next chat call. */
  push(reply: ScriptedReply, fallbackModel: string): void;
  close(): Promise<void>;
}

export async function startFakeOpenAI(): Promise<FakeServer> {
  const queue: { reply: ScriptedReply; model: string }[] = [];
  const requests: unknown[] = [];
  let n = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        send(404, { error: { message: `fake OpenAI: no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
        return;
      }
      let body: { model?: string; messages?: unknown[]; stream?: boolean };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        send(400, { error: { message: 'fake OpenAI: body is not JSON', type: 'invalid_request_error' } });
        return;
      }
      requests.push(body);
      const next = queue.shift();
      if (!next || body.stream) {
        send(500, { error: { message: next ? 'fake OpenAI: streaming not scripted' : 'fake OpenAI: no scripted reply left', type: 'server_error' } });
        return;
      }
      n += 1;
      const model = next.reply.model ?? versioned(body.model ?? next.model);
      const promptTokens = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
      let message: Record<string, unknown>;
      let finish: string;
      let completionText: string;
      if ('text' in next.reply) {
        message = { role: 'assistant', content: next.reply.text, refusal: null, annotations: [] };
        finish = 'stop';
        completionText = next.reply.text;
      } else {
        const toolCalls = next.reply.toolCalls.map((tc, i) => ({
          id: tc.id ?? `call_${tc.name}_${n}_${i}`,
          type: 'function',
          function: { name: tc.name, arguments: typeof tc.arguments === 'string' ? tc.arguments : JSON.stringify(tc.arguments) },
        }));
        message = { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: toolCalls };
        finish = 'tool_calls';
        completionText = JSON.stringify(toolCalls);
      }
      const completionTokens = Math.ceil(completionText.length / 4);
      send(200, {
        id: `chatcmpl-${n.toString().padStart(3, '0')}${Math.random().toString(36).slice(2, 12)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        system_fingerprint: 'fp_fake0001',
        service_tier: 'default',
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    push: (reply, model) => void queue.push({ reply, model }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What OpenAI answers in `model`: the dated snapshot of the requested alias. */
function versioned(model: string): string {
  return /\d{4}-\d{2}-\d{2}$/.test(model) ? model : `${model}-2024-08-06`;
}

// ---------------------------------------------------------------------------------------------
// Instrumentation (one per thread) and the patched client
// ---------------------------------------------------------------------------------------------

interface ThreadState {
  instrumentation: OpenAIInstrumentation;
  lock: Promise<unknown>;
}

const STATE_KEY = Symbol.for('agent-credit.test.openai-instrumented-run');

function threadState(): ThreadState {
  const g = globalThis as unknown as Record<symbol, ThreadState | undefined>;
  let state = g[STATE_KEY];
  if (!state) {
    // enabled: false so nothing is hooked before the providers are set.
    state = { instrumentation: new OpenAIInstrumentation({ enabled: false, captureMessageContent: true }), lock: Promise.resolve() };
    g[STATE_KEY] = state;
  }
  return state;
}

type OpenAIModule = { OpenAI: typeof OpenAIType };
const requireCjs = createRequire(import.meta.url);

function loadPatchedOpenAI(): typeof OpenAIType {
  const mod = requireCjs('openai') as OpenAIModule;
  const create = mod.OpenAI.Chat.Completions.prototype.create as unknown as { __wrapped?: boolean };
  if (create.__wrapped !== true) {
    throw new Error('openai was not patched by @opentelemetry/instrumentation-openai (require-in-the-middle did not see the CJS load)');
  }
  return mod.OpenAI;
}

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

/** Records `plan`; runs in one thread are serialized (they share the patched module). */
export function recordOpenAIRun(plan: OpenAIRunPlan, opts: RecordOptions = {}): Promise<InstrumentedRun> {
  const state = threadState();
  const result = state.lock.then(() => recordLocked(state, plan, opts));
  state.lock = result.catch(() => undefined);
  return result;
}

/** The recorded app's resource, as the OTel JS SDK describes a Node service. */
export function appResource(plan: Pick<OpenAIRunPlan, 'serviceName'>): Resource {
  return resourceFromAttributes({
    'service.name': plan.serviceName ?? 'openai-agents-app',
    'service.version': '1.0.0',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
  });
}

async function recordLocked(state: ThreadState, plan: OpenAIRunPlan, opts: RecordOptions): Promise<InstrumentedRun> {
  const captureContent = opts.captureContent ?? true;
  const gap = opts.stepGapMs ?? 2;
  const spans: ReadableSpan[] = [];
  const content: ReadableLogRecord[] = [];
  const resource = appResource(plan);
  const chatSpanIds: string[] = [];
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [collectSpans(spans, chatSpanIds)] });
  const loggerProvider = new LoggerProvider({ resource, processors: [collectLogs(content)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContextManager = context.setGlobalContextManager(contextManager);
  if (!ownsContextManager) contextManager.disable();
  const server = await startFakeOpenAI();
  const { instrumentation } = state;
  try {
    instrumentation.setTracerProvider(tracerProvider);
    instrumentation.setLoggerProvider(loggerProvider);
    instrumentation.setConfig({ captureMessageContent: captureContent });
    instrumentation.enable();
    const OpenAI = loadPatchedOpenAI();
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 10_000 });
    const tracer = tracerProvider.getTracer('research-write-app', '1.0.0');

    const toolSpanIds: string[] = [];
    const responseIds: string[] = [];
    const agentSpanIds: Record<string, string> = {};
    const outputs: Record<string, string> = {};

    const rootPlain = plan.root === 'plain';
    const root = tracer.startSpan(rootPlain ? 'run' : 'invoke_agent', {
      kind: SpanKind.INTERNAL,
      attributes: rootPlain ? {} : { 'gen_ai.operation.name': 'invoke_agent' },
    });
    const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
    await context.with(rootCtx, async () => {
      for (const agent of plan.agents) {
        await sleep(gap);
        await runAgent(tracer, client, agent, {
          gap,
          toolCallContent: opts.toolCallContent ?? false,
          outputs,
          toolSpanIds,
          responseIds,
          agentSpanIds,
          server,
        });
      }
      await sleep(gap);
    });
    root.end();
    await tracerProvider.forceFlush();
    await loggerProvider.forceFlush();

    const score = plan.score ?? 1;
    const label = score >= PASS_THRESHOLD ? 'pass' : 'fail';
    const evaluation = await recordEvaluation(trace.setSpan(ROOT_CONTEXT, root), score, label);
    const rootSc = root.spanContext();
    return {
      traceId: rootSc.traceId,
      rootSpanId: rootSc.spanId,
      spans: [...spans],
      logRecords: [...content, evaluation],
      contentLogRecords: [...content],
      evaluation,
      chatSpanIds,
      agentSpanIds,
      toolSpanIds,
      agentOutputs: outputs,
      responseIds,
      requests: [...server.requests],
      score,
      label,
    };
  } finally {
    instrumentation.disable();
    await server.close();
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
    if (ownsContextManager) context.disable();
  }
}

interface AgentRunState {
  readonly gap: number;
  readonly toolCallContent: boolean;
  readonly outputs: Record<string, string>;
  readonly toolSpanIds: string[];
  readonly responseIds: string[];
  readonly agentSpanIds: Record<string, string>;
  readonly server: FakeServer;
}

async function runAgent(tracer: Tracer, client: OpenAIType, agent: AgentPlan, st: AgentRunState): Promise<void> {
  const model = agent.model ?? 'gpt-4o-mini';
  const span = tracer.startSpan(`invoke_agent ${agent.name}`, {
    kind: SpanKind.INTERNAL,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent.name },
  });
  st.agentSpanIds[agent.name] = span.spanContext().spanId;
  const agentCtx: Context = trace.setSpan(context.active(), span);
  try {
    await context.with(agentCtx, async () => {
      const messages: ChatCompletionMessageParam[] = [];
      if (agent.system !== undefined) messages.push({ role: 'system', content: agent.system });
      messages.push({ role: 'user', content: typeof agent.input === 'string' ? agent.input : agent.input({ ...st.outputs }) });
      let lastToolCalls: ToolCallSeen[] = [];
      for (const step of agent.steps) {
        await sleep(st.gap);
        if (step.kind === 'chat') {
          const turn = await chatTurn(client, st.server, { model, messages, tools: agent.tools, reply: step.reply });
          st.responseIds.push(turn.responseId);
          lastToolCalls = turn.calls;
          if (turn.answer !== undefined) st.outputs[agent.name] = turn.answer;
        } else {
          if (lastToolCalls.length === 0) throw new Error(`plan: tool step of ${agent.name} without tool calls in the previous reply`);
          for (const call of lastToolCalls) {
            const result = typeof step.result === 'string' ? step.result : step.result(call);
            const toolSpan: Span = tracer.startSpan(`execute_tool ${call.name}`, {
              kind: SpanKind.INTERNAL,
              attributes: {
                'gen_ai.operation.name': 'execute_tool',
                'gen_ai.tool.name': call.name,
                ...(st.toolCallContent ? { 'gen_ai.tool.call.arguments': call.arguments } : {}),
              },
            });
            st.toolSpanIds.push(toolSpan.spanContext().spanId);
            await sleep(st.gap);
            if (st.toolCallContent) toolSpan.setAttribute('gen_ai.tool.call.result', result);
            toolSpan.end();
            messages.push({ role: 'tool', tool_call_id: call.id, content: result });
          }
          lastToolCalls = [];
        }
      }
      await sleep(st.gap);
    });
  } finally {
    span.end();
  }
  // The instrumentation ends a chat span in its own `.then` on the APIPromise, registered before
  // the caller's await, so every chat span of this agent has ended before the agent span does.
}

/** The evaluator's `gen_ai.evaluation.result` verdict on the root span (resource `service.name: task-evaluator`). */
/**
 * One chat call of an agent: the fake server is told `reply`, the real client sends the
 * conversation so far (`messages`, appended with the assistant's answer or tool calls). Returns the
 * response id, the tool calls asked for, and the text answer when there are none.
 */
export async function chatTurn(
  client: OpenAIType,
  server: FakeServer,
  o: { model: string; messages: ChatCompletionMessageParam[]; tools?: readonly ChatCompletionTool[] | undefined; reply: ScriptedReply },
): Promise<{ responseId: string; calls: ToolCallSeen[]; answer?: string }> {
  server.push(o.reply, o.model);
  const completion: ChatCompletion = await client.chat.completions.create({
    model: o.model,
    messages: [...o.messages],
    ...(o.tools ? { tools: [...o.tools] } : {}),
  });
  const message = completion.choices[0]?.message;
  if (!message) throw new Error('fake OpenAI returned no choice');
  const calls = (message.tool_calls ?? []).flatMap((tc) => (tc.type === 'function' ? [{ id: tc.id, name: tc.function.name, arguments: tc.function.arguments }] : []));
  if (calls.length > 0) {
    o.messages.push({
      role: 'assistant',
      content: message.content,
      tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
    });
    return { responseId: completion.id, calls };
  }
  o.messages.push({ role: 'assistant', content: message.content ?? '' });
  return { responseId: completion.id, calls, answer: message.content ?? '' };
}

export async function recordEvaluation(rootCtx: Context, score: number, label: 'pass' | 'fail'): Promise<ReadableLogRecord> {
  const records: ReadableLogRecord[] = [];
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': EVALUATOR_SERVICE, 'telemetry.sdk.language': 'nodejs' }),
    processors: [collectLogs(records)],
  });
  const logger = provider.getLogger('agent-credit.scenarios.evaluator', '0.1.0');
  logger.emit({
    eventName: 'gen_ai.evaluation.result',
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    attributes: {
      'event.name': 'gen_ai.evaluation.result',
      'gen_ai.evaluation.name': 'task_success',
      'gen_ai.evaluation.score.value': score,
      'gen_ai.evaluation.score.label': label,
    },
    context: rootCtx,
  });
  await provider.forceFlush();
  await provider.shutdown();
  const record = records[0];
  if (!record) throw new Error('evaluator emitted nothing');
  return record;
}

/** OTel scope name of the instrumentation's tracer and logger. */
export const OPENAI_INSTRUMENTATION_SCOPE = '@opentelemetry/instrumentation-openai';

/** `chatSpanIds` gets the ids of the instrumentation's spans as they START (= call order). */
function collectSpans(into: ReadableSpan[], chatSpanIds: string[]): SpanProcessor {
  return {
    onStart: (span) => {
      if (span.instrumentationScope.name === OPENAI_INSTRUMENTATION_SCOPE) chatSpanIds.push(span.spanContext().spanId);
    },
    onEnd: (span) => void into.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

