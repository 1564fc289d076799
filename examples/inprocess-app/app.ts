/**
 * A Node agent app that gets credit in-process, without Kafka:
 * `npx tsx examples/inprocess-app/app.ts` in this repository (tsconfig `paths` map `agent-credit/*`
 * to the sources); in your own app, after `npm install <path or URL of agent-credit>`, the same
 * import loads the compiled package (`dist/`, built on install) — this file is TypeScript, so run
 * it with `tsx` or compile it; the package itself needs no TypeScript at run time. It uses
 * top-level await, so it runs as an ES module: in a package with `"type": "module"` (`npm init -y`
 * writes `"commonjs"`: then `npm pkg set type=module`, or name the file `app.mts`) — else tsx
 * stops with "Top-level await is currently not supported with the "cjs" output format".
 *
 * Two agents (researcher → writer) instrumented by hand with the OpenTelemetry GenAI semantic
 * conventions; an evaluator emits a `gen_ai.evaluation.result` log record on the root span. The
 * CreditSpanProcessor is registered on the TracerProvider and its evaluation log processor on the
 * LoggerProvider; credit events arrive in `onCredit` once the evaluation closes the episode.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createCreditSpanProcessor } from 'agent-credit/inprocess';

const credit = await createCreditSpanProcessor({
  onCredit: (events) => {
    for (const e of events) {
      if (e.event_type === 'episode_credit') console.log(`episode ${e.episode_id}: R=${e.system_value} agents`, e.agents.map((a) => `${a.agent_name}=${a.credit.toFixed(3)}`).join(' '));
      if (e.event_type === 'message_reward') console.log(`  ${e.agent_name.padEnd(10)} ${e.name.padEnd(28)} r=${e.reward.toFixed(3)}`);
    }
  },
  onError: (err) => console.error('credit failed:', err),
});

const resource = resourceFromAttributes({ 'service.name': 'inprocess-example' });
const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [credit] });
const loggerProvider = new LoggerProvider({ resource, processors: [credit.evaluationLogProcessor] });
const tracer = tracerProvider.getTracer('example-app');
const evaluator = loggerProvider.getLogger('example-evaluator');

type Part = { type: 'text'; content: string } | { type: 'tool_call'; id: string; name: string; arguments: unknown } | { type: 'tool_call_response'; id: string; response: string };

/** One LLM call; `links` are the spans whose output it read (recorded as span links). */
/** Stands in for model latency; also keeps steps apart on the SDK's millisecond-anchored clock. */
const think = () => new Promise((r) => setTimeout(r, 3));

async function chat(ctx: Context, agent: string, input: { role: string; parts: Part[] }[], output: Part[], links: Span[] = []): Promise<Span> {
  const span = tracer.startSpan(
    'chat demo-model',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.agent.name': agent,
        'gen_ai.request.model': 'demo-model',
        'gen_ai.input.messages': JSON.stringify(input),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: output, finish_reason: 'stop' }]),
      },
      links: links.map((l) => ({ context: l.spanContext() })),
    },
    ctx,
  );
  await think();
  span.end();
  return span;
}

async function agent<T>(parent: Context, name: string, body: (ctx: Context) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(`invoke_agent ${name}`, { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name } }, parent);
  const out = await body(trace.setSpan(parent, span));
  span.end();
  return out;
}

const task = { role: 'user', parts: [{ type: 'text', content: 'Write a short report on OTLP batching.' } as Part] };
const root = tracer.startSpan('workflow report');
const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
const notes = await agent(rootCtx, 'researcher', async (ctx) => {
  const call: Part = { type: 'tool_call', id: 'call_1', name: 'web_search', arguments: { q: 'OTLP batching' } };
  await chat(ctx, 'researcher', [task], [call]);
  const search = tracer.startSpan('execute_tool web_search', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'gen_ai.tool.call.id': 'call_1', 'gen_ai.tool.call.result': '3 sources' } }, ctx);
  search.setStatus({ code: SpanStatusCode.OK });
  await think();
  search.end();
  return chat(ctx, 'researcher', [task, { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '3 sources' }] }], [{ type: 'text', content: 'Notes: exporters batch spans (3 sources).' }]);
});
await agent(rootCtx, 'writer', (ctx) => chat(ctx, 'writer', [task], [{ type: 'text', content: 'Report: OTLP exporters batch spans before sending.' }], [notes]));
root.end();

evaluator.emit({
  eventName: 'gen_ai.evaluation.result',
  severityNumber: SeverityNumber.INFO,
  attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 0.9, 'gen_ai.evaluation.score.label': 'pass' },
  context: rootCtx,
});

// Shutdown closes any open episode and waits for its credit.
await tracerProvider.shutdown();
await loggerProvider.shutdown();
console.log('stats', credit.stats());
