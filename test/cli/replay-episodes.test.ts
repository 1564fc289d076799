/**
 * `agent-credit replay --episodes`: one training record per episode (src/events/training-record.ts)
 * instead of the events — valid against schemas/training-record.schema.json, holding exactly the
 * events a plain replay writes for that episode; and the sink behind it, bounded.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tempDir } from '../support/temp-dir.js';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { eventSchemas } from '../../src/cli/schema-files.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { TrainingRecordSchema, type TrainingRecord } from '../../src/events/training-record.js';
import { TrainingRecordSink } from '../../src/sinks/stdout/training-record-sink.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const root = join(import.meta.dirname, '../..');
const INPUTS = ['genai', 'openinference', 'openllmetry'].map((c) => join(AGENTS_SDK_FIXTURES, c, 'otlp-http'));
const cli = (args: string[]) => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_')) env[k] = v;
  // as `npm start` starts it: the build, or the sources when it is not current (test/support/cli.ts)
  return spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: { ...env, ...CLI_ENV }, encoding: 'utf8', timeout: 60_000 });
};
const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as unknown);

describe('agent-credit replay --episodes', () => {
  it('writes one valid training record per episode, holding the events a plain replay writes for it', () => {
    const plain = cli(['replay', ...INPUTS, '--no-summary']);
    const records = cli(['replay', ...INPUTS, '--no-summary', '--episodes']);
    expect(plain.status).toBe(0);
    expect(records.status).toBe(0);
    const events = lines(plain.stdout) as CreditEvent[];
    const got = lines(records.stdout);

    const published = new Ajv2020().compile(JSON.parse(readFileSync(join(root, 'schemas/training-record.schema.json'), 'utf8')) as object);
    const strict = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(eventSchemas('strict')['training-record.schema.json']!) as object);
    for (const r of got) {
      expect(published(r), JSON.stringify(published.errors?.slice(0, 3))).toBe(true);
      expect(strict(r), JSON.stringify(strict.errors?.slice(0, 3))).toBe(true);
      expect(TrainingRecordSchema.safeParse(r).success).toBe(true);
    }
    const recs = got as TrainingRecord[];
    const episodes = new Set(events.map((e) => `${e.episode_id}/${e.trace_ids[0]}`));
    expect(recs.map((r) => `${r.episode_id}/${r.first_trace_id}`).sort()).toEqual([...episodes].sort());
    for (const r of recs) {
      const mine = events.filter((e) => e.episode_id === r.episode_id && e.trace_ids[0] === r.first_trace_id);
      expect(r.complete).toBe(true);
      // two runs of the replay: the same events but for emitted_at_ms (the wall clock)
      expect({ ...r.episode_credit, emitted_at_ms: 0 }).toEqual({ ...mine.find((e) => e.event_type === 'episode_credit'), emitted_at_ms: 0 });
      expect(r.message_rewards.map((e) => e.event_id).sort()).toEqual(mine.filter((e) => e.event_type === 'message_reward').map((e) => e.event_id).sort());
      expect(r.preference_pairs.map((e) => e.event_id).sort()).toEqual(mine.filter((e) => e.event_type === 'preference_pair').map((e) => e.event_id).sort());
    }
    expect(recs.some((r) => r.preference_pairs.length > 0 && r.episode_credit?.outcome === 'failure')).toBe(true);
    // the summary still counts the events
    const withSummary = cli(['replay', ...INPUTS, '--episodes', '-o', '/dev/null']);
    expect(withSummary.stderr).toMatch(new RegExp(`${episodes.size}\\b`));
  });

  it('the sink writes episodes pushed out by its bound as they go (early), and the rest at close', async () => {
    const plain = cli(['replay', ...INPUTS, '--no-summary']);
    const events = lines(plain.stdout) as CreditEvent[];
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const sink = new TrainingRecordSink({ stream, ledger: { maxEpisodes: 2 } });
    const byEpisode = new Map<string, CreditEvent[]>();
    for (const e of events) byEpisode.set(e.episode_id, [...(byEpisode.get(e.episode_id) ?? []), e]);
    let written = 0;
    for (const batch of byEpisode.values()) {
      await sink.publish(batch);
      await sink.flush();
      const now = Buffer.concat(chunks).toString().split('\n').filter(Boolean).length;
      expect(now).toBeGreaterThanOrEqual(written);
      written = now;
    }
    expect(written).toBe(byEpisode.size - 2); // all but the two held
    await sink.close();
    const recs = lines(Buffer.concat(chunks).toString()) as TrainingRecord[];
    expect(recs).toHaveLength(byEpisode.size);
    expect(recs.filter((r) => r.early)).toHaveLength(byEpisode.size - 2);
    expect(sink.stats()).toMatchObject({ released: byEpisode.size, released_early: byEpisode.size - 2, released_incomplete: 0 });
  });

  it('--max-held-mb bounds what the replay holds; records written early are said on stderr with the fix (it was their field alone)', () => {
    const corpus = tempDir('ac-held-');
    expect(cli(['generate', corpus, '--episodes', '80', '--seed', '2']).status).toBe(0);
    // ~24 KB charged per generated episode: 1 MiB holds ~40 of the 80
    // to files: 80 records are more than spawnSync's 1 MiB of stdout
    const out = join(tempDir('ac-held-out-'), 'records.jsonl');
    const small = cli(['replay', corpus, '--episodes', '--max-held-mb', '1', '-o', out]);
    expect(small.status).toBe(0);
    const recs = lines(readFileSync(out, 'utf8')) as TrainingRecord[];
    const early = recs.filter((r) => r.early).length;
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(80);
    expect(new Set(recs.map((r) => r.episode_id)).size).toBe(80);
    expect(small.stderr).toContain(`note: ${early} training record(s) were written before the end of the replay (early: true), to keep the events held within --max-held-mb 1; `);
    const roomy = cli(['replay', corpus, '--episodes', '-o', out]);
    expect(roomy.status).toBe(0);
    expect((lines(readFileSync(out, 'utf8')) as TrainingRecord[]).filter((r) => r.early)).toEqual([]);
    expect(roomy.stderr).not.toContain('note:');
    // refused before anything is read
    expect(cli(['replay', corpus, '--max-held-mb', '64'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--max-held-mb: bounds the training records held until the end, and there are none without --episodes') as unknown });
    expect(cli(['replay', corpus, '--episodes', '--max-held-mb', '0'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--max-held-mb: expected an integer ≥ 1, got "0"') as unknown });
    // an integer overflowing to Infinity bytes was refused by the ledger, not naming the flag
    expect(cli(['replay', corpus, '--episodes', '--max-held-mb', '1e303'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--max-held-mb: at most 1048576 (1 TiB), got "1e303"') as unknown });
  });
});
