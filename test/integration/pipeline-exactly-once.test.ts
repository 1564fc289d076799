/**
 * Exactly-once on the real broker, with the pipeline in child processes: SIGKILL mid-stream and
 * restart; a second instance joining the group mid-stream. A read_committed reader must see
 * every episode's events exactly once by event id, none missing, equal to the in-process
 * computation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, type PipelineChild } from './support/child.js';
import { exactlyOnceSetUp, expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import { brokers, client, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { waitFor, type PipelineTopics } from './support/pipeline-harness.js';

const children: PipelineChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

async function setUp(name: string, episodes: number, seed: number, reverseRuns = false) {
  const c = client();
  return { c, ...(await exactlyOnceSetUp(c, name, episodes, seed, reverseRuns)) };
}

/**
 * The children's consumer session: after a SIGKILL the restarted instance joins as a new member and
 * the group assigns nothing until the killed member's session has expired — 3 s, not the default 6.
 */
const SESSION_MS = 3_000;

/** Verdicts a child's assembler holds waiting for their runs' spans (its last stats line). */
function waitingVerdicts(ch: PipelineChild): number {
  const line = ch.lastLine();
  return line === '' ? 0 : ((JSON.parse(line) as { assembler?: { pendingEvaluations?: number } }).assembler?.pendingEvaluations ?? 0);
}

let childN = 0;
function child(topics: PipelineTopics, groupId: string): PipelineChild {
  if (process.env.EOS_DEBUG_DIR) process.env.PIPELINE_CHILD_DEBUG = `${process.env.EOS_DEBUG_DIR}/child-${++childN}.jsonl`;
  const ch = startChild({ brokers: brokers(), topics, groupId, delivery: 'exactly-once', creditDelayMs: 120, idleMs: 60_000, sessionTimeoutMs: SESSION_MS });
  children.push(ch);
  return ch;
}

describe('exactly-once delivery through crashes and rebalances', { timeout: 150_000 }, () => {
  it('SIGKILL mid-stream, restart: every event exactly once, none missing', async () => {
    const { c, topics, spans, logs, expected, episodes } = await setUp('crash', 40, 21, true);
    // The real credit computation credits every generated run: one episode_credit per episode.
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(episodes);
    const groupId = unique('crash-grp');
    await produce(c, spans);
    const a = child(topics, groupId);
    await produce(c, logs.slice(0, 15));
    await waitFor(() => (a.stats()?.transactions ?? 0) >= 1 && (a.stats()?.episodesClosed ?? 0) >= 5, 60_000, `first instance to commit (${a.output()})`);
    await produce(c, logs.slice(15, 28));
    await waitFor(() => (a.stats()?.episodesClosed ?? 0) >= 18 && (a.stats()?.recordsPublished ?? 0) > 0, 30_000, 'more episodes closed and some published');
    const atKill = a.stats()!;
    a.proc.kill('SIGKILL');
    await a.exited;
    // Mid-stream: some events committed, closed episodes still waiting for credit or commit, more input to come.
    expect(atKill.episodesClosed).toBeLessThan(episodes);
    expect(atKill.recordsPublished).toBeGreaterThan(0);
    expect(atKill.inFlight).toBeGreaterThan(0);

    const b = child(topics, groupId);
    await produce(c, logs.slice(28));
    const got = await readAllEvents(c, topics, expected);
    expectExactlyOnce(got, expected);
    // every run credited: no verdict left waiting for a run (the killed instance's logs offsets went
    // in the transactions that published the runs, so none names a published run's verdict as held)
    expect(waitingVerdicts(b)).toBe(0);
    expect(b.stats()?.decodeErrors ?? 0).toBe(0);
    // The restarted instance replayed from the watermark and skipped spans of committed episodes.
    expect(b.stats()!.spansSkippedOnReplay).toBeGreaterThan(0);
  });

  it('a second instance joins the group mid-stream: every event exactly once, none missing', async () => {
    const { c, topics, spans, logs, expected, episodes } = await setUp('join', 40, 33);
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(episodes);
    const groupId = unique('join-grp');
    await produce(c, spans);
    const a = child(topics, groupId);
    await produce(c, logs.slice(0, 20));
    await waitFor(() => (a.stats()?.transactions ?? 0) >= 1 && (a.stats()?.episodesClosed ?? 0) >= 5, 60_000, `first instance to commit (${a.output()})`);
    const b = child(topics, groupId);
    await waitFor(() => (b.stats()?.assignedPartitions ?? 0) > 0, 60_000, `second instance to get partitions (${b.output()})`);
    await produce(c, logs.slice(20));
    const got = await readAllEvents(c, topics, expected);
    expectExactlyOnce(got, expected);
    expect(waitingVerdicts(a) + waitingVerdicts(b)).toBe(0);
    expect((a.stats()?.rebalances ?? 0) + (b.stats()?.rebalances ?? 0)).toBeGreaterThanOrEqual(3);
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });
});

describe('a slow judge and a crash (episodes.awaitEvaluationMs)', { timeout: 150_000 }, () => {
  it('runs whose verdicts come after graceMs wait open, so a SIGKILL before the verdicts loses no credit: all credited once, revision 0', async () => {
    const { c, topics, spans, logs, expected, episodes } = await setUp('slow-judge', 16, 47);
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(episodes);
    expect(expected.every((e) => e.episode_revision === 0)).toBe(true);
    // the first three runs are judged at once (evaluations are arriving); the others' verdicts come late
    const judgedFirst = new Set([...new Set(logs.map((r) => r.key))].slice(0, 3));
    const early = logs.filter((r) => judgedFirst.has(r.key as string));
    const late = logs.filter((r) => !judgedFirst.has(r.key as string));
    const groupId = unique('slow-judge-grp');
    const assembler = { graceMs: 1500, awaitEvaluationMs: 120_000, idleMs: 120_000, maxDurationMs: 600_000 };
    const start = () => {
      const ch = startChild({ brokers: brokers(), topics, groupId, delivery: 'exactly-once', creditDelayMs: 0, idleMs: 120_000, assembler, sessionTimeoutMs: SESSION_MS });
      children.push(ch);
      return ch;
    };
    await produce(c, spans);
    await produce(c, early);
    const a = start();
    const line = () => (a.lastLine() === '' ? undefined : (JSON.parse(a.lastLine()) as { stats: { episodesClosed: number; transactions: number }; assembler?: { open: number } }));
    await waitFor(() => (line()?.stats.episodesClosed ?? 0) >= 3 && (line()?.stats.transactions ?? 0) >= 1 && line()?.assembler?.open === episodes - 3, 60_000, `first instance to credit the judged runs and hold the others (${a.output()})`);
    // well past graceMs after the last span: before awaitEvaluationMs the others closed here without credit
    await new Promise((r) => setTimeout(r, 4_000));
    expect(line()!.stats.episodesClosed).toBe(3);
    expect(line()!.assembler!.open).toBe(episodes - 3);
    a.proc.kill('SIGKILL');
    await a.exited;

    await produce(c, late);
    const b = start();
    const got = await readAllEvents(c, topics, expected);
    expectExactlyOnce(got, expected);
    expect(b.stats()!.episodesClosed).toBe(episodes - 3);
  });
});

describe('a late verdict and a crash before its correction is published (lateSpanPolicy: correct)', { timeout: 150_000 }, () => {
  it('runs closed without their verdicts (revision 0, no credit), their verdicts reopen them, SIGKILL before the corrections are published: the next owner publishes each correction once, revision 1', async () => {
    const { c, topics, spans, logs, expected, episodes } = await setUp('late-verdict', 8, 53);
    const groupId = unique('late-verdict-grp');
    // no waiting for verdicts: each run closes at grace without one
    const assembler = { graceMs: 500, awaitEvaluationMs: 0, idleMs: 120_000, maxDurationMs: 600_000, lateSpanPolicy: 'correct' as const };
    const start = (correctionDelayMs: number) => {
      const ch = startChild({ brokers: brokers(), topics, groupId, delivery: 'exactly-once', creditDelayMs: 0, correctionDelayMs, idleMs: 120_000, assembler, sessionTimeoutMs: SESSION_MS });
      children.push(ch);
      return ch;
    };
    type Line = { stats: { episodesClosed: number; transactions: number; inFlight: number }; assembler?: { corrections: number } };
    const lineOf = (ch: PipelineChild) => (ch.lastLine() === '' ? undefined : (JSON.parse(ch.lastLine()) as Line));
    await produce(c, spans);
    // the first instance never finishes crediting a correction
    const a = start(600_000);
    await waitFor(() => (lineOf(a)?.stats.episodesClosed ?? 0) >= episodes && lineOf(a)?.stats.inFlight === 0, 60_000, `first instance to close every run without its verdict (${a.output()})`);
    const before = lineOf(a)!.stats.transactions;
    await produce(c, logs);
    await waitFor(() => (lineOf(a)?.assembler?.corrections ?? 0) >= episodes && lineOf(a)!.stats.transactions >= before + 2, 60_000, `every verdict to reopen its run and a commit after (${a.output()})`);
    await new Promise((r) => setTimeout(r, 500)); // a commit round after the last reopening
    a.proc.kill('SIGKILL');
    await a.exited;

    const b = start(0);
    const credits = (rs: Parameters<typeof parseEvents>[0]) => parseEvents(rs).filter((e) => e.event_type === 'episode_credit');
    const records = await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => credits(rs).length >= episodes, 90_000, 3_000);
    const got = parseEvents(records);
    const ids = got.map((e) => e.event_id);
    expect(ids.length - new Set(ids).size).toBe(0); // no event twice
    const byRun = new Map<string, number[]>();
    for (const e of credits(records)) byRun.set(e.episode_id, [...(byRun.get(e.episode_id) ?? []), e.episode_revision]);
    // every run credited once, as its correction (before: the verdicts expired waiting for spans, no credit)
    expect(byRun.size).toBe(episodes);
    expect([...byRun.values()].every((revs) => revs.length === 1 && revs[0] === 1)).toBe(true);
    // as many events as the run credited with its verdict joined at once (revision 0 in the reference)
    expect(got.filter((e) => e.episode_revision === 1)).toHaveLength(expected.length);
    expect(waitingVerdicts(b)).toBe(0);
  });
});
