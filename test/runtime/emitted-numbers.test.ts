/**
 * The numbers of emitted events under awkward inputs, end to end (generated OTLP → episodes →
 * processEpisode → events): what the event schema promises of them holds — an `exact` estimate has
 * ci_low = credit = ci_high.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { buildLocalStages, type LocalStages } from '../../src/runtime/local-stages.js';
import { processEpisode, type ProcessEpisodeOptions } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import type { ScenarioKind } from '../../src/scenarios/types.js';

async function episodeOf(kind: ScenarioKind, seed: number, agents?: number): Promise<Episode> {
  const asm = new EpisodeAssembler({});
  const run = await generateScenario({ kind, convention: 'genai', seed, ...(agents !== undefined ? { agents } : {}) });
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [episode] = asm.flush('shutdown');
  return episode!;
}

async function episodeCredit(episode: Episode, options: ProcessEpisodeOptions): Promise<EpisodeCredit> {
  const events = await processEpisode(episode, options);
  const head = events[0];
  if (head?.event_type !== 'episode_credit') throw new Error('no episode_credit');
  return head;
}

describe('estimator status and intervals in episode_credit', () => {
  it.each(['success', 'error-retry', 'failure'] as const)('svarm on a 3-agent %s run: every stratum evaluated, status exact, and ci_low = credit = ci_high', async (kind) => {
    const ec = await episodeCredit(await episodeOf(kind, 1), { credit: { estimator: 'svarm' } });
    expect(ec.agents).toHaveLength(3);
    expect(ec.estimator).toMatchObject({ name: 'svarm', status: 'exact' });
    for (const a of ec.agents) {
      expect(a.ci_low).toBe(a.credit);
      expect(a.ci_high).toBe(a.credit);
    }
  });
});

const HUGE_VALUES = fileURLToPath(new URL('./modules/huge-values.mjs', import.meta.url));

const open: LocalStages[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe('a module value function returning huge finite values (±1e308)', () => {
  for (const estimator of ['kernel', 'permutation', 'regression-adjusted'] as const) {
    for (const players of ['agents', 'messages'] as const) {
      it(`${estimator}, module.players ${players}: the episode is credited — partial, flagged, finite and conserving — not failed as a credit-engine bug`, async () => {
        const config = loadConfig({ env: {}, overrides: { credit: { game: 'module', estimator, budget: 60, module: { path: HUGE_VALUES, players } } } }).config;
        const stages = await buildLocalStages(config);
        open.push(stages);
        // 6 agents at budget 60: fewer than their 2^6 coalitions, so the sampler samples (a run that
        // evaluates every coalition reports their exact Shapley value, finite here)
        const events = await stages.processEpisode(await episodeOf('success', 2, 6));
        const ec = events[0] as EpisodeCredit;
        expect(ec.event_type).toBe('episode_credit');
        expect(ec.estimator.status).toBe('partial');
        expect(ec.diagnostics.warnings.join('\n')).toMatch(/overflow the \S+ estimator's arithmetic/);
        // δ_m of such a message game overflow too: an equal split, said so
        if (players === 'messages') {
          expect(ec.game.message_effects).toBe('none');
          expect(ec.diagnostics.warnings.join('\n')).toMatch(/message game values overflow/);
        }
        const json = events.map((e) => JSON.stringify(e)).join('\n');
        expect(json).not.toMatch(/null/);
        const sum = ec.agents.reduce((a, x) => a + x.credit, 0);
        expect(sum).toBeCloseTo(ec.system_value - ec.baseline, 9);
        for (const a of ec.agents) {
          expect(a.ci_low).toBeLessThanOrEqual(a.credit);
          expect(a.credit).toBeLessThanOrEqual(a.ci_high);
          const rewards = events.filter((e) => e.event_type === 'message_reward' && e.agent_id === a.agent_id);
          expect(rewards.reduce((x, r) => x + (r.event_type === 'message_reward' ? r.reward : 0), 0)).toBeCloseTo(a.credit, 9);
        }
      });
    }
  }
});

describe('a normalization range wider than a double can hold', () => {
  it('{min: -1e308, max: 1e308} is refused naming the key — it normalized a score of 0 (the middle) to R = 0, a failure', async () => {
    const episode = await episodeOf('success', 3);
    const options: ProcessEpisodeOptions = { credit: { normalization: { task_success: { min: -1e308, max: 1e308 } } } };
    await expect(processEpisode({ ...episode, evaluations: episode.evaluations.map((e) => (e.name === 'task_success' ? { ...e, score: 0 } : e)) }, options)).rejects.toThrow(/normalization\.task_success.*too wide: max − min/);
    // the same range's halves are fine: the middle is R = 0.5
    const half = await episodeCredit({ ...episode, evaluations: episode.evaluations.map((e) => (e.name === 'task_success' ? { ...e, score: 0 } : e)) }, { credit: { normalization: { task_success: { min: -5e307, max: 5e307 } } } });
    expect(half.system_value).toBe(0.5);
  });

  it('the config file refuses it too, naming the key', () => {
    expect(() => loadConfig({ env: {}, overrides: { credit: { normalization: { task_success: { min: -1e308, max: 1e308 } } } } })).toThrow(/credit\.normalization\.task_success.*too wide/);
  });
});
