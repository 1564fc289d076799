/**
 * `conventions.agentScope`: agents of different apps that share a name stay apart when their ids
 * are scoped by resource attributes — across episodes (two apps on one collector) and within one
 * (a hand-off into another service's trace part). Spans from the real OTel JS SDK, one provider
 * (resource) per service.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { stepsFromSpans } from '../../src/conventions/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { processOptionsOf } from '../../src/runtime/local-stages.js';
import { at, contextOf, episodeOf, recordSpans } from './sdk.js';
import { MAX_NAME_BYTES } from '../../src/conventions/text.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';

const invoke = (name: string) => ({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name });
const chat = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' };

/** One app's run: its `planner` agent with one LLM call. */
const appRun = (service: string) =>
  recordSpans((r) => {
    const a = r.start('invoke_agent planner', 0, invoke('planner'));
    r.start('chat m', 1, chat, a).end(at(2));
    a.end(at(3));
  }, 'otlp_proto', service);

/** One trace across two services: support-app's router and planner, then billing-app's planner under the router's span. */
function crossServiceTrace() {
  const front = recordSpans((r) => {
    const router = r.start('invoke_agent router', 0, invoke('router'));
    const p = r.start('invoke_agent planner', 1, invoke('planner'), router);
    r.start('chat m', 2, chat, p).end(at(3));
    p.end(at(4));
    router.end(at(20));
  }, 'otlp_proto', 'support-app');
  const router = front.find((s) => s.name === 'invoke_agent router')!;
  const back = recordSpans((r) => {
    const p = r.start('invoke_agent planner', 5, invoke('planner'), contextOf(router.traceId, router.spanId));
    r.start('chat m', 6, chat, p).end(at(7));
    p.end(at(8));
  }, 'otlp_proto', 'billing-app');
  return [...front, ...back];
}

const agentIds = (steps: { agentId: string }[]) => [...new Set(steps.map((s) => s.agentId))].sort();

describe('conventions.agentScope', () => {
  it('is off by default: same-named agents of two apps are one agent id', () => {
    expect(loadConfig({ env: {} }).config.conventions.agentScope).toEqual([]);
    expect(agentIds(stepsFromSpans(appRun('support-app')).steps)).toEqual(['planner']);
    expect(agentIds(stepsFromSpans(appRun('billing-app')).steps)).toEqual(['planner']);
  });

  it('prefixes agent ids with the scope values, names unchanged', () => {
    const opts = { agentScope: ['service.namespace', 'service.name'] }; // no namespace on these resources: skipped
    const a = stepsFromSpans(appRun('support-app'), opts);
    const b = stepsFromSpans(appRun('billing-app'), opts);
    expect(agentIds(a.steps)).toEqual(['support-app/planner']);
    expect(agentIds(b.steps)).toEqual(['billing-app/planner']);
    expect(new Set([...a.steps, ...b.steps].map((s) => s.agentName))).toEqual(new Set(['planner']));
    expect(a.agents.map((x) => x.agentId)).toEqual(['support-app/planner']);
  });

  it('tells apart two planners within one trace by the service each runs in, and credits them as two players', async () => {
    const spans = crossServiceTrace();
    const unscoped = stepsFromSpans(spans);
    expect(unscoped.agents.map((x) => x.agentId).sort()).toEqual(['planner', 'router']);
    const scoped = stepsFromSpans(spans, { agentScope: ['service.name'] });
    expect(scoped.agents.map((x) => x.agentId).sort()).toEqual(['billing-app/planner', 'support-app/planner', 'support-app/router']);
    const llmAgents = scoped.steps.filter((s) => s.kind === 'llm').map((s) => s.agentId).sort();
    expect(llmAgents).toEqual(['billing-app/planner', 'support-app/planner']);

    const config = loadConfig({ env: {}, overrides: { conventions: { agentScope: ['service.name'] } } }).config;
    const events = await processEpisode(episodeOf(spans, 1), processOptionsOf(config));
    const credit = events.find((e) => e.event_type === 'episode_credit')!;
    if (credit.event_type !== 'episode_credit') throw new Error('no episode_credit');
    expect(credit.agents.map((x) => x.agent_id).sort()).toEqual(['billing-app/planner', 'support-app/planner', 'support-app/router']);
    const total = credit.agents.reduce((s, x) => s + x.credit, 0);
    expect(total).toBeCloseTo(credit.system_value - credit.baseline, 9);
  });

  it("keeps an agent's gen_ai.agent.id in a trace that crosses into an app reusing that id for another agent", () => {
    // each app numbers its agents from agent-1: within an app, agent-1 is one agent
    const withId = (name: string, id: string) => ({ ...invoke(name), 'gen_ai.agent.id': id });
    const run = (service: string, name: string) =>
      recordSpans((r) => {
        const a = r.start(`invoke_agent ${name}`, 0, withId(name, 'agent-1'));
        r.start('chat m', 1, chat, a).end(at(2));
        a.end(at(3));
      }, 'otlp_proto', service);
    const front = recordSpans((r) => {
      const router = r.start('invoke_agent router', 0, withId('router', 'agent-1'));
      r.start('chat m', 1, chat, router).end(at(2));
      router.end(at(20));
    }, 'otlp_proto', 'support-app');
    const router = front.find((s) => s.name === 'invoke_agent router')!;
    const back = recordSpans((r) => {
      const p = r.start('invoke_agent planner', 5, withId('planner', 'agent-1'), contextOf(router.traceId, router.spanId));
      r.start('chat m', 6, chat, p).end(at(7));
      p.end(at(8));
    }, 'otlp_proto', 'billing-app');
    const opts = { agentScope: ['service.name'] };
    // alone, each app's agent is known by its id
    expect(agentIds(stepsFromSpans(run('support-app', 'router'), opts).steps)).toEqual(['support-app/agent-1']);
    expect(agentIds(stepsFromSpans(run('billing-app', 'planner'), opts).steps)).toEqual(['billing-app/agent-1']);
    // across both, the same ids: agent-1 names one agent per app (taken as naming two, it was dropped for the names: other ids than alone)
    expect(agentIds(stepsFromSpans([...front, ...back], opts).steps)).toEqual(['billing-app/agent-1', 'support-app/agent-1']);
  });

  it('cuts a scope value as names and ids are cut (MAX_NAME_BYTES): a resource attribute is the sender\'s, and the scoped id is every event\'s agent_id and a label of every per-agent series on /metrics', async () => {
    // one export whose service.name is 1 MB: the agent id was 1 MB, so its 15 agent_credit_agent_* series made /metrics
    // over 30 MB (the id in agent_id, each series) — about 36 such agents passed V8's longest string and /metrics answered 500
    const huge = 's'.repeat(1_000_000);
    const spans = appRun(huge);
    const steps = stepsFromSpans(spans, { agentScope: ['service.name'] });
    const ids = agentIds(steps.steps);
    expect(ids).toHaveLength(1);
    expect(Buffer.byteLength(ids[0]!)).toBeLessThanOrEqual(MAX_NAME_BYTES + 1 + 'planner'.length);
    expect(ids[0]!.endsWith('/planner')).toBe(true);
    expect(steps.agents.map((a) => a.agentId)).toEqual(ids);
    // a cut value still tells its app apart from another app's
    expect(agentIds(stepsFromSpans(appRun('billing-app'), { agentScope: ['service.name'] }).steps)).toEqual(['billing-app/planner']);

    const config = loadConfig({ env: {}, overrides: { conventions: { agentScope: ['service.name'] } } }).config;
    const events = await processEpisode(episodeOf(spans, 1), processOptionsOf(config));
    const board = new AgentBoard();
    board.add(events);
    const telemetry = new SelfTelemetry();
    telemetry.observeAgents(() => board.snapshot({ totals: true }));
    const text = await telemetry.metricsText();
    await telemetry.shutdown();
    expect(text).toContain(`agent_id="${ids[0]}"`);
    expect(text.length).toBeLessThan(100_000);
    for (const e of events) expect(JSON.stringify(e).length, e.event_type).toBeLessThan(100_000);
  });

  it('rejects a scope that is not a list of attribute names, naming the key', () => {
    expect(() => loadConfig({ env: {}, text: 'conventions:\n  agentScope: service.name\n' })).toThrow(/conventions\.agentScope/);
  });
});
