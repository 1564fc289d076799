/**
 * An episode whose parent ids loop through its root (corrupt telemetry) still gets credit: the
 * cycle is broken at its earliest span (the root), the system evaluation on that span counts,
 * and the episode says what happened in its warnings. Before, it closed without credit.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

const comparable = (events: CreditEvent[]) =>
  events.map((e) => (e.event_type === 'episode_credit' ? { type: e.event_type, outcome: e.outcome, agents: e.agents } : { type: e.event_type, id: e.event_id }));

describe('processEpisode on parent cycles', () => {
  for (const convention of ['genai', 'openinference', 'openllmetry'] as const) {
    it(`credits a ${convention} run whose root's parent is its own child as if the link were absent`, async () => {
      const run = await generateScenario({ kind: 'success', convention, seed: 11 });
      const asm = new EpisodeAssembler({});
      asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
      if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
      const [episode] = asm.flush('shutdown');
      expect(episode).toBeDefined();
      const root = episode!.spans.find((s) => s.parentSpanId === undefined)!;
      const child = episode!.spans.find((s) => s.parentSpanId === root.spanId)!;
      const looped = { ...episode!, spans: episode!.spans.map((s) => (s === root ? { ...s, parentSpanId: child.spanId } : s)) };

      const skipped: string[] = [];
      const before = await processEpisode(episode!);
      const after = await processEpisode(looped, { onSkipped: (_e, err) => skipped.push(err.message) });
      expect(skipped).toEqual([]);
      expect(after.length).toBe(before.length);
      expect(comparable(after)).toEqual(comparable(before));
      const head = after[0]!;
      expect(head.event_type).toBe('episode_credit');
      if (head.event_type === 'episode_credit') expect(head.diagnostics.warnings.join('\n')).toMatch(/1 parent cycle\(s\).*earliest span/);
    });
  }
});
