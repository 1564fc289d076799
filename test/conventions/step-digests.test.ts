/**
 * Digests computed on read (conventions/step-digests.ts): processEpisode builds its steps with
 * `digests: 'on-read'`, so a step's digests are hashed only when the credit engine or the events
 * read them, and message outputs are compared by their texts. The events must be those of the
 * eager path (creditInputOf → creditEpisode → outcomeToEvents) byte for byte, and a deferred
 * digest the one the eager build sets.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import { inputDigestOf, outputDigestOf, releaseDeferredDigests, sameOutputKeys } from '../../src/conventions/step-digests.js';
import { creditEpisode, type GameFactory, type PrefixScorer } from '../../src/credit/index.js';
import type { AgentStep } from '../../src/model/agents.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { creditInputOf, processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario, SCENARIO_CONVENTIONS, SCENARIO_KINDS } from '../../src/scenarios/index.js';
import { INSTRUMENTATIONS, runSpans } from './fixtures.js';

async function episodesOf(kind: (typeof SCENARIO_KINDS)[number], convention: (typeof SCENARIO_CONVENTIONS)[number], seed: number): Promise<Episode[]> {
  const run = await generateScenario({ kind, convention, seed });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  return asm.flush('shutdown');
}

describe('processEpisode with digests computed on read', () => {
  it('publishes the events of the eager path, preference pairs (their digests) included', async () => {
    let pairs = 0;
    for (const kind of SCENARIO_KINDS) {
      for (const convention of SCENARIO_CONVENTIONS) {
        for (const ep of await episodesOf(kind, convention, 3)) {
          const events = await processEpisode(ep, { now: () => 7 });
          const eager = outcomeToEvents(await creditEpisode(creditInputOf(ep), {}), { emittedAtMs: 7 });
          expect(JSON.stringify(events), `${kind} ${convention}`).toBe(JSON.stringify([eager.episode, ...eager.rewards, ...eager.pairs]));
          pairs += eager.pairs.filter((p) => p.rejected.input_digest !== undefined).length;
        }
      }
    }
    expect(pairs).toBeGreaterThan(0);
  });

  it('hands a pluggable game and a prefix scorer (user code) the steps with their digests set, as creditInputOf does', async () => {
    const digests = (steps: readonly AgentStep[]) => steps.map((s) => [s.stepId, s.inputDigest, s.outputDigest]);
    let games = 0;
    let scored = 0;
    for (const kind of SCENARIO_KINDS) {
      for (const ep of await episodesOf(kind, SCENARIO_CONVENTIONS[0]!, 3)) {
        const eager = digests(creditInputOf(ep).steps);
        const eagerById = new Map(eager.map((d) => [d[0], d]));
        // seen outside: creditEpisode turns a throw in either into a warning
        let gameSaw: unknown[] | undefined;
        let scorerSaw: unknown[] | undefined;
        const gameFactory: GameFactory = (input, ctx) => {
          gameSaw = digests(input.steps);
          return { agentGame: { id: 'sum', players: ctx.agentIds, value: async (c) => c.reduce((a, b) => a + b, 0) } };
        };
        const prefixScorer: PrefixScorer = (messages) => {
          scorerSaw = digests(messages);
          return messages.map(() => 0.5);
        };
        await processEpisode(ep, { now: () => 7, credit: { gameFactory } });
        await processEpisode(ep, { now: () => 7, credit: { prefixScorer } });
        if (gameSaw !== undefined) {
          games++;
          expect(gameSaw).toEqual(eager);
        }
        if (scorerSaw !== undefined) {
          scored++;
          expect(scorerSaw).toEqual(scorerSaw.map((d) => eagerById.get((d as string[])[0])));
        }
      }
    }
    expect(games).toBeGreaterThan(0);
    expect(scored).toBeGreaterThan(0);
  });
});

describe.each(INSTRUMENTATIONS)('%s fixture steps built with digests on read', (inst) => {
  const runs = runSpans(inst);

  it('leave the digests unset until read, then have the eager ones; unread ones stay unset after release', () => {
    for (const spans of runs) {
      const eager = stepsFromSpans(spans).steps;
      const deferred = stepsFromSpans(spans, { digests: 'on-read' }).steps;
      expect(deferred.length).toBe(eager.length);
      expect(deferred.some((s, i) => eager[i]!.inputDigest !== undefined && s.inputDigest === undefined)).toBe(true);
      deferred.forEach((s, i) => {
        const e = eager[i]!;
        expect({ ...s, inputDigest: e.inputDigest, outputDigest: e.outputDigest }).toEqual(e);
        if (i % 2 === 0) {
          expect(inputDigestOf(s)).toBe(e.inputDigest);
          expect(s.inputDigest).toBe(e.inputDigest); // stored on the step
        }
      });
      releaseDeferredDigests(deferred);
      deferred.forEach((s, i) => {
        expect(outputDigestOf(s)).toBeUndefined();
        if (i % 2 === 1) expect(inputDigestOf(s)).toBeUndefined();
      });
    }
  });

  it('compare outputs by text while every digest is deferred, by digest otherwise (equal keys = equal digests)', () => {
    for (const spans of runs) {
      const eager = stepsFromSpans(spans).steps;
      const deferred = stepsFromSpans(spans, { digests: 'on-read' }).steps;
      const byText = sameOutputKeys(deferred);
      expect(sameOutputKeys(eager)).toEqual(eager.map((s) => s.outputDigest));
      for (let i = 0; i < eager.length; i++) {
        expect(byText[i] === undefined).toBe(eager[i]!.outputDigest === undefined);
        for (let j = 0; j < i; j++) if (byText[i] !== undefined && byText[j] !== undefined) expect(byText[i] === byText[j]).toBe(eager[i]!.outputDigest === eager[j]!.outputDigest);
      }
      // a digest already read: every key is a digest (a text is never compared with one)
      const withOutput = deferred.findIndex((s) => s.outputDigest === undefined && byText[deferred.indexOf(s)] !== undefined);
      expect(withOutput).toBeGreaterThanOrEqual(0);
      outputDigestOf(deferred[withOutput]!);
      expect(sameOutputKeys(deferred)).toEqual(eager.map((s) => s.outputDigest));
      releaseDeferredDigests(deferred);
    }
  });
});

describe('digests on read through the package entry agent-credit/conventions', () => {
  it('exports what reads and releases them', async () => {
    const conventions = await import('../../src/conventions/index.js');
    const spans = runSpans('genai')[0]!;
    const steps = conventions.stepsFromSpans(spans, { digests: 'on-read' }).steps;
    const eager = conventions.stepsFromSpans(spans).steps;
    const read = steps.findIndex((s) => s.inputDigest === undefined && eager[steps.indexOf(s)]!.inputDigest !== undefined);
    expect(read).toBeGreaterThanOrEqual(0);
    expect(conventions.inputDigestOf(steps[read]!)).toBe(eager[read]!.inputDigest);
    // the texts are held (in a module-global Map) until released: the entry exported no way to
    // release them, and every step a caller built 'on-read' stayed in memory for good
    const unread = steps.findIndex((s, i) => s.outputDigest === undefined && eager[i]!.outputDigest !== undefined);
    expect(unread).toBeGreaterThanOrEqual(0);
    conventions.releaseDeferredDigests(steps);
    expect(conventions.outputDigestOf(steps[unread]!)).toBeUndefined(); // released: not held any more
    expect(conventions.inputDigestOf(steps[read]!)).toBe(eager[read]!.inputDigest); // a digest read stays on its step
  });
});
