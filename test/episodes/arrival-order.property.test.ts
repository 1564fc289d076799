/**
 * Property: the events of a run do not depend on how its telemetry arrives — spans in any order,
 * split into any requests, some re-delivered, the judge's records in any order within their
 * request, that request before the spans (then in export order: a received root is an ended root)
 * or after them. Events equal modulo `emitted_at_ms` and `diagnostics.duplicate_spans` (which
 * counts the re-deliveries). Runs recorded with the real OTel SDK (src/scenarios), OTLP protobuf,
 * through the assembler and processEpisode with the job's default configuration.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { assemblerHooksOf, processOptionsOf } from '../../src/runtime/local-stages.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

const config = loadConfig({ env: {} }).config;
const options = processOptionsOf(config);

interface Run {
  spans: Span[];
  evaluations: Evaluation[];
  events: string[];
}

async function eventsOf(spanRequests: readonly (readonly Span[])[], evaluations: readonly Evaluation[], evaluationsFirst: boolean): Promise<string[]> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const asm = new EpisodeAssembler(config.episodes, clock, assemblerHooksOf(config));
  const closed = [];
  if (evaluationsFirst) asm.addEvaluations(evaluations);
  for (const request of spanRequests) {
    asm.addSpans(request);
    clock.advance(1);
    closed.push(...asm.tick());
  }
  if (!evaluationsFirst) asm.addEvaluations(evaluations);
  closed.push(...asm.tick(), ...asm.flush('shutdown'));
  const out: string[] = [];
  for (const episode of closed) {
    for (const e of await processEpisode(episode, options)) {
      const event = { ...e, emitted_at_ms: 0 };
      if (event.event_type === 'episode_credit') event.diagnostics = { ...event.diagnostics, duplicate_spans: 0 };
      out.push(JSON.stringify(event));
    }
  }
  return out;
}

let runs: Run[];
beforeAll(async () => {
  const shapes = [
    { kind: 'saboteur', convention: 'genai', agents: 4 },
    { kind: 'saboteur', convention: 'openllmetry', agents: 8 },
    { kind: 'error-retry', convention: 'openinference', agents: 3 },
    { kind: 'redundant', convention: 'genai', agents: 5 },
  ] as const;
  runs = [];
  for (const [i, shape] of shapes.entries()) {
    const run = await generateScenario({ ...shape, seed: 31 + i });
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const evaluations = evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto'));
    runs.push({ spans, evaluations, events: await eventsOf([spans], evaluations, false) });
  }
});

/** Indices 0..n-1 shuffled, some repeated (re-deliveries), cut into requests of 1–6. */
const arrival = (n: number, shuffled: boolean) =>
  fc
    .tuple(
      shuffled ? fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }) : fc.constant([...Array(n).keys()]),
      fc.array(fc.nat({ max: n - 1 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
    )
    .map(([order, again, sizes]) => {
      const seq = [...order, ...again];
      const requests: number[][] = [];
      for (let i = 0, k = 0; i < seq.length; k++) {
        const size = sizes[k % sizes.length]!;
        requests.push(seq.slice(i, i + size));
        i += size;
      }
      return requests;
    });

describe('property: arrival order does not change a run\'s events', () => {
  it('spans shuffled, re-delivered and split, the judge\'s records in any order, after the spans', async () => {
    expect(runs.every((r) => r.events.length > 0)).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: runs.length - 1 }).chain((r) => fc.tuple(fc.constant(r), arrival(runs[r]!.spans.length, true), fc.shuffledSubarray(runs[r]!.evaluations, { minLength: runs[r]!.evaluations.length, maxLength: runs[r]!.evaluations.length }))), async ([r, requests, evaluations]) => {
        const run = runs[r]!;
        expect(await eventsOf(requests.map((req) => req.map((i) => run.spans[i]!)), evaluations, false)).toEqual(run.events);
      }),
      { numRuns: 40 },
    );
  });

  it('the judge\'s records (in any order) before the spans, which come in export order, split and re-delivered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: runs.length - 1 }).chain((r) => fc.tuple(fc.constant(r), arrival(runs[r]!.spans.length, false), fc.shuffledSubarray(runs[r]!.evaluations, { minLength: runs[r]!.evaluations.length, maxLength: runs[r]!.evaluations.length }))), async ([r, requests, evaluations]) => {
        const run = runs[r]!;
        expect(await eventsOf(requests.map((req) => req.map((i) => run.spans[i]!)), evaluations, true)).toEqual(run.events);
      }),
      { numRuns: 40 },
    );
  });
});
