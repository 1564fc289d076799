/**
 * Issue 6: "a timing-out judge gives a partial, flagged result without stalling other episodes".
 * The http game is configured the way a user does (config → gameFactoryOf → processEpisode), the
 * judge answers one episode's coalitions at once and never answers the other's: the hanging
 * episode ends as a `partial` result with a note at the credit timeout, and the other episode's
 * credit completes first, unaffected.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { validateConfig } from '../../src/config/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { gameFactoryOf, processOptionsOf } from '../../src/runtime/local-stages.js';
import { generateScenario } from '../../src/scenarios/index.js';

let server: Server;
let url: string;
let hangingEpisode = '';
const held: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { episode_id: string; coalition: string[] };
      if (request.episode_id === hangingEpisode) {
        held.push(() => res.destroy()); // never answered while the test runs
        return;
      }
      // A responsive judge: the score grows with the coalition (deterministic).
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ score: request.coalition.length / 10 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`;
});

afterAll(async () => {
  for (const release of held) release();
  await new Promise<void>((r) => server.close(() => r()));
});

async function episodeOf(seed: number): Promise<Episode> {
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [episode] = [...asm.tick(), ...asm.flush()];
  return episode!;
}

describe('http judge game in the pipeline', () => {
  it('a judge that never answers one episode gives it a partial, flagged result; the other episode is credited first', async () => {
    const [slow, fast] = [await episodeOf(11), await episodeOf(12)];
    hangingEpisode = slow.episodeId;
    const config = validateConfig({
      credit: { game: 'http', timeoutMs: 1_500, judge: { url, batch: 'never', timeoutMs: 400, retries: 1, backoffMs: 10 } },
    });
    const game = await gameFactoryOf(config);
    const options = processOptionsOf(config, game.gameFactory);

    const finished: string[] = [];
    const credit = (e: Episode) =>
      processEpisode(e, options).then((events) => {
        finished.push(e.episodeId);
        return events[0] as EpisodeCredit;
      });
    const [slowCredit, fastCredit] = await Promise.all([credit(slow), credit(fast)]);

    expect(finished).toEqual([fast.episodeId, slow.episodeId]);
    expect(fastCredit.game.kind).toBe('http');
    expect(fastCredit.estimator.status).not.toBe('partial');
    expect(slowCredit.estimator.status).toBe('partial');
    expect(slowCredit.estimator.note).toBeTruthy();
    // Still a usable, finite, efficient result: credits sum to v(N) - v(∅).
    const sum = slowCredit.agents.reduce((s, a) => s + a.credit, 0);
    expect(Number.isFinite(sum)).toBe(true);
    expect(sum).toBeCloseTo(slowCredit.system_value - slowCredit.baseline, 9);
    expect(game.stats?.().valueFunctionCalls).toBeGreaterThan(0);
  });
});
