/**
 * The per-agent counters on /metrics (`agent_credit_agent_*_total`, src/telemetry/agent-metrics.ts)
 * beside the gauges: read from the status server as Prometheus scrapes it, after events from the
 * credit engine — corrections included, one of which lowers an agent's credit — and from a running
 * job fed by generated runs. What Prometheus's increase() needs: no counter ever goes down while
 * the process runs, and credit_gained − credit_lost is the credit_sum gauge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { validateConfig } from '../../src/config/load.js';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { resolveJobListeners } from '../../src/http/listener-security.js';
import { HealthServer } from '../../src/runtime/health-server.js';
import { HealthState } from '../../src/runtime/health.js';
import { startLocalJob, type LocalJob } from '../../src/runtime/local-job.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';
import { StandingsSink } from '../../src/sinks/standings/index.js';
import { createLogger, SelfTelemetry } from '../../src/telemetry/index.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';

const COUNTERS = ['credit_gained', 'credit_lost', 'episodes', 'failures', 'first_errors', 'harmful_steps', 'redundant_steps', 'repairs'].map((n) => `agent_credit_agent_${n}_total`);
const GAUGES = ['episodes', 'failures', 'credit_sum', 'first_errors', 'harmful_steps', 'redundant_steps', 'repairs'].map((n) => `agent_credit_agent_${n}`);

/** agent_id → value of one metric's series in a scrape. */
function series(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${metric}\\{agent_id="([^"]*)",[^}]*\\} (\\S+)$`, 'gm'))) out.set(m[1]!, Number(m[2]));
  return out;
}

/** A metric's value summed over its series (all labels). */
const total = (text: string, metric: string): number => [...text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);

/** One episode of the three-agent example, credited by the engine: its own trace id, a revision, passed or failed. */
async function revisionEvents(trace: string, revision: number, opts: { fails: boolean; sabotage?: boolean }): Promise<CreditEvent[]> {
  const input = { ...episode(threeAgentSteps({ toolFails: opts.fails, sabotage: opts.sabotage }), opts.fails ? 0.1 : 0.9), episodeId: trace, traceIds: [trace], revision };
  const out = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: 1_000 + revision });
  return [out.episode, ...out.rewards, ...out.pairs];
}

/** Every scrape after the first (taken before any event): gained − lost is the gauge, each agent has every counter, and nothing went down since the one before. */
function expectCounterInvariants(scrapes: readonly string[]): void {
  for (const [i, text] of scrapes.entries()) {
    const [gained, lost, sum] = [series(text, 'agent_credit_agent_credit_gained_total'), series(text, 'agent_credit_agent_credit_lost_total'), series(text, 'agent_credit_agent_credit_sum')];
    if (i === 0) expect(sum.size).toBe(0);
    else expect(sum.size).toBeGreaterThan(0);
    for (const [agent, s] of sum) expect(gained.get(agent)! - lost.get(agent)!, `scrape ${i}, ${agent}`).toBeCloseTo(s, 9);
    for (const c of COUNTERS) expect([...series(text, c).keys()].sort(), `scrape ${i}, ${c}`).toEqual([...sum.keys()].sort());
    if (i === 0) continue;
    for (const c of COUNTERS) for (const [agent, v] of series(text, c)) expect(v, `scrape ${i}, ${c} of ${agent}`).toBeGreaterThanOrEqual(series(scrapes[i - 1]!, c).get(agent) ?? 0);
  }
}

describe('per-agent counters on the status server’s /metrics', () => {
  const telemetry = new SelfTelemetry();
  const standings = new StandingsSink();
  let server: HealthServer;
  let url = '';
  beforeAll(async () => {
    // as the jobs wire them: the standings sink's board, read with its totals, on a status server
    telemetry.observeAgents(() => standings.board.snapshot({ totals: true }));
    const security = resolveJobListeners(validateConfig({ telemetry: { metricsPort: 0 } })).status;
    server = new HealthServer({ host: '127.0.0.1', port: 0, security }, new HealthState(), telemetry);
    await server.start();
    url = `${server.scheme()}://127.0.0.1:${server.port()}/metrics`;
  });
  afterAll(async () => {
    await server.close();
    await telemetry.shutdown();
  });
  const scrape = async () => (await fetch(url)).text();

  it('never go down, and credit_gained − credit_lost is credit_sum, through corrections that raise and lower credit', async () => {
    const T1 = '1'.repeat(32);
    const T2 = '2'.repeat(32);
    const T3 = '3'.repeat(32);
    const scrapes = [await scrape()];
    for (const batch of [
      await revisionEvents(T1, 0, { fails: false }),
      await revisionEvents(T2, 0, { fails: true }),
      await revisionEvents(T3, 0, { fails: false, sabotage: true }),
      await revisionEvents(T2, 1, { fails: false }), // a failure re-evaluated as a pass
      await revisionEvents(T1, 1, { fails: true }), // a pass re-evaluated as a failure: lowers credit
    ]) {
      standings.publish(batch);
      scrapes.push(await scrape());
    }
    expectCounterInvariants(scrapes);
    // the last correction: whose credit it lowered, it added the difference to lost, and nothing to gained
    const [before, after] = [scrapes.at(-2)!, scrapes.at(-1)!];
    const drop = [...series(after, 'agent_credit_agent_credit_sum')].map(([agent, s]) => ({ agent, change: s - series(before, 'agent_credit_agent_credit_sum').get(agent)! })).filter((d) => d.change < -1e-9);
    expect(drop.length).toBeGreaterThan(0);
    for (const { agent, change } of drop) {
      expect(series(after, 'agent_credit_agent_credit_lost_total').get(agent)! - series(before, 'agent_credit_agent_credit_lost_total').get(agent)!).toBeCloseTo(-change, 9);
      expect(series(after, 'agent_credit_agent_credit_gained_total').get(agent)).toBe(series(before, 'agent_credit_agent_credit_gained_total').get(agent));
    }
    // three episodes, each counted once however often re-evaluated; both failures stay counted
    // (the gauge: one stands now), so increase() counts failures as they were reported
    expect(series(after, 'agent_credit_agent_episodes_total').get('researcher')).toBe(3);
    expect(series(after, 'agent_credit_agent_episodes').get('researcher')).toBe(3);
    expect(series(after, 'agent_credit_agent_failures_total').get('researcher')).toBe(2);
    expect(series(after, 'agent_credit_agent_failures').get('researcher')).toBe(1);
  });

  it('are typed counter under the documented names, with the gauges kept as they were', async () => {
    const text = await scrape();
    for (const c of COUNTERS) expect(text).toMatch(new RegExp(`^# TYPE ${c} counter$`, 'm'));
    for (const g of GAUGES) expect(text).toMatch(new RegExp(`^# TYPE ${g} gauge$`, 'm'));
    const agentFamilies = [...text.matchAll(/^# TYPE (agent_credit_agent_\S+) /gm)].map((m) => m[1]);
    expect(agentFamilies.sort()).toEqual([...COUNTERS, ...GAUGES].sort());
    expect(text).toMatch(/^agent_credit_agent_credit_gained_total\{agent_id="researcher",agent_name="researcher",standings="job"\} \d/m);
  });
});

describe('per-agent counters of a running job', () => {
  let job: LocalJob;
  beforeAll(async () => {
    const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 0 } } });
    job = await startLocalJob(config, { logger: createLogger('silent') });
  });
  afterAll(() => job?.stop());

  it('generated runs through the receiver: the counters follow the gauges (no correction: the counts are equal)', async () => {
    const scrapes = [await (await fetch(job.metricsUrl!)).text()];
    const runs = [await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 5 }), await generateScenario({ kind: 'failure', convention: 'genai', seed: 6 })];
    for (const run of runs) {
      await sendScenario(job.receiverUrl, run);
      let text = '';
      for (let i = 0; i < 500; i++) {
        text = await (await fetch(job.metricsUrl!)).text();
        if (total(text, 'agent_credit_episodes_credited_total') >= scrapes.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(total(text, 'agent_credit_episodes_credited_total')).toBe(scrapes.length);
      scrapes.push(text);
    }
    expectCounterInvariants(scrapes);
    const last = scrapes.at(-1)!;
    for (const g of ['episodes', 'failures', 'first_errors', 'harmful_steps', 'redundant_steps', 'repairs']) expect(series(last, `agent_credit_agent_${g}_total`), g).toEqual(series(last, `agent_credit_agent_${g}`));
    expect(Math.max(...series(last, 'agent_credit_agent_failures_total').values())).toBeGreaterThan(0);
  });
});

describe('telemetry.maxAgents', () => {
  let job: LocalJob;
  beforeAll(async () => {
    const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 0, maxAgents: 2 } } });
    job = await startLocalJob(config, { logger: createLogger('silent') });
  });
  afterAll(() => job?.stop());

  it('bounds the per-agent series of a running job and counts the agents dropped for it on /metrics (before: 1,000 fixed, and the drops were nowhere)', async () => {
    const scrape = async () => (await fetch(job.metricsUrl!)).text();
    expect(total(await scrape(), 'agent_credit_agents_dropped_total')).toBe(0); // there from the start, for alerts
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 5 });
    await sendScenario(job.receiverUrl, run);
    let text = '';
    for (let i = 0; i < 500 && total(text, 'agent_credit_episodes_credited_total') < 1; i++) {
      text = await scrape();
      await new Promise((r) => setTimeout(r, 20));
    }
    const credited = run.expected.agents.length;
    expect(credited).toBeGreaterThan(2);
    expect(series(text, 'agent_credit_agent_episodes').size).toBe(2);
    // a drop each time an agent beyond the cap comes (back): at least one per agent not listed
    expect(total(text, 'agent_credit_agents_dropped_total')).toBeGreaterThanOrEqual(credited - 2);
    expect(text).toMatch(/^# TYPE agent_credit_agents_dropped_total counter$/m);
  });
});
