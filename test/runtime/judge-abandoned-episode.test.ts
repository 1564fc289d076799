/**
 * An episode whose credit gave up (credit.timeoutMs) must not keep the shared judge client busy:
 * its calls in flight and waiting for a slot are cut with it, so the next episode is judged.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { buildLocalStages } from '../../src/runtime/local-stages.js';
import { generateScenario } from '../../src/scenarios/index.js';

let slowEpisode = '';
let judge: Server;
let url = '';
beforeAll(async () => {
  judge = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { episode_id: string; coalition: string[] };
      const answer = () => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score: body.coalition.length / 10 }));
      };
      if (body.episode_id === slowEpisode) setTimeout(answer, 1_500).unref();
      else answer();
    });
  });
  await new Promise<void>((r) => judge.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(judge.address() as { port: number }).port}/judge`;
});
afterAll(() => new Promise<void>((r) => judge.close(() => r())));

async function twoEpisodes(): Promise<Episode[]> {
  const asm = new EpisodeAssembler({});
  for (const seed of [1, 2]) {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed });
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  }
  return asm.flush('shutdown');
}

describe('http judge: an episode past credit.timeoutMs', () => {
  it('cuts its judge calls, so the next episode gets the client and is credited in full', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        'credit.game': 'http',
        'credit.judge': { url, batch: 'never', concurrency: 1, retries: 0, timeoutMs: 5_000 },
        // below the slow judge's 1.5 s, and room for the next episode's calls on a loaded machine
        'credit.timeoutMs': 1_000,
        'runtime.creditWorkers': 0,
      },
    }).config;
    const stages = await buildLocalStages(config);
    try {
      const [a, b] = await twoEpisodes();
      slowEpisode = a!.episodeId;
      const first = await stages.processEpisode(a!);
      const head = (events: Awaited<ReturnType<typeof stages.processEpisode>>) => events.find((e) => e.event_type === 'episode_credit') as { estimator: { status: string } } | undefined;
      expect(head(first)?.estimator.status).toBe('partial');
      const second = await stages.processEpisode(b!);
      // partial without the fix: b's calls waited behind a's, still sent one by one for 1.5 s each,
      // past b's own credit.timeoutMs (a wall-time assertion here failed on a loaded machine)
      expect(head(second)?.estimator.status).not.toBe('partial');
      // the cut calls are what made a's credit partial: counted, and the last error says why (they
      // were left out, and a judge slower than credit.timeoutMs made every episode partial silently)
      expect(stages.gameStats!().valueFunctionFailures).toBeGreaterThan(0);
      expect(stages.gameStats!().valueFunctionFailures).toBeLessThanOrEqual(stages.gameStats!().valueFunctionCalls!);
    } finally {
      await stages.close();
    }
  });
});
