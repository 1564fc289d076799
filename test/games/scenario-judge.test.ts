import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceJudge, type ReferenceJudge } from '../../examples/reference-judge/judge.js';
import { stepsFromSpans } from '../../src/conventions/index.js';
import { HttpJudgeClient } from '../../src/credit/games/http-judge.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { generateScenario, SCENARIO_CONVENTIONS } from '../../src/scenarios/index.js';
import { allCoalitions, exactShapley } from './episode.js';

let judge: ReferenceJudge;
beforeAll(async () => {
  judge = await startReferenceJudge();
});
afterAll(async () => {
  await judge.close();
});

/** Generated run → OTLP bytes → decode → conventions → http judge game over the agents. */
async function shapleyOf(kind: 'success' | 'redundant' | 'saboteur', convention: (typeof SCENARIO_CONVENTIONS)[number], protocol: 'mask' | 'null') {
  const run = await generateScenario({ kind, convention, seed: 17 });
  judge.register(run.traceId, { required: run.expected.requiredContent, forbidden: run.expected.forbiddenContent });
  const { steps, agents } = stepsFromSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  // Players are agent ids (gen_ai.agent.id when present); report credit by agent name.
  const nameOf = new Map(agents.map((a) => [a.agentId, a.agentName]));
  const client = new HttpJudgeClient({ url: judge.url, removalProtocol: protocol });
  const game = client.game({ episodeId: run.traceId, steps });
  const n = game.players.length;
  const values = await game.valueMany(allCoalitions(n));
  const phi = exactShapley(n, (m) => values[m]!);
  return { run, grand: values[2 ** n - 1]!, empty: values[0]!, credit: Object.fromEntries(game.players.map((p, i) => [nameOf.get(p), phi[i]!])) };
}

describe('http judge on generated scenarios', () => {
  for (const convention of SCENARIO_CONVENTIONS) {
    it(`${convention}: v(N) equals the emitted evaluation; cooperation shares credit`, async () => {
      const { run, grand, empty, credit } = await shapleyOf('success', convention, 'mask');
      expect(grand).toBe(run.expected.score);
      expect(empty).toBe(0);
      for (const agent of run.expected.agents) expect(credit[agent]!).toBeGreaterThan(0);
    });
  }

  it('redundant agent gets zero credit; saboteur gets negative credit (both removal protocols)', async () => {
    for (const protocol of ['mask', 'null'] as const) {
      const r = await shapleyOf('redundant', 'genai', protocol);
      expect(r.credit[r.run.expected.redundant!]).toBeCloseTo(0, 12);
      const s = await shapleyOf('saboteur', 'openinference', protocol);
      expect(s.grand).toBe(s.run.expected.score);
      expect(s.credit[s.run.expected.saboteur!]!).toBeLessThan(0);
    }
  });
});
