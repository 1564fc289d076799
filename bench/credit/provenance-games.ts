/**
 * Provenance games from the scenario generator: a generated run (real OTel SDK spans, OTLP proto)
 * → decoded spans → agent steps (src/conventions) → the credit engine's provenance game
 * (src/credit/games/provenance.ts), a sum of unanimity games. Its agent game's terms become a
 * `unanimity` JSON spec (family `provenance`), so shapiq plays the very same game. The constant
 * term (v(∅)) is dropped: it shifts no Shapley value.
 */
import type { Agent, AgentStep } from '../../src/model/agents.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { GAME_SPEC_FORMAT, type GameSpec } from '../games/spec.js';
import { loadOptional } from '../lib/optional.js';

export interface ProvenanceGames {
  specs: GameSpec[];
  /** Why there are none (or fewer than asked), when so. */
  note?: string;
}

interface ProvenanceModule {
  provenanceGames: (
    episodeId: string,
    steps: readonly AgentStep[],
    agents: readonly Agent[],
    opts: { systemValue: number; baseline: number },
  ) => { agentGame: { players: readonly string[]; terms: readonly { carriers: readonly number[]; weight: number }[] } };
}

/** Scenario kinds used, one instance each per size (cooperation and sabotage shape the game differently). */
const PROVENANCE_KINDS = ['success', 'saboteur'] as const;

export async function provenanceGames(sizes: readonly number[], seed: number, kinds: readonly string[] = PROVENANCE_KINDS): Promise<ProvenanceGames> {
  const prov = await loadOptional<ProvenanceModule>('../src/credit/games/provenance.js');
  const conv = await loadOptional<{ stepsFromSpans: (s: unknown) => { steps: AgentStep[]; agents: Agent[] } }>('../src/conventions/index.js');
  const scen = await loadOptional<{ generateScenario: (o: unknown) => Promise<{ tracesProto: Uint8Array; expected: { score: number } }> }>('../src/scenarios/index.js');
  for (const m of [prov, conv, scen]) if ('missing' in m) return { specs: [], note: `Provenance games not included: ${m.missing}.` };
  if (!('mod' in prov) || !('mod' in conv) || !('mod' in scen)) return { specs: [] };
  const specs: GameSpec[] = [];
  const skipped: string[] = [];
  for (const n of sizes) {
    for (const kind of kinds) {
      const run = await scen.mod.generateScenario({ kind, convention: 'genai', seed: seed + n, agents: n });
      const spans = decodeTraces(run.tracesProto, 'otlp_proto');
      const { steps, agents } = conv.mod.stepsFromSpans(spans);
      const { agentGame } = prov.mod.provenanceGames(`bench-${kind}-${n}`, steps, agents, { systemValue: run.expected.score, baseline: 0 });
      const id = `provenance-${kind}-n${agentGame.players.length}`;
      if (agentGame.players.length !== n) skipped.push(`${id}: the ${kind} scenario with ${n} agents mapped to ${agentGame.players.length} agent players`);
      if (agentGame.players.length < 2 || agentGame.players.length > 64) continue;
      specs.push({
        format: GAME_SPEC_FORMAT,
        id,
        family: 'provenance',
        n: agentGame.players.length,
        source: `generateScenario(${kind}, genai, agents=${n}) → stepsFromSpans → provenanceGames().agentGame (${agentGame.terms.length} terms)`,
        kind: 'unanimity',
        terms: agentGame.terms.map((t) => ({ members: [...t.carriers], weight: t.weight })),
      });
    }
  }
  return { specs, note: skipped.length ? `Provenance games: ${skipped.join('; ')}.` : undefined };
}
