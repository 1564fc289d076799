/**
 * Whether an episode's spans hold any agent work: a span an agent or LLM convention reads
 * (`factsOf`: OpenInference, OpenLLMetry, the Vercel AI SDK, GenAI — an agent, a model call, a
 * tool, a chain, an evaluator…), or a GenAI content event (message contents logged for a model
 * call). A web app traced with OpenTelemetry sends many traces without any — health checks,
 * static files, NestJS's `Create Nest App`, migrations, cron jobs —: such an episode has nothing
 * to credit and no verdict is coming for it, so it neither waits for one (`awaitEvaluationMs`)
 * nor is told to send one (credit's skip reason `no-agents`).
 */
import type { Span } from '../model/telemetry.js';
import { CONTENT_EVENT_SCOPE } from './content-events.js';
import { factsOf } from './steps.js';

/**
 * True at the first span a convention reads (usually one of the first: agent runs are made of
 * them), false when none does — a scan of every span, done once per episode when its grace has
 * passed, not per span.
 */
export function holdsAgentWork(spans: readonly Span[]): boolean {
  for (const s of spans) {
    if (s.scope.name === CONTENT_EVENT_SCOPE || factsOf(s).convention !== 'unknown') return true;
  }
  return false;
}
