/**
 * An agent run served by hapi, restify, connect and NestJS, traced by their REAL OpenTelemetry
 * instrumentations (../support/web-framework-run.ts: a real server, a real request): each
 * framework puts its own spans between the HTTP server span and the agents, or beside them, in its
 * own way —
 *
 * - hapi: `route - /chat` (`hapi.type: router`), or `chat: route - /chat` (`hapi.type: plugin`)
 *   for a route a plugin registers, runs the handler; its `ext - onRequest - …` spans are siblings;
 * - restify: a middleware runs the rest of the chain in its span, so `request handler - /chat`
 *   (`restify.type: request_handler`) is under `middleware - parseBody`;
 * - connect: `request handler - /chat` (`connect.type: request_handler`) is not made the active
 *   span, so the agents are its siblings, children of the server span;
 * - NestJS: `ChatController.chat` (`nestjs.type: request_context`) → `chat` (`handler`) → the
 *   agents, under a server span named `POST` (without instrumentation-express nothing sets its
 *   route); `Create Nest App` (`app_creation`) is a trace of its own, at start-up.
 *
 * Whatever the shape, the run must come out as the Express app's of ./web-apps.ts does: the
 * judge's verdict on the top agent span scores the run (the episode closes on it and is
 * credited), the same agents and steps, no step flagged by a failing verdict, and no
 * "no known convention" warning for the framework's spans. So must a verdict the handler emits
 * after the agents in its own context, on the span the framework runs it in; and either verdict,
 * arriving before the framework's spans (which end after the agents'), must wait for them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluationsFromLogs, isRunLevelSpan } from '../../src/conventions/evaluations.js';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { logsToProto, tracesToProto } from '../../src/scenarios/serialize.js';
import { recordWebRequest, type WebFramework } from '../support/web-framework-run.js';
import { contextOf, recordLogs, recordSpans } from './sdk.js';
import { express } from './web-apps.js';

/**
 * Per framework: its spans from the top agent span up to the trace's root (the first: the span the
 * handler runs in, its verdict's), and a span it records beside that path.
 */
const SHAPES: Record<WebFramework, { up: string[]; beside: string }> = {
  hapi: { up: ['route - /chat', 'POST /chat'], beside: 'ext - onRequest - authenticate' },
  'hapi plugin': { up: ['chat: route - /chat', 'POST /chat'], beside: 'chat: ext - onPreHandler - loadSession' },
  restify: { up: ['request handler - /chat', 'middleware - parseBody', 'POST /chat'], beside: 'middleware - readBody' },
  connect: { up: ['POST /chat'], beside: 'request handler - /chat' },
  nestjs: { up: ['chat', 'ChatController.chat', 'POST'], beside: 'Create Nest App' },
};
const FRAMEWORKS = Object.keys(SHAPES) as WebFramework[];

interface Served {
  /** Every span the app recorded (NestJS: its start-up trace too), decoded from OTLP protobuf as the receiver does. */
  all: Span[];
  /** The spans of the request's trace. */
  request: Span[];
  agentSpan: Span;
  /** The verdict the handler emitted after the agents, in its own context. */
  handlerVerdict: Evaluation;
}

const served = new Map<WebFramework, Served>();

beforeAll(async () => {
  for (const framework of FRAMEWORKS) {
    const { spans, logs, answer } = await recordWebRequest(framework, { verdictInHandler: 1 });
    expect(answer).toBe('Book AC 123.');
    const all = decodeTraces(tracesToProto(spans), 'otlp_proto');
    const agentSpan = all.find((s) => s.name === 'invoke_agent supervisor')!;
    const [handlerVerdict] = evaluationsFromLogs(decodeLogs(logsToProto(logs), 'otlp_proto'));
    served.set(framework, { all, request: all.filter((s) => s.traceId === agentSpan.traceId), agentSpan, handlerVerdict: handlerVerdict! });
  }
});

/** The judge's `gen_ai.evaluation.result` log record on `span`, as the existing Express tests send it. */
function verdictOn(span: Span, score: number): Evaluation {
  const logs = recordLogs((logger) =>
    logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(span.traceId, span.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': score } }),
  );
  return evaluationsFromLogs(logs)[0]!;
}

/**
 * What a run's credit is built from, without ids and times: its agents, and each agent step's
 * agent, kind, name, content and the steps it read. The app's spans are steps of kind `other`,
 * as many as the framework records: they are all `app` here. The steps are sorted, not in causal
 * order: the fake model answers within the millisecond the JS SDK stamps starts in, so the real
 * run's agents start together and tie-break by depth, where web-apps.ts spaces them out.
 */
function shape(spans: Span[]) {
  const { steps, agents, warnings } = stepsFromSpans(spans);
  const byId = new Map(steps.map((s) => [s.stepId, s]));
  const label = (id: string | undefined) => {
    const step = id === undefined ? undefined : byId.get(id);
    return step === undefined ? undefined : step.convention === 'unknown' ? 'app' : `${step.agentName}: ${step.name}`;
  };
  return {
    agents: agents.map((a) => a.agentName).sort(),
    steps: steps
      .filter((s) => s.convention !== 'unknown')
      .map((s) => ({ agent: s.agentName, kind: s.kind, name: s.name, rewardable: s.rewardable, convention: s.convention, parent: label(s.parentStepId), reads: s.causalInputs.map(label), input: s.inputText, output: s.outputText }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    unknownSpans: warnings.filter((w) => /no known convention/.test(w)),
  };
}

/** Closes `spans` and `verdict` in the assembler (one tick: the verdict closes the run at once) and credits what closed. */
async function creditedOn(spans: Span[], verdict: Evaluation): Promise<{ closed: Episode[]; credit: EpisodeCredit | undefined }> {
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(spans);
  asm.addEvaluations([verdict]);
  const closed = asm.tick();
  const [credit] = closed.length === 1 ? ((await processEpisode(closed[0]!)) as EpisodeCredit[]) : [];
  return { closed, credit };
}

describe('an agent run served by a web framework traced by its real instrumentation', () => {
  for (const framework of FRAMEWORKS) {
    describe(framework, () => {
      it('the instrumentation records its spans around the handler that runs the agents', () => {
        const { all, request, agentSpan } = served.get(framework)!;
        const tree = new SpanTree(request);
        const up: string[] = [];
        for (let id = tree.parentOf(agentSpan.spanId); id !== undefined; id = tree.parentOf(id)) up.push(tree.byId.get(id)!.name);
        expect(up).toEqual(SHAPES[framework].up);
        expect(all.map((s) => s.name)).toContain(SHAPES[framework].beside);
        expect(request.find((s) => s.parentSpanId === undefined)).toMatchObject({ kind: 2 }); // OTLP SERVER: instrumentation-http's
      });

      it('a verdict on the top agent span scores the run: the episode closes on it and is credited', async () => {
        const { all, agentSpan } = served.get(framework)!;
        const { closed, credit } = await creditedOn(all, verdictOn(agentSpan, 1));
        expect(closed.map((e) => [e.traceIds, e.closeReason])).toEqual([[[agentSpan.traceId], 'evaluation-arrived']]);
        expect(credit).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
        const byAgent = Object.fromEntries(credit!.agents.map((a) => [a.agent_name, a.credit]));
        expect(byAgent.writer! + byAgent.researcher!).toBeCloseTo(1);
      });

      it('a verdict the handler emits after the agents, on the span it runs in, scores the run', async () => {
        const { all, request, agentSpan, handlerVerdict } = served.get(framework)!;
        expect(request.find((s) => s.spanId === handlerVerdict.spanId)?.name).toBe(SHAPES[framework].up[0]);
        const { closed, credit } = await creditedOn(all, handlerVerdict);
        expect(closed.map((e) => [e.traceIds, e.closeReason])).toEqual([[[agentSpan.traceId], 'evaluation-arrived']]);
        expect(credit).toMatchObject({ outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
      });

      it('a verdict that arrives before the framework\'s spans (they end last) waits for them: the episode closes whole when they come', () => {
        // the SDK exports spans as they end (the agents' first) and log records on their own pipeline
        const { all, request, agentSpan, handlerVerdict } = served.get(framework)!;
        const isAgents = (s: Span) => s.attributes['gen_ai.operation.name'] !== undefined;
        for (const verdict of [verdictOn(agentSpan, 1), handlerVerdict]) {
          const asm = new EpisodeAssembler({}, new ManualClock(0));
          asm.addSpans(all.filter(isAgents));
          asm.addEvaluations([verdict]);
          expect(asm.tick()).toEqual([]);
          asm.addSpans(all.filter((s) => !isAgents(s)));
          expect(asm.tick().map((e) => [e.closeReason, e.revision, e.spans.length])).toEqual([['evaluation-arrived', 0, request.length]]);
        }
      });

      it('a failing verdict on the top agent span fails the run and flags no step', () => {
        const { request, agentSpan } = served.get(framework)!;
        expect(isRunLevelSpan(new SpanTree(request), agentSpan.spanId)).toBe(true);
        expect(stepsFromSpans(request, { evaluations: [verdictOn(agentSpan, 0)] }).steps.filter((s) => s.flaggedErroneous)).toEqual([]);
      });

      it('the agents and steps are the Express app\'s, and the framework\'s spans are not "no known convention"', () => {
        const expected = shape(recordSpans((r) => express(r)));
        expect(expected.agents).toEqual(['researcher', 'supervisor', 'writer']);
        expect(shape(served.get(framework)!.request)).toEqual(expected);
      });
    });
  }
});
