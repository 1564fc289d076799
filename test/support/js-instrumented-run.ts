/**
 * Records multi-agent runs the way a real JS app instrumented with OpenInference or OpenLLMetry
 * does: the REAL `openai` client (6.x), patched by the REAL
 * `@arizeai/openinference-instrumentation-openai` or `@traceloop/instrumentation-openai`, talks to
 * the fake OpenAI server of openai-instrumented-run.ts. The instrumentation makes the LLM spans;
 * the app around the calls is written the way each convention offers it to apps:
 *
 * - `openinference`: `@arizeai/openinference-core` `traceChain` (root), `traceAgent` (one per
 *   agent, `agent.name` set from the semantic-conventions constant) and `traceTool` (one per
 *   executed call, `getToolAttributes`), all on our tracer. LLM spans: `OpenAI Chat Completions`,
 *   `openinference.span.kind = LLM`, flattened `llm.{input,output}_messages.N.message.*` and JSON
 *   `input.value` / `output.value`.
 * - `openllmetry`: the spans `@traceloop/node-server-sdk`'s `withWorkflow` / `withAgent` /
 *   `withTool` make (`<name>.<kind>`, `traceloop.span.kind`, `traceloop.entity.{name,path,input,
 *   output}`, `traceloop.workflow.name`, `gen_ai.agent.name` on spans under an agent; input
 *   `{"args": [...], "kwargs": {...}}`, output JSON-serialized), written here with the
 *   `@traceloop/ai-semantic-conventions` constants because the SDK itself drags in exporters and
 *   cloud SDKs. Without the SDK's span processor the instrumentation's LLM spans (`chat <model>`,
 *   GenAI semconv 1.40 attributes, `gen_ai.{input,output}.messages` as JSON) carry no agent name.
 *
 * Both put message contents on the spans (no log events). A separate evaluator emits the
 * `gen_ai.evaluation.result` event on the root span, as openai-instrumented-run.ts does.
 *
 * Loading: as in openai-instrumented-run.ts (read its header): the instrumentation is enabled
 * before `openai` is loaded through `createRequire` (its CJS build), which require-in-the-middle
 * patches; one instrumentation instance per kind and thread, enabled/disabled around every run,
 * runs serialized by one lock shared with nothing else (the OTel recorder disables its patch
 * after each of its runs, and so do these: only one instrumentation wraps `create` at a time).
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, ROOT_CONTEXT, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_GEN_AI_AGENT_NAME } from '@opentelemetry/semantic-conventions/incubating';
import { getToolAttributes, OITracer, traceAgent, traceChain, traceTool, type TraceConfigOptions } from '@arizeai/openinference-core';
import { OpenAIInstrumentation as OpenInferenceOpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { SemanticConventions } from '@arizeai/openinference-semantic-conventions';
import { SpanAttributes, TraceloopSpanKindValues } from '@traceloop/ai-semantic-conventions';
import { OpenAIInstrumentation as TraceloopOpenAIInstrumentation } from '@traceloop/instrumentation-openai';
import type OpenAIType from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { PASS_THRESHOLD } from '../../src/scenarios/record.js';
import { appResource, chatTurn, recordEvaluation, startFakeOpenAI, type FakeServer, type OpenAIRunPlan, type AgentPlan, type ToolCallSeen } from './openai-instrumented-run.js';

export type JsConvention = 'openinference' | 'openllmetry';

/** OTel scope name of each instrumentation's tracer. */
const INSTRUMENTATION_SCOPE: Readonly<Record<JsConvention, string>> = {
  openinference: '@arizeai/openinference-instrumentation-openai',
  openllmetry: '@traceloop/instrumentation-openai',
};

export interface JsRecordOptions {
  /**
   * OpenLLMetry `traceContent`: message contents on the LLM spans and, as the SDK's
   * `shouldSendTraces()` does, entity input/output on the app's spans; default true.
   * OpenInference always records them.
   */
  readonly captureContent?: boolean;
  /** OpenInference: set `agent.name` on the `traceAgent` spans (the helper itself only names the span); default true. */
  readonly agentNameAttribute?: boolean;
  /** Real-time pause between steps (and between agents), ms; default 2. */
  readonly stepGapMs?: number;
  /**
   * OpenInference `traceConfig` (what its masking hides: `hideInputs`, `hideOutputText`, …, as
   * `OPENINFERENCE_HIDE_*` set it), for the instrumentation's LLM spans and, through an `OITracer`,
   * the app's chain/agent/tool spans. Default: nothing hidden.
   */
  readonly traceConfig?: TraceConfigOptions;
}

export interface JsInstrumentedRun {
  readonly convention: JsConvention;
  readonly traceId: string;
  readonly rootSpanId: string;
  /** In end order (children before parents), as the SDK delivered them. */
  readonly spans: ReadableSpan[];
  /** The evaluator's verdict (the instrumentations log nothing). */
  readonly logRecords: ReadableLogRecord[];
  /** The instrumentation's LLM span ids in call order. */
  readonly chatSpanIds: string[];
  /** Agent name → its agent span id. */
  readonly agentSpanIds: Readonly<Record<string, string>>;
  /** Tool span ids in execution order. */
  readonly toolSpanIds: string[];
  /** Tool calls the model issued, in execution order (ids as the model sent them). */
  readonly toolCalls: ToolCallSeen[];
  /** Agent name → its final assistant text. */
  readonly agentOutputs: Readonly<Record<string, string>>;
  readonly responseIds: string[];
  readonly requests: unknown[];
  readonly score: number;
  readonly label: 'pass' | 'fail';
}

/** OTLP request bytes of a run, as for the OpenTelemetry-instrumented recorder. */
export { runLogBytes as jsRunLogBytes, runTraceBytes as jsRunTraceBytes } from './openai-instrumented-run.js';

// ---------------------------------------------------------------------------------------------
// Instrumentations (one per kind and thread) and the patched client
// ---------------------------------------------------------------------------------------------

interface Instrumentation {
  setTracerProvider(provider: BasicTracerProvider): void;
  enable(): void;
  disable(): void;
}

interface ThreadState {
  readonly instrumentations: Partial<Record<JsConvention, Instrumentation>>;
  lock: Promise<unknown>;
}

const STATE_KEY = Symbol.for('agent-credit.test.js-instrumented-run');

function threadState(): ThreadState {
  const g = globalThis as unknown as Record<symbol, ThreadState | undefined>;
  let state = g[STATE_KEY];
  if (!state) g[STATE_KEY] = state = { instrumentations: {}, lock: Promise.resolve() };
  return state;
}

/** enabled: false so nothing is hooked before the provider is set. */
function instrumentationOf(state: ThreadState, convention: JsConvention, captureContent: boolean, traceConfig?: TraceConfigOptions): Instrumentation {
  let inst = state.instrumentations[convention];
  if (!inst) {
    inst =
      convention === 'openinference'
        ? new OpenInferenceOpenAIInstrumentation({ instrumentationConfig: { enabled: false } })
        : new TraceloopOpenAIInstrumentation({ enabled: false, traceContent: true });
    state.instrumentations[convention] = inst;
  }
  if (convention === 'openllmetry') (inst as TraceloopOpenAIInstrumentation).setConfig({ traceContent: captureContent });
  // OpenInference reads traceConfig when setTracerProvider builds its OITracer (called per run):
  // set for every run, so one run's masking does not stay on the thread's shared instance
  else (inst as unknown as { traceConfig: TraceConfigOptions | undefined }).traceConfig = traceConfig;
  return inst;
}

type OpenAIModule = { OpenAI: typeof OpenAIType };
const requireCjs = createRequire(import.meta.url);

function loadPatchedOpenAI(convention: JsConvention): typeof OpenAIType {
  const mod = requireCjs('openai') as OpenAIModule;
  const create = mod.OpenAI.Chat.Completions.prototype.create as unknown as { __wrapped?: boolean; __original?: { __wrapped?: boolean } };
  if (create.__wrapped !== true) {
    throw new Error(`openai was not patched by the ${convention} instrumentation (require-in-the-middle did not see the CJS load)`);
  }
  if (create.__original?.__wrapped === true) throw new Error('openai is patched twice (another instrumentation left its patch on)');
  return mod.OpenAI;
}

// ---------------------------------------------------------------------------------------------
// The app's own spans, per convention
// ---------------------------------------------------------------------------------------------

/** How the app wraps its workflow, agents and tool executions. Each returns what `fn` returns. */
interface AppTracing {
  root(fn: () => Promise<void>): Promise<{ span: Span }>;
  agent(name: string, input: string, fn: (input: string) => Promise<string>): Promise<{ output: string; spanId: string }>;
  tool(call: ToolCallSeen, args: Record<string, unknown>, fn: (args: Record<string, unknown>) => string): Promise<{ result: string; spanId: string }>;
}

const WORKFLOW_NAME = 'research-write';

/** The active span's id inside a wrapped function (the wrapper's own span). */
const activeSpanId = (): string => trace.getActiveSpan()!.spanContext().spanId;
const activeSpan = (): Span => trace.getActiveSpan()!;

function openInferenceApp(tracer: Tracer, plan: OpenAIRunPlan, agentNameAttribute: boolean): AppTracing {
  const toolDefinitions = new Map<string, Extract<ChatCompletionTool, { type: 'function' }>>();
  for (const a of plan.agents) for (const t of a.tools ?? []) if (t.type === 'function') toolDefinitions.set(t.function.name, t);
  return {
    async root(fn) {
      let span: Span | undefined;
      await traceChain(
        async () => {
          span = activeSpan();
          await fn();
        },
        { name: WORKFLOW_NAME, tracer },
      )();
      return { span: span! };
    },
    async agent(name, input, fn) {
      let spanId = '';
      const output = await traceAgent(
        async (text: string) => {
          spanId = activeSpanId();
          return fn(text);
        },
        { name, tracer, ...(agentNameAttribute ? { attributes: { [SemanticConventions.AGENT_NAME]: name } } : {}) },
      )(input);
      return { output, spanId };
    },
    async tool(call, args, fn) {
      const def = toolDefinitions.get(call.name);
      let spanId = '';
      const result = await traceTool(
        // async: the span ends when the promise settles, like a real tool doing I/O
        async (a: Record<string, unknown>) => {
          spanId = activeSpanId();
          await sleep(1);
          return fn(a);
        },
        {
          name: call.name,
          tracer,
          attributes: getToolAttributes({
            name: call.name,
            ...(def?.function.description !== undefined ? { description: def.function.description } : {}),
            parameters: (def?.function.parameters ?? {}) as Record<string, unknown>,
          }),
        },
      )(args);
      return { result, spanId };
    },
  };
}

/**
 * What `withEntity` of @traceloop/node-server-sdk (traceloop/openllmetry-js
 * packages/traceloop-sdk/src/lib/tracing/decorators.ts) puts on its spans.
 */
function openLlmetryApp(tracer: Tracer, traceContent: boolean): AppTracing {
  const AGENT_NAME = Symbol('traceloop agent name'); // the SDK's AGENT_NAME_KEY context value
  const serialize = (v: unknown): string => JSON.stringify(v);
  async function withEntity<A extends unknown[], R>(kind: TraceloopSpanKindValues, name: string, fn: (...args: A) => Promise<R>, ...args: A): Promise<{ value: R; span: Span }> {
    let ctx: Context = context.active();
    if (kind === TraceloopSpanKindValues.AGENT) ctx = ctx.setValue(AGENT_NAME, name);
    return context.with(ctx, () =>
      tracer.startActiveSpan(`${name}.${kind}`, {}, ctx, async (span) => {
        if (kind === TraceloopSpanKindValues.WORKFLOW || kind === TraceloopSpanKindValues.AGENT) span.setAttribute(SpanAttributes.TRACELOOP_WORKFLOW_NAME, name);
        span.setAttribute(SpanAttributes.TRACELOOP_ENTITY_NAME, name);
        span.setAttribute(SpanAttributes.TRACELOOP_ENTITY_PATH, '');
        span.setAttribute(SpanAttributes.TRACELOOP_SPAN_KIND, kind);
        const agentName = ctx.getValue(AGENT_NAME);
        if (typeof agentName === 'string') span.setAttribute(ATTR_GEN_AI_AGENT_NAME, agentName);
        const input = args.length === 1 && typeof args[0] === 'object' && !(args[0] instanceof Map) ? { args: [], kwargs: args[0] } : { args, kwargs: {} };
        if (traceContent) span.setAttribute(SpanAttributes.TRACELOOP_ENTITY_INPUT, serialize(input));
        try {
          const value = await fn(...args);
          if (traceContent) span.setAttribute(SpanAttributes.TRACELOOP_ENTITY_OUTPUT, serialize(value));
          return { value, span };
        } finally {
          span.end();
        }
      }),
    );
  }
  return {
    async root(fn) {
      const { span } = await withEntity(TraceloopSpanKindValues.WORKFLOW, WORKFLOW_NAME, fn);
      return { span };
    },
    async agent(name, input, fn) {
      const { value, span } = await withEntity(TraceloopSpanKindValues.AGENT, name, fn, input);
      return { output: value, spanId: span.spanContext().spanId };
    },
    async tool(call, args, fn) {
      const { value, span } = await withEntity(
        TraceloopSpanKindValues.TOOL,
        call.name,
        async (a: Record<string, unknown>) => {
          await sleep(1);
          return fn(a);
        },
        args,
      );
      return { result: value, spanId: span.spanContext().spanId };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

/** Records `plan` through `convention`'s instrumentation; runs in one thread are serialized. */
export function recordJsRun(convention: JsConvention, plan: OpenAIRunPlan, opts: JsRecordOptions = {}): Promise<JsInstrumentedRun> {
  const state = threadState();
  const result = state.lock.then(() => recordLocked(state, convention, plan, opts));
  state.lock = result.catch(() => undefined);
  return result;
}

async function recordLocked(state: ThreadState, convention: JsConvention, plan: OpenAIRunPlan, opts: JsRecordOptions): Promise<JsInstrumentedRun> {
  const captureContent = opts.captureContent ?? true;
  const gap = opts.stepGapMs ?? 2;
  const spans: ReadableSpan[] = [];
  const chatSpanIds: string[] = [];
  const resource = appResource(plan);
  const scope = INSTRUMENTATION_SCOPE[convention];
  const collect: SpanProcessor = {
    onStart: (span) => {
      if (span.instrumentationScope.name === scope) chatSpanIds.push(span.spanContext().spanId);
    },
    onEnd: (span) => void spans.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [collect] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContextManager = context.setGlobalContextManager(contextManager);
  if (!ownsContextManager) contextManager.disable();
  const server = await startFakeOpenAI();
  const instrumentation = instrumentationOf(state, convention, captureContent, opts.traceConfig);
  try {
    instrumentation.setTracerProvider(tracerProvider);
    instrumentation.enable();
    const OpenAI = loadPatchedOpenAI(convention);
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 10_000 });
    const tracer = tracerProvider.getTracer('research-write-app', '1.0.0');
    const app =
      convention === 'openinference'
        ? openInferenceApp(opts.traceConfig ? new OITracer({ tracer, traceConfig: opts.traceConfig }) : tracer, plan, opts.agentNameAttribute ?? true)
        : openLlmetryApp(tracer, captureContent);
    const st: AgentRunState = { gap, outputs: {}, toolSpanIds: [], toolCalls: [], responseIds: [], agentSpanIds: {}, server, app, client };

    const { span: root } = await context.with(ROOT_CONTEXT, () =>
      app.root(async () => {
        for (const agent of plan.agents) {
          await sleep(gap);
          await runAgent(agent, st);
        }
        await sleep(gap);
      }),
    );
    await tracerProvider.forceFlush();

    const score = plan.score ?? 1;
    const label = score >= PASS_THRESHOLD ? 'pass' : 'fail';
    const evaluation = await recordEvaluation(trace.setSpan(ROOT_CONTEXT, root), score, label);
    const rootSc = root.spanContext();
    if (!spans.some((s) => s.instrumentationScope.name === scope)) throw new Error(`no span reached the provider from ${scope}`);
    return {
      convention,
      traceId: rootSc.traceId,
      rootSpanId: rootSc.spanId,
      spans: [...spans],
      logRecords: [evaluation],
      chatSpanIds,
      agentSpanIds: st.agentSpanIds,
      toolSpanIds: st.toolSpanIds,
      toolCalls: st.toolCalls,
      agentOutputs: st.outputs,
      responseIds: st.responseIds,
      requests: [...server.requests],
      score,
      label,
    };
  } finally {
    instrumentation.disable();
    await server.close();
    await tracerProvider.shutdown();
    if (ownsContextManager) context.disable();
  }
}

interface AgentRunState {
  readonly gap: number;
  readonly outputs: Record<string, string>;
  readonly toolSpanIds: string[];
  readonly toolCalls: ToolCallSeen[];
  readonly responseIds: string[];
  readonly agentSpanIds: Record<string, string>;
  readonly server: FakeServer;
  readonly app: AppTracing;
  readonly client: OpenAIType;
}

async function runAgent(agent: AgentPlan, st: AgentRunState): Promise<void> {
  const model = agent.model ?? 'gpt-4o-mini';
  const input = typeof agent.input === 'string' ? agent.input : agent.input({ ...st.outputs });
  const { output, spanId } = await st.app.agent(agent.name, input, async (userText) => {
    const messages: ChatCompletionMessageParam[] = [];
    if (agent.system !== undefined) messages.push({ role: 'system', content: agent.system });
    messages.push({ role: 'user', content: userText });
    let lastToolCalls: ToolCallSeen[] = [];
    let final = '';
    for (const step of agent.steps) {
      await sleep(st.gap);
      if (step.kind === 'chat') {
        const turn = await chatTurn(st.client, st.server, { model, messages, tools: agent.tools, reply: step.reply });
        st.responseIds.push(turn.responseId);
        lastToolCalls = turn.calls;
        if (turn.answer !== undefined) final = turn.answer;
      } else {
        if (lastToolCalls.length === 0) throw new Error(`plan: tool step of ${agent.name} without tool calls in the previous reply`);
        for (const call of lastToolCalls) {
          const args = JSON.parse(call.arguments) as Record<string, unknown>;
          const { result, spanId: toolSpanId } = await st.app.tool(call, args, () => (typeof step.result === 'string' ? step.result : step.result(call)));
          st.toolSpanIds.push(toolSpanId);
          st.toolCalls.push(call);
          messages.push({ role: 'tool', tool_call_id: call.id, content: result });
        }
        lastToolCalls = [];
      }
    }
    await sleep(st.gap);
    return final;
  });
  st.agentSpanIds[agent.name] = spanId;
  st.outputs[agent.name] = output;
}
