import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startReferenceJudge, type ReferenceJudge } from '../../examples/reference-judge/judge.js';
import { loadConfig } from '../../src/config/index.js';
import { HttpJudgeClient, JudgeError, judgeRequestFor, JudgeRequestSchema, defaultPlayers, MAX_RETRY_AFTER_MS, retryAfterOf } from '../../src/credit/games/http-judge.js';
import { allCoalitions, codingEpisode, exactShapley } from './episode.js';

const judges: ReferenceJudge[] = [];
async function judge(options: Parameters<typeof startReferenceJudge>[0] = {}): Promise<ReferenceJudge> {
  const j = await startReferenceJudge(options);
  judges.push(j);
  return j;
}
afterEach(async () => {
  await Promise.all(judges.splice(0).map((j) => j.close()));
});

const fast = { backoffMs: 1, maxBackoffMs: 5 };


/**
 * A judge on a free local port that answers each call with the next of `answers` (a status and its
 * Retry-After; a 429 or 5xx with `body`), then `{"score":0.5}`; `requests` counts the calls it got.
 */
async function answeringJudge(answers: { status: number; retryAfter?: string }[], body: string) {
  const judge = { answers, requests: 0, url: '', close: () => new Promise<void>((r) => srv.close(() => r())) };
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      judge.requests++;
      const a = answers.shift() ?? { status: 200 };
      if (a.status === 200) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"score":0.5}');
      res.writeHead(a.status, a.retryAfter !== undefined ? { 'retry-after': a.retryAfter } : {}).end(body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  judge.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/score`;
  return judge;
}

describe('judge requests (pure)', () => {
  const ep = codingEpisode();
  const players = defaultPlayers(ep.steps, 'agents');
  const base = { nullPlaceholder: '(no response)', players: 'agents' as const, evaluationName: 'task_success' };

  it('players are agents in order of their first message; structural steps are not messages', () => {
    expect(players).toEqual(['planner', 'coder', 'researcher', 'optimizer', 'reviewer']);
    expect(defaultPlayers(ep.steps, 'messages')).toHaveLength(8);
  });

  it('mask drops the messages of absent players; null keeps them in place with the placeholder', () => {
    const coalition = Uint8Array.from([1, 0, 0, 0, 1]);
    const masked = JudgeRequestSchema.parse(judgeRequestFor(ep, players, coalition, { ...base, removalProtocol: 'mask' }));
    expect(masked.coalition).toEqual(['planner', 'reviewer']);
    expect(masked.messages.map((m) => m.agent_id)).toEqual(['planner', 'reviewer', 'reviewer']);
    expect(masked.messages.every((m) => !m.masked)).toBe(true);
    const nulled = JudgeRequestSchema.parse(judgeRequestFor(ep, players, coalition, { ...base, removalProtocol: 'null' }));
    expect(nulled.messages).toHaveLength(8);
    const coder = nulled.messages.filter((m) => m.agent_id === 'coder');
    expect(coder.every((m) => m.masked && m.content === '(no response)')).toBe(true);
    expect(nulled.messages.find((m) => m.agent_id === 'planner')!.content).toBe('Plan: write parseCursor and encodeCursor.');
  });
});

describe('http judge game against the reference judge', () => {
  it('values match the judge rule; Shapley over them credits cooperation, zeroes the redundant agent and blames the saboteur', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const client = new HttpJudgeClient({ url: j.url, ...fast });
    const game = client.game(ep);
    const n = game.players.length;
    const values = await game.valueMany(allCoalitions(n));
    expect(values[0]).toBe(0);
    expect(values[2 ** n - 1]).toBeCloseTo(0.8); // 5/5 required, 1 forbidden
    const phi = exactShapley(n, (m) => values[m]!);
    const by = Object.fromEntries(game.players.map((p, i) => [p, phi[i]!]));
    expect(by.researcher).toBeCloseTo(0, 12);
    expect(by.optimizer).toBeLessThan(0);
    expect(by.coder).toBeGreaterThan(by.planner!);
    expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(values[2 ** n - 1]! - values[0]!, 12);
  });

  it('an agent game and a message game of one episode keep apart in the cache (their requests name agent ids vs step ids), and score the same transcript alike', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const client = new HttpJudgeClient({ url: j.url, ...fast });
    const agents = client.game({ ...ep, playerKind: 'agents' });
    const messages = client.game({ ...ep, playerKind: 'messages' });
    expect(messages.players).toEqual(defaultPlayers(ep.steps, 'messages'));
    // the planner alone = the planner's messages alone: the same transcript, so the same score,
    // but two calls — a judge may read the request's coalition field
    const planner = Uint8Array.from(agents.players.map((p) => (p === 'planner' ? 1 : 0)));
    const plannerMessages = Uint8Array.from(messages.players.map((id) => (ep.steps.find((s) => s.stepId === id)!.agentId === 'planner' ? 1 : 0)));
    const v = await agents.value(planner);
    const evaluations = client.stats().evaluations;
    expect(await messages.value(plannerMessages)).toBe(v);
    expect(client.stats().evaluations).toBe(evaluations + 1);
    // and each game's own repeats are cache hits
    await agents.value(planner);
    await messages.value(plannerMessages);
    expect(client.stats().evaluations).toBe(evaluations + 1);
  });

  it('a correction (same episode id, a late message) never reads a cached value of another transcript', async () => {
    // lateSpanPolicy: correct re-credits the episode under the same id with the late spans; the
    // cache key was the position bitmask of the kept messages, so "the first two messages" of
    // revision 1 hit revision 0's cached score although they are other messages.
    const full = codingEpisode();
    const ep = { ...full, steps: full.steps.filter((s) => s.outputText !== 'LGTM') }; // 7 messages; revision 1 has 8
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const client = new HttpJudgeClient({ url: j.url, ...fast, batch: 'never' });
    const keep = (game: { players: readonly string[] }, ids: readonly string[]) => Uint8Array.from(game.players.map((p) => (ids.includes(p) ? 1 : 0)));
    const [m0, m1] = [ep.steps[0]!.stepId, ep.steps[1]!.stepId];
    const rev0 = client.game({ ...ep, playerKind: 'messages' });
    expect(await rev0.value(keep(rev0, [m0, m1]))).toBeCloseTo(1 / 5, 12); // 'Plan:'
    const late = { ...ep.steps[0]!, stepId: 'e'.repeat(16), startTimeUnixNano: 1_005n, endTimeUnixNano: 1_006n, outputText: 'LGTM' };
    const rev1 = client.game({ ...ep, steps: [...ep.steps, late], playerKind: 'messages' });
    const calls = client.stats().calls;
    expect(await rev1.value(keep(rev1, [m0, late.stepId]))).toBeCloseTo(2 / 5, 12); // 'Plan:', 'LGTM'
    expect(client.stats().calls).toBe(calls + 1);
  });

  it('caches coalition values per episode: a second pass makes no judge calls', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, batch: false });
    const client = new HttpJudgeClient({ url: j.url, batch: 'never', ...fast });
    const game = client.game(ep);
    const all = allCoalitions(game.players.length);
    const first = await Promise.all(all.map((c) => game.value(c)));
    expect(j.stats.scored).toBe(all.length);
    const second = await Promise.all(all.map((c) => game.value(c)));
    expect(second).toEqual(first);
    expect(j.stats.scored).toBe(all.length);
    expect(client.stats()).toMatchObject({ evaluations: all.length, cacheHits: all.length, failures: 0 });
    // The cache key includes the episode id: another episode with the same players is evaluated anew.
    const other = codingEpisode('ep-2');
    j.register('ep-2', other.rubric);
    await client.game(other).value(all[3]!);
    expect(j.stats.scored).toBe(all.length + 1);
  });

  it('de-duplicates identical coalitions requested concurrently', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, delayMs: 20 });
    const client = new HttpJudgeClient({ url: j.url, batch: 'never', ...fast });
    const game = client.game(ep);
    const c = Uint8Array.from([1, 1, 0, 0, 1]);
    const vs = await Promise.all([game.value(c), game.value(c), game.value(c)]);
    expect(new Set(vs).size).toBe(1);
    expect(j.stats.scored).toBe(1);
  });

  it('valueMany sends batches when the judge has /batch, and falls back to single calls when it does not', async () => {
    const ep = codingEpisode();
    const all = allCoalitions(5);
    const withBatch = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const c1 = new HttpJudgeClient({ url: withBatch.url, maxBatchSize: 10, ...fast });
    const v1 = await c1.game(ep).valueMany(all);
    expect(withBatch.stats.batchRequests).toBe(Math.ceil(all.length / 10));
    expect(c1.stats().batchCalls).toBe(4);

    const noBatch = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, batch: false });
    const c2 = new HttpJudgeClient({ url: noBatch.url, maxBatchSize: 10, ...fast });
    const v2 = await c2.game(ep).valueMany(all);
    expect(v2).toEqual(v1);
    expect(noBatch.stats.batchRequests).toBe(0);
    expect(noBatch.stats.scored).toBe(all.length);
    // Only the first batch attempt hit the missing route; afterwards the client calls singly.
    await c2.game(codingEpisode('ep-x')).valueMany(all.slice(0, 3)).catch(() => undefined);
    expect(c2.stats().batchCalls).toBe(1);
  });

  it('respects the evaluation budget per episode and still serves cached values', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const client = new HttpJudgeClient({ url: j.url, budget: 3, batch: 'never', ...fast });
    const game = client.game(ep);
    const all = allCoalitions(5);
    for (const c of all.slice(0, 3)) await game.value(c);
    await expect(game.value(all[3]!)).rejects.toMatchObject({ kind: 'budget', retriable: false });
    expect(j.stats.scored).toBe(3);
    expect(await game.value(all[1]!)).toBeTypeOf('number');
    expect(game.evaluationsUsed).toBe(3);
    expect(client.stats().budgetExhausted).toBe(1);
    // valueMany beyond the budget evaluates (and caches) the affordable coalitions, then rejects.
    const game2 = client.game({ ...ep, episodeId: 'ep-b' });
    j.register('ep-b', ep.rubric);
    await expect(game2.valueMany(all.slice(0, 5))).rejects.toBeInstanceOf(JudgeError);
    expect(j.stats.scored).toBe(6);
    expect(await game2.valueMany(all.slice(0, 3))).toHaveLength(3);
    expect(j.stats.scored).toBe(6);
  });

  it('limits concurrent calls to the judge', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, delayMs: 15 });
    const client = new HttpJudgeClient({ url: j.url, concurrency: 2, batch: 'never', ...fast });
    const game = client.game(ep);
    await Promise.all(allCoalitions(5).slice(0, 10).map((c) => game.value(c)));
    expect(j.stats.scored).toBe(10);
    expect(j.stats.maxInFlight).toBeLessThanOrEqual(2);
    expect(j.stats.maxInFlight).toBe(2);
  });

  it('retries 5xx answers with backoff and succeeds once the judge recovers', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, failFirst: 2 });
    const client = new HttpJudgeClient({ url: j.url, retries: 3, batch: 'never', ...fast });
    const v = await client.game(ep).value(Uint8Array.from([1, 1, 1, 1, 1]));
    expect(v).toBeCloseTo(0.8);
    expect(j.stats.failedOnPurpose).toBe(2);
    expect(client.stats()).toMatchObject({ calls: 3, retries: 2, failures: 0, evaluations: 1 });
  });

  it('gives up after the configured retries with a retriable http error', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, failFirst: 10 });
    const client = new HttpJudgeClient({ url: j.url, retries: 2, batch: 'never', ...fast });
    await expect(client.game(ep).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({ kind: 'http', status: 503, retriable: true });
    expect(client.stats()).toMatchObject({ calls: 3, retries: 2, failures: 1 });
  });

  it('does not retry client errors (4xx)', async () => {
    const ep = codingEpisode();
    const j = await judge({}); // no rubric for the episode → 422
    const client = new HttpJudgeClient({ url: j.url, retries: 3, batch: 'never', ...fast });
    await expect(client.game(ep).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({ kind: 'http', status: 422, retriable: false });
    expect(client.stats().calls).toBe(1);
  });

  it('times out a slow judge per call instead of waiting for it', { timeout: 4_000 }, async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric }, delayMs: 30_000 });
    const client = new HttpJudgeClient({ url: j.url, timeoutMs: 100, retries: 1, batch: 'never', ...fast });
    await expect(client.game(ep).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({ kind: 'timeout', retriable: true });
    expect(client.stats()).toMatchObject({ timeouts: 2, retries: 1, failures: 1 });
  });

  it('reports an unreachable judge as a network error', async () => {
    const j = await judge({});
    const url = j.url;
    await j.close();
    judges.pop();
    const client = new HttpJudgeClient({ url, retries: 1, batch: 'never', ...fast });
    await expect(client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({ kind: 'network' });
  });

  // undici's "fetch failed" keeps the reason in its cause: every unreachable judge read "unreachable: fetch failed"
  it('says why a judge is unreachable: refused, no such host, TLS against a plain-http port', async () => {
    const j = await judge({});
    const refused = j.url;
    await j.close();
    judges.pop();
    const plain = await judge({});
    const cases: [string, RegExp][] = [
      [refused, /^judge http:\/\/127\.0\.0\.1:\d+\/score unreachable: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\) — check credit\.judge\.url \(library: HttpJudgeClient option "url"\), or start the judge$/],
      ['http://no-such-host.invalid/score', /unreachable: fetch failed \(getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid\) — check credit\.judge\.url/],
      [plain.url.replace(/^http:/, 'https:'), /unreachable: fetch failed \(.*(SSL|TLS|EPROTO|ECONNRESET|socket).*\) — check credit\.judge\.url/i],
    ];
    for (const [url, message] of cases) {
      const client = new HttpJudgeClient({ url, retries: 0, batch: 'never', ...fast });
      const err = await client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0])).catch((e: unknown) => e as Error);
      expect((err as Error).message).toMatch(message);
    }
  });

  // it was "unreachable: terminated (other side closed) — check credit.judge.url, or start the judge"
  it('says a judge that closed the connection mid-answer answered and dropped it, not that it is unreachable; retried', async () => {
    let requests = 0;
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests++;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"sco');
        setTimeout(() => res.socket?.destroy(), 20);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const client = new HttpJudgeClient({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/score`, retries: 1, batch: 'never', ...fast });
      const err = (await client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0])).catch((e: unknown) => e)) as JudgeError;
      expect(err).toMatchObject({ kind: 'network', retriable: true, status: 200 });
      expect(err.message).toMatch(/^judge http:\/\/127\.0\.0\.1:\d+\/score answered HTTP 200 but the connection closed before the answer's end: .+ — the judge \(or a proxy in front of it\) dropped it mid-answer/);
      expect(err.message).not.toMatch(/unreachable|start the judge/);
      expect(requests).toBe(2);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  // Retry-After was ignored: 4 requests within ~0.7 s per call, and every later episode called again
  it('honours Retry-After of a 429: waits it out when within maxBackoffMs, else neither retries nor calls again before it', async () => {
    const answers: { status: number; retryAfter?: string }[] = [];
    const times: number[] = [];
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        times.push(Date.now());
        const a = answers.shift() ?? { status: 200 };
        if (a.status === 200) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"score":0.5}');
        res.writeHead(a.status, a.retryAfter !== undefined ? { 'retry-after': a.retryAfter } : {}).end('slow down');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/score`;
    try {
      // within maxBackoffMs: the retry waits the second the judge asked for
      answers.push({ status: 429, retryAfter: '1' });
      const patient = new HttpJudgeClient({ url, retries: 3, batch: 'never', backoffMs: 1, maxBackoffMs: 2_000 });
      await expect(patient.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0]))).resolves.toBe(0.5);
      expect(times).toHaveLength(2);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);

      // beyond it: no retry, and no call from another episode until the time has passed
      times.length = 0;
      answers.push({ status: 429, retryAfter: '30' });
      const client = new HttpJudgeClient({ url, retries: 3, batch: 'never', ...fast });
      await expect(client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({
        kind: 'http',
        status: 429,
        retryAfterMs: 30_000,
        message: expect.stringMatching(/answered HTTP 429 \(Retry-After: 30 s\): slow down$/),
      });
      const later = codingEpisode();
      const err = (await client.game({ ...later, episodeId: 'another-episode' }).value(Uint8Array.from([0, 1, 0, 0, 0])).catch((e: unknown) => e)) as JudgeError;
      expect(err).toMatchObject({ kind: 'http', status: 429, retriable: false });
      expect(err.message).toMatch(/asked \(HTTP 429 with Retry-After\) not to be called for (29|30) s more: not called — more than credit\.judge\.maxBackoffMs \(5 ms/);
      expect(times).toHaveLength(1);
      expect(client.stats()).toMatchObject({ calls: 1, retries: 0, failures: 2 });
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  // `Retry-After: 1.5` fell through to Date.parse, a day of 2001: a wait of 0, the judge called again at once
  it('honours a decimal Retry-After, and ignores one that is neither delay-seconds nor an HTTP-date', async () => {
    const judge = await answeringJudge([], 'slow down');
    const { answers, url } = judge;
    // the clock stands still: the hold is still 1.5 s when the second episode calls, however slow the machine
    const t0 = Date.now();
    const now = vi.spyOn(Date, 'now').mockImplementation(() => t0);
    try {
      // 1.5 s is more than this client waits between attempts (5 ms): not retried, not called again
      answers.push({ status: 429, retryAfter: '1.5' });
      const client = new HttpJudgeClient({ url, retries: 3, batch: 'never', ...fast });
      await expect(client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({
        status: 429,
        retryAfterMs: 1500,
        message: expect.stringMatching(/answered HTTP 429 \(Retry-After: 1\.5 s\): slow down$/),
      });
      await expect(client.game({ ...codingEpisode(), episodeId: 'another-episode' }).value(Uint8Array.from([0, 1, 0, 0, 0]))).rejects.toThrow(/asked \(HTTP 429 with Retry-After\) not to be called for 2 s more/);
      expect(judge.requests).toBe(1);

      // an invalid one is no wait of 0: ignored, the call fails (or retries) as after any 429
      judge.requests = 0;
      answers.push({ status: 429, retryAfter: '-1' });
      const once = new HttpJudgeClient({ url, retries: 0, batch: 'never', ...fast });
      const err = (await once.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0])).catch((e: unknown) => e)) as JudgeError;
      expect(err).toMatchObject({ status: 429, retriable: true, retryAfterMs: undefined, message: expect.stringMatching(/answered HTTP 429: slow down$/) });
      expect(judge.requests).toBe(1);
    } finally {
      now.mockRestore();
      await judge.close();
    }
  });

  it('retryAfterOf: delay-seconds (a decimal too) or an HTTP-date in any of its three forms; nothing else', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:00 GMT');
    expect(retryAfterOf('120', now)).toBe(120_000);
    expect(retryAfterOf(' 1.5 ', now)).toBe(1500);
    expect(retryAfterOf('0.0001', now)).toBe(1); // rounded up: a wait was asked for
    expect(retryAfterOf('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(37_000);
    expect(retryAfterOf('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(37_000);
    expect(retryAfterOf('Sun Nov  6 08:49:37 1994', now)).toBe(37_000); // asctime: GMT too (RFC 9110 §5.6.7)
    expect(retryAfterOf('Sun, 06 Nov 1994 08:48:00 GMT', now)).toBe(0); // already past: no wait
    for (const invalid of ['-1', '1,5', '1.', '.5', '5s', 'x 5', 'soon', '']) expect(retryAfterOf(invalid, now), invalid).toBeUndefined();
    expect(retryAfterOf(null, now)).toBeUndefined();
  });

  // An HTTP-date is GMT in each of its forms, asctime's too, which names no zone: Date.parse read
  // it as local time, so east of Greenwich a wait of 37 s was in the past (0), west of it hours long.
  // The time zone is the process's (a test thread cannot change it): read in child processes.
  it('retryAfterOf reads an asctime date as GMT whatever the process time zone is', () => {
    const script = `import { retryAfterOf } from ${JSON.stringify(new URL('../../src/credit/games/http-judge.ts', import.meta.url).href)};
      const now = Date.parse('Sun, 06 Nov 1994 08:49:00 GMT');
      console.log(JSON.stringify([retryAfterOf('Sun Nov  6 08:49:37 1994', now), retryAfterOf('Sun, 06 Nov 1994 08:49:37 GMT', now)]));`;
    for (const zone of ['Asia/Tokyo', 'America/New_York', 'UTC']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, TZ: zone }, encoding: 'utf8' });
      expect(r.stderr, zone).toBe('');
      expect(JSON.parse(r.stdout), zone).toEqual([37_000, 37_000]);
    }
  }, 30_000);

  // Retry-After: 86400 (a daily quota, a proxy) stopped every judge call for a day, logged every 30 s
  it('holds off a judge that asks for more than MAX_RETRY_AFTER_MS that long only, and says it asked for longer', async () => {
    const judge = await answeringJudge([{ status: 429, retryAfter: '86400' }], 'daily quota spent');
    const { url } = judge;
    const realNow = Date.now.bind(Date);
    let skew = 0;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
    try {
      expect(MAX_RETRY_AFTER_MS).toBe(60_000);
      const client = new HttpJudgeClient({ url, retries: 3, batch: 'never', ...fast });
      const first = (await client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0])).catch((e: unknown) => e)) as JudgeError;
      expect(first).toMatchObject({ kind: 'http', status: 429, retryAfterMs: 60_000 });
      expect(first.message).toMatch(/answered HTTP 429 \(Retry-After: 86400 s, held to 60 s, the longest this client holds off a judge\): daily quota spent$/);
      // another episode's call meanwhile: not sent, and the message says the judge asked for a day
      const held = (await client.game({ ...codingEpisode(), episodeId: 'another-episode' }).value(Uint8Array.from([0, 1, 0, 0, 0])).catch((e: unknown) => e)) as JudgeError;
      expect(held.message).toMatch(/asked \(HTTP 429 with Retry-After: 86400 s, held to 60 s, the longest this client holds off a judge\) not to be called for (59|60) s more: not called/);
      expect(judge.requests).toBe(1);
      // a minute later the judge is asked again (a day later without the cap)
      skew = 61_000;
      await expect(client.game({ ...codingEpisode(), episodeId: 'a-third-episode' }).value(Uint8Array.from([0, 0, 1, 0, 0]))).resolves.toBe(0.5);
      expect(judge.requests).toBe(2);
    } finally {
      now.mockRestore();
      await judge.close();
    }
  });

  it('says what is wrong with a batch answer that is not { scores: number[n] }: the bad score, the count, or no scores at all', async () => {
    let answer = '';
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/score`;
    try {
      const cases: [string, string][] = [
        ['{"scores":[0.5,"NaN"]}', 'scores[1] = a string ("NaN"), not a finite number'],
        ['{"scores":[0.5]}', 'it answered 1 score(s)'],
        ['{"score":0.5}', 'no "scores" array (an object ({"score":0.5}))'],
      ];
      for (const [body, problem] of cases) {
        answer = body;
        const client = new HttpJudgeClient({ url, retries: 0, batch: 'always', ...fast });
        const err = (await client.game(codingEpisode()).valueMany([Uint8Array.from([1, 0, 0, 0, 0]), Uint8Array.from([0, 1, 0, 0, 0])]).catch((e: unknown) => e)) as JudgeError;
        expect(err).toMatchObject({ kind: 'invalid-response' });
        expect(err.message).toMatch(/^judge batch http:\/\/127\.0\.0\.1:\d+\/score\/batch must answer \{ scores: number\[2\] \} \(finite numbers, in the requests' order\): /);
        expect(err.message.endsWith(problem.startsWith('it ') ? problem : `it answered ${problem}`)).toBe(true);
      }
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('says a judge answered an empty body, not "answered non-JSON: " and nothing after', async () => {
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url?.includes('204') ? 204 : 200).end());
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      for (const [path, status] of [['/score', 200], ['/score204', 204]] as const) {
        const client = new HttpJudgeClient({ url: `${base}${path}`, retries: 0, batch: 'never', ...fast });
        const err = (await client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0])).catch((e: unknown) => e)) as JudgeError;
        expect(err).toMatchObject({ kind: 'invalid-response', status });
        expect(err.message).toMatch(new RegExp(`answered non-JSON: an empty body \\(HTTP ${status}\\): it must answer JSON \\{ score \\}$`));
      }
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('rejects invalid options naming the key', () => {
    expect(() => new HttpJudgeClient({ url: 'not a url' })).toThrow(/"url"/);
    expect(() => new HttpJudgeClient({ url: 'http://x/score', concurrency: 0 })).toThrow(/"concurrency"/);
  });
});

describe('http judge micro-batching', () => {
  it('groups value() calls made together into batch requests', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const client = new HttpJudgeClient({ url: j.url, maxBatchSize: 8, ...fast });
    const game = client.game(ep);
    const all = allCoalitions(5);
    const singles = await Promise.all(all.map((c) => game.value(c)));
    expect(j.stats.batchRequests).toBe(4);
    expect(j.stats.requests).toBe(4);
    const fresh = new HttpJudgeClient({ url: j.url, batch: 'never', ...fast }).game(ep);
    expect(await fresh.valueMany(all)).toEqual(singles);
  });
});

describe('http judge with messages as players', () => {
  it('keeps exactly the coalition messages and caches per message mask', async () => {
    const ep = codingEpisode();
    const j = await judge({ rubrics: { [ep.episodeId]: ep.rubric } });
    const client = new HttpJudgeClient({ url: j.url, players: 'messages', batch: 'never', ...fast });
    const game = client.game(ep);
    expect(game.players).toHaveLength(8);
    // Only the planner's message and the two coder functions: 3 of 5 required items.
    const c = Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 0]);
    expect(await game.value(c)).toBeCloseTo(3 / 5);
    expect(await game.value(c)).toBeCloseTo(3 / 5);
    expect(j.stats.scored).toBe(1);
  });
});

describe('a hostile or careless judge endpoint (security review)', () => {
  async function server(handle: (req: IncomingMessage, res: ServerResponse) => void) {
    const paths: string[] = [];
    const srv = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.on('end', () => handle(req, res));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    return { base: `http://127.0.0.1:${port}`, paths, close: () => new Promise<void>((r) => srv.close(() => r())) };
  }

  it('keeps the query (an api key) out of error messages, and builds the batch URL on the path', async () => {
    const s = await server((_req, res) => res.writeHead(500).end('upstream down'));
    try {
      for (const batch of ['never', 'always'] as const) {
        const client = new HttpJudgeClient({ url: `${s.base}/score?api_key=SECRET-KEY`, retries: 0, batch, ...fast });
        const game = client.game(codingEpisode());
        // two value() calls made together go as one batch request (with batch 'always')
        const err = await Promise.all([game.value(Uint8Array.from([1, 0, 0, 0, 0])), game.value(Uint8Array.from([0, 1, 0, 0, 0]))]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(JudgeError);
        expect(String((err as Error).message)).not.toContain('SECRET-KEY');
        expect(String((err as Error).message)).toContain(`${s.base}/score${batch === 'always' ? '/batch' : ''}?… answered HTTP 500`);
      }
      // before: /score?api_key=SECRET-KEY/batch — the key corrupted
      expect(s.paths.at(-1)).toBe('/score/batch?api_key=SECRET-KEY');
    } finally {
      await s.close();
    }
  });

  it('refuses a header value with a line break inside: fetch quoted the credential in "judge unreachable", which went into the events and the log', async () => {
    const secret = `S3CR3T-${Math.random().toString(36).slice(2, 10)}`;
    // `Basic $(printf %s user:long-password | base64)`: base64 wraps at 76 columns
    const headers = { authorization: `Basic ${secret}${'A'.repeat(70)}\n${'B'.repeat(8)}` };
    const construct = () => new HttpJudgeClient({ url: 'http://127.0.0.1:59/score', retries: 0, headers, ...fast });
    expect(construct).toThrow(/invalid http judge option "headers\.authorization": a header value cannot hold a line break/);
    expect(construct).not.toThrow(new RegExp(secret));
    const config = (() => {
      try {
        loadConfig({ env: {}, text: `credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:59/score\n    headers: { authorization: ${JSON.stringify(headers.authorization)} }\n` });
      } catch (err) {
        return (err as Error).message;
      }
      return 'loaded';
    })();
    expect(config).toContain('credit.judge.headers.authorization: a header value cannot hold a line break');
    expect(config).not.toContain(secret);
    // at either end fetch trims it: still accepted (a Secret file's final newline)
    expect(() => new HttpJudgeClient({ url: 'http://127.0.0.1:59/score', headers: { authorization: `Bearer ${secret}\n` }, ...fast })).not.toThrow();
  });

  it('refuses an answer longer than maxResponseBytes (streamed or declared) instead of reading it all', async () => {
    const s = await server((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('declared')) return res.end(`{"score":1,"pad":"${'x'.repeat(300_000)}"}`);
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      const push = () => {
        while (sent < 200 && res.write(chunk)) sent++;
        if (sent < 200) res.once('drain', push);
        else res.end();
      };
      push();
    });
    try {
      for (const path of ['/streamed', '/declared']) {
        const client = new HttpJudgeClient({ url: `${s.base}${path}`, retries: 0, batch: 'never', maxResponseBytes: 100_000, ...fast });
        await expect(client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0]))).rejects.toMatchObject({ kind: 'invalid-response', message: expect.stringMatching(/longer than 100000 bytes \(credit\.judge\.maxResponseBytes; library: HttpJudgeClient option "maxResponseBytes"\)/) });
      }
    } finally {
      await s.close();
    }
  });

  it('does not follow a redirect: fetch sent judge.headers (an api key) on to the other host, and a 302 turned the POST into a GET', async () => {
    const seen: { method?: string; key?: string }[] = [];
    const elsewhere = await server((req, res) => {
      seen.push({ method: req.method, key: req.headers['x-api-key'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"score":0.5}');
    });
    for (const status of [302, 307]) {
      const s = await server((_req, res) => res.writeHead(status, { location: `${elsewhere.base}/collect?token=T` }).end());
      try {
        const client = new HttpJudgeClient({ url: `${s.base}/score`, retries: 2, batch: 'never', headers: { 'x-api-key': 'KEY-123' }, ...fast });
        const err = await client.game(codingEpisode()).value(Uint8Array.from([1, 0, 0, 0, 0])).catch((e: unknown) => e);
        expect(err).toMatchObject({ kind: 'http', status, retriable: false });
        expect((err as Error).message).toBe(
          `judge ${s.base}/score answered HTTP ${status}, a redirect to ${elsewhere.base}/collect?…: redirects are not followed (they would send judge.headers to another address); set judge.url to the address that answers`,
        );
        expect(s.paths).toHaveLength(1); // not retried
      } finally {
        await s.close();
      }
    }
    // before: the target got both calls, the key with them (the 302 one as a GET)
    expect(seen).toEqual([]);
    await elsewhere.close();
  });

  it('refuses a URL with credentials at start, naming where they go', () => {
    expect(() => new HttpJudgeClient({ url: 'http://user:pass@judge.local/score' })).toThrow(/refused by fetch: give the credentials in judge.headers/);
  });
});

