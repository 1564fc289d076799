/**
 * CreditSpanProcessor tells onError of verdicts timed in seconds or milliseconds instead of
 * nanoseconds (EvaluationTimeUnitError), as the jobs log them: the in-process API said nothing,
 * and such a verdict was timed in January 1970, before every span of its run.
 */
import { context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createCreditSpanProcessor, EvaluationTimeUnitError } from '../../src/inprocess/index.js';

afterEach(() => context.disable());

describe('CreditSpanProcessor: an evaluation timed in another unit than nanoseconds', () => {
  it('is taken as given and reported to onError naming the unit and the fix — a logged verdict and one from addEvaluations; at most once a minute, with the count, and the rest at shutdown', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const errors: unknown[] = [];
    const credit = await createCreditSpanProcessor({ tickIntervalMs: 10, episodes: { graceMs: 5 }, onCredit: () => undefined, onError: (err) => void errors.push(err) });
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [credit] });
    const logger = new LoggerProvider({ processors: [credit.evaluationLogProcessor] }).getLogger('judge');
    const root = tracerProvider.getTracer('app').startSpan('invoke_workflow report');
    const ctx = trace.setSpan(context.active(), root);
    // Date.now() where nanoseconds go: the SDK's HrTime of 1,796,000,000,000 ns read as given
    logger.emit({ eventName: 'gen_ai.evaluation.result', severityNumber: SeverityNumber.INFO, timestamp: [1796, 0], attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 1 }, context: ctx });
    expect(errors).toHaveLength(1);
    const err = errors[0] as EvaluationTimeUnitError;
    expect(err).toBeInstanceOf(EvaluationTimeUnitError);
    expect(err.count).toBe(1);
    expect(err.message).toMatch(/^1 evaluation\(s\) taken with a time that is not nanoseconds — evaluation time .* = 1796000000000 looks like milliseconds since the epoch/);
    // within the minute: counted, told with the next report
    credit.addEvaluations([{ name: 'task_success', score: 1, traceId: root.spanContext().traceId, timeUnixNano: 1_796_000_000n }]);
    expect(errors).toHaveLength(1);
    // nanoseconds, or no time at all (the receipt's): nothing to say
    credit.addEvaluations([{ name: 'task_success', score: 1, traceId: root.spanContext().traceId, timeUnixNano: 1_796_000_000_000_000_000n }, { name: 'task_success', score: 1, traceId: root.spanContext().traceId }]);
    expect(credit.stats().evaluationsReceived).toBe(4);
    root.end();
    await tracerProvider.shutdown();
    // shutdown tells the count since the last report
    expect(errors.map((e) => (e as EvaluationTimeUnitError).count)).toEqual([1, 1]);
  });
});
