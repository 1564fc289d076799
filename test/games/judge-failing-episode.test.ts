import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpJudgeClient } from '../../src/credit/games/http-judge.js';
import { AnchoredGame } from '../../src/credit/games/anchored-game.js';
import { CachedGame } from '../../src/credit/games/cached-game.js';
import { ExactEstimator } from '../../src/credit/shapley/exact.js';
import { codingEpisode } from './episode.js';

describe('an episode credited against a judge that is down', () => {
  it('stops sending coalitions once one has failed for good: the estimate is partial either way', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('down');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/judge`;
      const client = new HttpJudgeClient({ url, batch: 'never', retries: 1, backoffMs: 1, maxBackoffMs: 2, concurrency: 4 });
      const game = new CachedGame(new AnchoredGame(client.game(codingEpisode()), 1, 0), { concurrency: 8 });
      expect(game.players).toHaveLength(5);
      const estimate = await new ExactEstimator().estimate(game, {});
      expect(estimate.status).toBe('partial');
      // v(N) and v(∅) anchored (credit.anchor, the default), so the enumeration asks for the 30
      // others: at most the 8 in flight when the first failed and one handed a freed slot, 2
      // attempts each — all 30 (60 requests) without the fix
      expect(requests).toBeLessThanOrEqual(18);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
