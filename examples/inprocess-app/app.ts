/**
 * A Node agent app that gets credit in-process, without Kafka:
 * `npx tsx examples/inprocess-app/app.ts`
 *
 * Two agents (researcher → writer) instrumented by hand with the OpenTelemetry GenAI semantic
 * conventions; an evaluator emits a `gen_ai.evaluation.result` log record on the root span. The
 * CreditSpanProcessor is registered on the TracerProvider and its evaluation log processor on the
 * LoggerProvider; credit events arrive in `onCredit` once the evaluation closes the episode.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';

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

function chat(ctx: Context, agent: string, text: string): void {
  const span = tracer.startSpan('chat demo-model', {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.agent.name': agent,
      'gen_ai.request.model': 'demo-model',
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' }]),
    },
  }, ctx);
  span.end();
}

function agent(parent: Context, name: string, body: (ctx: Context) => void): void {
  const span = tracer.startSpan(`invoke_agent ${name}`, { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name } }, parent);
  body(trace.setSpan(parent, span));
  span.end();
}

const root = tracer.startSpan('workflow report');
const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
agent(rootCtx, 'researcher', (ctx) => {
  const search = tracer.startSpan('execute_tool web_search', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'gen_ai.tool.call.id': 'call_1' } }, ctx);
  search.setStatus({ code: SpanStatusCode.OK });
  search.end();
  chat(ctx, 'researcher', 'Found three sources on OTLP batching.');
});
agent(rootCtx, 'writer', (ctx) => chat(ctx, 'writer', 'Report: OTLP exporters batch spans; see sources.'));
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
