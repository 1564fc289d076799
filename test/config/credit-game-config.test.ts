import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceJudge, type ReferenceJudge } from '../../examples/reference-judge/judge.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { CreditEventSchema } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { buildLocalStages } from '../../src/runtime/local-stages.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { tempDir } from '../support/temp-dir.js';

/** One closed episode of a generated run, decoded from its real OTLP bytes. */
async function episodeOf(seed: number, kind: 'redundant' | 'failure' = 'redundant') {
  const run = await generateScenario({ kind, convention: 'genai', seed });
  const assembler = new EpisodeAssembler({});
  assembler.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  assembler.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [episode] = [...assembler.tick(), ...assembler.flush('shutdown')];
  return episode!;
}

describe('credit game chosen by the config file', () => {
  let judge: ReferenceJudge;
  beforeAll(async () => {
    judge = await startReferenceJudge({ defaultRubric: { required: ['Plan:'] } });
  });
  afterAll(async () => {
    await judge.close();
  });

  it('game: http with credit.judge.url scores coalitions on the judge and reports its calls', async () => {
    const { config } = loadConfig({ text: `credit:\n  game: http\n  judge:\n    url: ${judge.url}\n    timeoutMs: 5000\n`, env: {} });
    const stages = await buildLocalStages(config);
    const events = await stages.processEpisode(await episodeOf(11));
    const credit = events.map((e) => CreditEventSchema.parse(e)).find((e) => e.event_type === 'episode_credit');
    expect(credit?.event_type === 'episode_credit' && credit.game.kind).toBe('http');
    expect(judge.stats.scored).toBeGreaterThan(0);
    expect(stages.gameStats?.().valueFunctionCalls).toBeGreaterThan(0);
  });

  it('game: module loads the user function from credit.module.path', async () => {
    const dir = tempDir('ac-module-');
    const file = join(dir, 'value.mjs');
    // v(S) = |S| / n: every agent's Shapley value is 1/n.
    writeFileSync(file, 'export function value(coalition, episode) { return coalition.length / episode.players.length; }\n');
    const { config } = loadConfig({ text: `credit:\n  game: module\n  module:\n    path: ${file}\n`, env: {} });
    const stages = await buildLocalStages(config);
    const events = await stages.processEpisode(await episodeOf(12));
    const credit = events.find((e) => e.event_type === 'episode_credit');
    expect(credit?.event_type === 'episode_credit' && credit.game.kind).toBe('module');
  });

  it('judge.players: messages also asks the judge per message (δ_m); it sent every coalition empty — players were agent ids matched against step ids', async () => {
    const episode = await episodeOf(13);
    const run = async (players: string) => {
      const { config } = loadConfig({ text: `credit:\n  game: http\n  judge:\n    url: ${judge.url}\n    players: ${players}\n`, env: {} });
      const events = (await (await buildLocalStages(config)).processEpisode(episode)).map((e) => CreditEventSchema.parse(e));
      const credit = events.find((e) => e.event_type === 'episode_credit')!;
      const rewards = events.filter((e) => e.event_type === 'message_reward');
      return { credit: credit.event_type === 'episode_credit' ? credit : undefined, rewards };
    };
    const byAgents = await run('agents');
    const byMessages = await run('messages');
    // the agent game is the same judge over agent coalitions either way
    expect(byMessages.credit!.agents.map((a) => [a.agent_id, a.credit])).toEqual(byAgents.credit!.agents.map((a) => [a.agent_id, a.credit]));
    expect(byAgents.credit!.diagnostics.warnings.join('\n')).toContain('no message game');
    expect(byMessages.credit!.diagnostics.warnings.join('\n')).not.toContain('no message game');
    // rubric: required 'Plan:' — only the message that writes the plan moves the judge's score
    const deltas = byMessages.rewards.map((r) => (r.event_type === 'message_reward' ? r.marginal_effect : NaN));
    const R = byMessages.credit!.system_value - byMessages.credit!.baseline;
    expect(deltas.filter((d) => Math.abs(d - R) < 1e-9)).toHaveLength(1);
    expect(deltas.filter((d) => Math.abs(d) < 1e-9)).toHaveLength(deltas.length - 1);
    expect(byAgents.rewards.every((r) => r.event_type === 'message_reward' && r.marginal_effect === 0)).toBe(true);
  });

  it('module.players: messages calls the function with step ids as well (episode.playerKind says which)', async () => {
    const dir = tempDir('ac-module-msg-');
    const file = join(dir, 'value.mjs');
    // agents: |S| / n; messages: 1 when the first message is kept (it alone matters)
    writeFileSync(
      file,
      'export function value(coalition, episode) {\n' +
        "  if (episode.playerKind === 'messages') return coalition.includes(episode.players[0]) ? 1 : 0;\n" +
        '  return coalition.length / episode.players.length;\n}\n',
    );
    const { config } = loadConfig({ text: `credit:\n  game: module\n  module:\n    path: ${file}\n    players: messages\n`, env: {} });
    const events = (await (await buildLocalStages(config)).processEpisode(await episodeOf(14))).map((e) => CreditEventSchema.parse(e));
    const credit = events.find((e) => e.event_type === 'episode_credit')!;
    const rewards = events.filter((e) => e.event_type === 'message_reward');
    expect(credit.event_type === 'episode_credit' && credit.diagnostics.warnings.join('\n')).not.toContain('no message game');
    const R = credit.event_type === 'episode_credit' ? credit.system_value - credit.baseline : NaN;
    // δ = v(N) − v(N∖m) with v(N) anchored to R: R for the first message, R − 1 for the others
    const deltas = rewards.map((r) => (r.event_type === 'message_reward' ? r.marginal_effect : NaN));
    expect(deltas.filter((d) => Math.abs(d - R) < 1e-9)).toHaveLength(1);
    expect(deltas.filter((d) => Math.abs(d - (R - 1)) < 1e-9)).toHaveLength(deltas.length - 1);
  });

  it('prefixValues: message-game locates the first error where the message game\'s prefix value drops (before any error status)', async () => {
    const dir = tempDir('ac-module-prefix-');
    const file = join(dir, 'value.mjs');
    // messages: the run looks fine (0.6) until the second message is in it (0.1)
    writeFileSync(
      file,
      'export function value(coalition, episode) {\n' +
        "  if (episode.playerKind === 'messages') return coalition.includes(episode.players[1]) ? 0.1 : 0.6;\n" +
        '  return coalition.length / episode.players.length;\n}\n',
    );
    const episode = await episodeOf(15, 'failure');
    const events = async (prefix: string) => {
      const { config } = loadConfig({ text: `credit:\n  game: module\n  module:\n    path: ${file}\n    players: messages\n${prefix}`, env: {} });
      return (await (await buildLocalStages(config)).processEpisode(episode)).map((e) => CreditEventSchema.parse(e));
    };
    const firstErrorOf = (evs: Awaited<ReturnType<typeof events>>) => {
      const c = evs.find((e) => e.event_type === 'episode_credit');
      return c?.event_type === 'episode_credit' ? c.first_error : undefined;
    };
    const withPrefix = await events('  prefixValues: message-game\n');
    const without = await events('');
    const second = withPrefix.filter((e) => e.event_type === 'message_reward')[1]!;
    expect(firstErrorOf(withPrefix)).toMatchObject({ step_id: second.event_type === 'message_reward' ? second.step_id : '', evidence: ['prefix value drop 0.60→0.10'] });
    expect(firstErrorOf(without)?.evidence.join(' ')).toMatch(/status=error/);
  });

  it('prefixValues: message-game without a message game is a config error naming the fix', () => {
    const e = (text: string) => {
      try {
        loadConfig({ text, env: {} });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(e('credit:\n  prefixValues: message-game\n')).toContain('use credit.game http or module with players: messages');
    expect(e(`credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:59/\n  prefixValues: message-game\n`)).toContain('set credit.judge.players: messages');
  });

  it('a judge or module that credit.game does not use is a config error (it was ignored: the provenance game ran)', () => {
    expect(() => loadConfig({ text: 'credit:\n  judge:\n    url: http://127.0.0.1:8090/score\n', env: {} })).toThrow(
      /credit\.judge: credit\.judge is set but credit\.game is provenance, which does not call it: set credit\.game: http to use the judge, or remove credit\.judge/,
    );
    expect(() => loadConfig({ text: 'credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:8090/score\n  module:\n    path: examples/module-game/value.mjs\n', env: {} })).toThrow(
      /credit\.module: credit\.module is set but credit\.game is http, which does not load it: set credit\.game: module/,
    );
    // The environment names the game too.
    expect(() => loadConfig({ text: 'credit:\n  module:\n    path: examples/module-game/value.mjs\n', env: { AGENT_CREDIT_CREDIT_GAME: 'module' } })).not.toThrow();
  });

  it('game: http without a judge url is a config error naming credit.judge', () => {
    expect(() => loadConfig({ text: 'credit:\n  game: http\n', env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ text: 'credit:\n  game: http\n', env: {} })).toThrow(/credit\.judge: credit\.game is http: set credit\.judge\.url/);
    expect(() => loadConfig({ text: 'credit:\n  estimator: shapiq\n', env: {} })).toThrow(/credit\.estimator: expected one of "auto" \| "exact" \| "permutation" \| "kernel" \| "unbiased-kernel" \| "regression-adjusted" \| "tree-msr" \| "svarm", got "shapiq"/);
  });

  it('events report the removal protocol the game applies: the judge\'s own; the provenance game only masks (any other is a config error)', async () => {
    const { config } = loadConfig({ text: `credit:\n  game: http\n  judge:\n    url: ${judge.url}\n    timeoutMs: 5000\n    removalProtocol: "null"\n`, env: {} });
    const events = await (await buildLocalStages(config)).processEpisode(await episodeOf(13));
    const credit = events.find((e) => e.event_type === 'episode_credit');
    expect(credit?.event_type === 'episode_credit' && credit.game).toEqual({ kind: 'http', removal_protocol: 'null', players: 'agents', message_effects: 'none' });
    expect(() => loadConfig({ text: 'credit:\n  removalProtocol: replay\n', env: {} })).toThrow(/credit\.removalProtocol: the provenance game removes agents by masking their messages, so it can only be mask \(got replay\)/);
    expect(() => loadConfig({ text: `credit:\n  game: http\n  removalProtocol: "null"\n  judge:\n    url: ${judge.url}\n`, env: {} })).toThrow(
      /credit\.removalProtocol: credit\.removalProtocol is null but the judge applies credit\.judge\.removalProtocol \(mask\): set credit\.judge\.removalProtocol to null/,
    );
  });

  it('credit.removalProtocol replay: the error names where replay is done — a module game —, not credit.judge.removalProtocol replay, which the judge refuses (the errors of the http and provenance games sent the user there, and from there back)', () => {
    const errorOf = (text: string) => {
      try {
        loadConfig({ text, env: {} });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    const judge = '  judge:\n    url: http://127.0.0.1:8090/score\n';
    // what the old messages advised is refused
    expect(errorOf(`credit:\n  game: http\n  removalProtocol: replay\n${judge}    removalProtocol: replay\n`)).toMatch(/credit\.judge\.removalProtocol: expected one of "mask" \| "null", got "replay"/);
    const http = errorOf(`credit:\n  game: http\n  removalProtocol: replay\n${judge}`);
    expect(http).toMatch(/credit\.removalProtocol: the http judge applies mask or null \(credit\.judge\.removalProtocol\), not replay: leave credit\.removalProtocol out, or use credit\.game module/);
    const provenance = errorOf('credit:\n  removalProtocol: replay\n');
    expect(provenance).toMatch(/so it can only be mask \(got replay\): leave credit\.removalProtocol out, or use credit\.game module/);
    for (const m of [http, provenance]) expect(m).not.toMatch(/judge\.removalProtocol (to )?replay/);
    // what they advise now loads, and null still points at the judge
    expect(() => loadConfig({ text: 'credit:\n  game: module\n  removalProtocol: replay\n  module:\n    path: examples/module-game/value.mjs\n', env: {} })).not.toThrow();
    expect(errorOf('credit:\n  removalProtocol: "null"\n')).toContain('or use credit.game http with credit.judge.removalProtocol null');
  });
});
