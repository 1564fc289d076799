/**
 * Per-agent gauges on /metrics (SelfTelemetry.observeAgents) from the fleet's standings that the
 * job's StandingsSink keeps: real events (the recorded SDK fixtures, replayed), and a correction
 * that takes an episode's earlier revision back — which is why these are gauges, not counters.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { StandingsSink } from '../../src/sinks/standings/index.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const gauge = (text: string, name: string, agent: string): number | undefined => {
  const m = new RegExp(`^agent_credit_agent_${name}\\{agent_id="${agent}",agent_name="[^"]*"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

let telemetry: SelfTelemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

describe('the standings label', () => {
  it('is job by default and view for agent-credit view, so a query can pick one where both are scraped', async () => {
    const board = new AgentBoard();
    const out = outcomeToEvents(await creditEpisode(episode(threeAgentSteps(), 1), {}), { emittedAtMs: 0 });
    board.add([out.episode, ...out.rewards, ...out.pairs]);
    for (const [options, want] of [[{}, 'job'], [{ standings: 'view' as const }, 'view']] as const) {
      const t = new SelfTelemetry(options);
      t.observeAgents(() => board.snapshot());
      const lines = (await t.metricsText()).split('\n').filter((l) => l.startsWith('agent_credit_agent_'));
      await t.shutdown();
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((l) => !l.includes(`,standings="${want}"}`))).toEqual([]);
    }
  });
});

describe('per-agent gauges', () => {
  it('say per agent what the standings say, for the recorded SDK runs', async () => {
    const standings = new StandingsSink();
    await replayFiles(loadConfig({ env: {} }).config, listOtlpFiles([join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')]), { sinks: [standings] });
    telemetry = new SelfTelemetry();
    telemetry.observeAgents(() => standings.board.snapshot());
    const text = await telemetry.metricsText();
    const agents = standings.board.snapshot().agents;
    expect(agents.length).toBeGreaterThan(1);
    for (const a of agents) {
      expect(gauge(text, 'episodes', a.agent_id)).toBe(a.episodes);
      expect(gauge(text, 'failures', a.agent_id)).toBe(a.failures);
      expect(gauge(text, 'credit_sum', a.agent_id)).toBeCloseTo(a.credit_sum, 9);
      expect(gauge(text, 'first_errors', a.agent_id)).toBe(a.first_errors);
      expect(gauge(text, 'harmful_steps', a.agent_id)).toBe(a.harmful_steps);
      expect(gauge(text, 'redundant_steps', a.agent_id)).toBe(a.redundant_steps);
      expect(gauge(text, 'repairs', a.agent_id)).toBe(a.repairs);
    }
    expect(agents.some((a) => a.first_errors > 0)).toBe(true);
  });

  it('go down when a correction replaces a failed revision with a pass', async () => {
    const revision = async (r: number, score: number): Promise<CreditEvent[]> => {
      const out = outcomeToEvents(await creditEpisode({ ...episode(threeAgentSteps({ toolFails: score < 0.5 }), score), revision: r }, {}), { emittedAtMs: r });
      return [out.episode, ...out.rewards, ...out.pairs];
    };
    const standings = new StandingsSink();
    telemetry = new SelfTelemetry();
    telemetry.observeAgents(() => standings.board.snapshot());
    standings.publish(await revision(0, 0.1));
    const failed = await telemetry.metricsText();
    expect(gauge(failed, 'failures', 'researcher')).toBe(1);
    expect(gauge(failed, 'first_errors', 'researcher')).toBe(1);
    standings.publish(await revision(1, 0.9));
    const passed = await telemetry.metricsText();
    expect(gauge(passed, 'episodes', 'researcher')).toBe(1);
    expect(gauge(passed, 'failures', 'researcher')).toBe(0);
    expect(gauge(passed, 'first_errors', 'researcher')).toBe(0);
    expect(gauge(passed, 'credit_sum', 'researcher')).toBeGreaterThan(gauge(failed, 'credit_sum', 'researcher')!);
  });

  it('a failing standings reader leaves /metrics served', async () => {
    telemetry = new SelfTelemetry();
    telemetry.observeAgents(() => {
      throw new Error('boom');
    });
    telemetry.spansReceived.add(1);
    const text = await telemetry.metricsText();
    expect(text).toContain('agent_credit_spans_received');
    expect(text).not.toMatch(/^agent_credit_agent_/m);
  });

  it('an agent the standings no longer list (dropped at maxAgents, or renamed) leaves /metrics: the series stay bounded by the board', async () => {
    const standing = (id: string, name: string) => ({ agent_id: id, agent_name: name, episodes: 1, successes: 1, failures: 0, credit_sum: 0.5, credit_mean: 0.5, first_errors: 0, steps: 1, harmful_steps: 0, redundant_steps: 0, repairs: 0, last_seen_ms: 0 });
    let agents = [standing('a', 'alpha')];
    telemetry = new SelfTelemetry();
    telemetry.observeAgents(() => ({ ...new AgentBoard().snapshot(), agents }));
    expect(gauge(await telemetry.metricsText(), 'episodes', 'a')).toBe(1);
    agents = [standing('b', 'beta')];
    const text = await telemetry.metricsText();
    expect(gauge(text, 'episodes', 'b')).toBe(1);
    expect(gauge(text, 'episodes', 'a')).toBeUndefined();
    agents = [standing('b', 'beta 2')];
    const renamed = await telemetry.metricsText();
    expect(renamed.match(/^agent_credit_agent_episodes\{/gm)).toHaveLength(1);
    expect(renamed).toContain('agent_name="beta 2"');
  });

  it('escapes label values as the Prometheus text format requires', async () => {
    telemetry = new SelfTelemetry();
    const name = 'say "hi"\\n\nnext';
    telemetry.observeAgents(() => ({ ...new AgentBoard().snapshot(), agents: [{ agent_id: 'q', agent_name: name, episodes: 2, successes: 1, failures: 1, credit_sum: -0.25, credit_mean: -0.125, first_errors: 1, steps: 3, harmful_steps: 1, redundant_steps: 0, repairs: 0, last_seen_ms: 0 }] }));
    const text = await telemetry.metricsText();
    expect(text).toContain('agent_name="say \\"hi\\"\\\\n\\nnext"');
    expect(text).toMatch(/^# TYPE agent_credit_agent_credit_sum gauge$/m);
    expect(text).toMatch(/^agent_credit_agent_credit_sum\{agent_id="q",[^}]*\} -0\.25$/m);
  });
});
