import { context, trace, type Tracer } from '@opentelemetry/api';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreditEvent } from '../../src/events/schemas.js';
import { createCreditSpanProcessor, UnjoinableEvaluationError } from '../../src/inprocess/index.js';

afterEach(() => context.disable());

/** An app's run as a user writes it: a root span through startActiveSpan, one agent with one model call inside. */
async function run(tracer: Tracer): Promise<{ rootContext: ReturnType<typeof context.active> }> {
  return tracer.startActiveSpan('invoke_workflow report', async (root) => {
    const rootContext = context.active();
    await tracer.startActiveSpan('invoke_agent writer', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' } }, async (agent) => {
      const llm = tracer.startSpan('chat m', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'writer', 'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Report.' }] }]) } });
      await new Promise((r) => setTimeout(r, 3));
      llm.end();
      agent.end();
    });
    root.end();
    return { rootContext };
  });
}

const verdict = (logger: Logger, ctx?: ReturnType<typeof context.active>) =>
  logger.emit({ eventName: 'gen_ai.evaluation.result', severityNumber: SeverityNumber.INFO, attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 1 }, ...(ctx ? { context: ctx } : {}) });

async function app({ contextManager = true } = {}) {
  if (contextManager) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const errors: unknown[] = [];
  const credited: CreditEvent[][] = [];
  const credit = await createCreditSpanProcessor({ tickIntervalMs: 10, episodes: { graceMs: 5 }, onCredit: (events) => void credited.push(events), onError: (err) => void errors.push(err) });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [credit] });
  const loggerProvider = new LoggerProvider({ processors: [credit.evaluationLogProcessor] });
  return { credit, errors, credited, tracerProvider, tracer: tracerProvider.getTracer('app'), logger: loggerProvider.getLogger('judge') };
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('CreditSpanProcessor: an evaluation that joins no episode', () => {
  it('is reported to onError naming the fix — a verdict logged after startActiveSpan returned carries no trace id', async () => {
    const { credit, errors, credited, tracerProvider, tracer, logger } = await app();
    await run(tracer);
    verdict(logger); // outside the root span's callback: no active span, no trace id
    await until(() => errors.length > 0);
    // before: onError heard nothing; only stats().evaluationsUnjoinable rose, and the run closed as 'no evaluation joined it'
    expect(errors).toHaveLength(1);
    const err = errors[0] as UnjoinableEvaluationError;
    expect(err).toBeInstanceOf(UnjoinableEvaluationError);
    expect(err.count).toBe(1);
    expect(err.message).toMatch(/context: trace\.setSpan\(context\.active\(\), rootSpan\)/);
    expect(err.message).toMatch(/addEvaluations/);
    expect(err.message).not.toMatch(/No context manager/);
    expect(credit.stats().evaluationsUnjoinable).toBe(1);
    // a second one within the report interval waits; shutdown reports it with its count
    verdict(logger);
    await tracerProvider.shutdown();
    expect(errors.map((e) => (e as UnjoinableEvaluationError).count)).toEqual([1, 1]);
    expect(credited.flat().filter((e) => e.event_type === 'episode_credit')).toEqual([]);
  });

  it('is not reported when the verdict is logged in the root span\'s context: the run is credited', async () => {
    const { errors, credited, tracerProvider, tracer, logger } = await app();
    const { rootContext } = await run(tracer);
    verdict(logger, rootContext);
    await until(() => credited.length > 0);
    await tracerProvider.shutdown();
    expect(errors).toEqual([]);
    expect(credited.flat().find((e) => e.event_type === 'episode_credit')).toMatchObject({ system_value: 1 });
  });

  it('names the missing context manager first when the app registered none (a BasicTracerProvider alone, as the README once showed): every span was an episode of its own', async () => {
    const { errors, credit, tracerProvider, tracer, logger } = await app({ contextManager: false });
    const { rootContext } = await run(tracer);
    verdict(logger, rootContext); // "inside" the run: without a manager that context is empty too
    await tracerProvider.shutdown();
    // 3 spans, 3 traces: startActiveSpan parented nothing
    expect(credit.stats().episodesClosed).toBe(3);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/No context manager is registered .* Register one: NodeTracerProvider \(@opentelemetry\/sdk-trace-node\) and tracerProvider\.register\(\)/);
  });
});
