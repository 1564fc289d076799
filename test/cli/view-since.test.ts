/** `agent-credit view --since`: durations and `all`, and an error naming the flag. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { describeSince, outputEventOf, parseSince } from '../../src/cli/view-job.js';

describe('view --since', () => {
  it('reads durations in ms, s, m, h and d, and all', () => {
    expect(parseSince('6h')).toBe(6 * 3_600_000);
    expect(parseSince('30m')).toBe(1_800_000);
    expect(parseSince('2d')).toBe(172_800_000);
    expect(parseSince('90s')).toBe(90_000);
    expect(parseSince('1.5h')).toBe(5_400_000);
    expect(parseSince('2500ms')).toBe(2_500);
    expect(parseSince('ALL')).toBeNull();
  });

  it('refuses anything else, naming the flag', () => {
    for (const bad of ['', '6 hours', '-1h', 'yesterday', '1w']) {
      expect(() => parseSince(bad)).toThrow(ConfigError);
      expect(() => parseSince(bad)).toThrow(/--since: expected a duration such as 30m, 6h or 2d, or all/);
    }
  });

  it('refuses a number without a unit, naming the units — `--since 600` was read as 600 ms', () => {
    for (const bare of ['600', '2500', '1.5', ' 0 ']) {
      expect(() => parseSince(bare)).toThrow(ConfigError);
      expect(() => parseSince(bare)).toThrow(/--since: ".*" has no unit; give one of ms, s, m, h, d \(e\.g\. [\d.]+s or [\d.]+m\), or all/);
    }
  });
});

describe('view --since: the start-up line', () => {
  it('names the window as the user writes it, with the instant it starts at — it said "21600000 ms ago" for the default 6h', () => {
    const now = Date.UTC(2026, 11, 7, 6, 0, 0);
    expect(describeSince(parseSince('6h'), now - 21_600_000)).toBe('6h ago (2026-12-07T00:00:00.000Z)');
    expect(describeSince(parseSince('90s'), now - 90_000)).toBe('90s ago (2026-12-07T05:58:30.000Z)');
    expect(describeSince(parseSince('1.5h'), now - 5_400_000)).toBe('90m ago (2026-12-07T04:30:00.000Z)');
    expect(describeSince(parseSince('2500ms'), now - 2_500)).toBe('2500ms ago (2026-12-07T05:59:57.500Z)');
    expect(describeSince(parseSince('2d'), now - 172_800_000)).toBe('2d ago (2026-12-05T06:00:00.000Z)');
    expect(describeSince(parseSince('all'), null)).toBe('the start of each topic');
  });
});

describe('view --since longer than the clock goes back', () => {
  // startViewJob reads each topic from its start when now - since is at or before 1970 (fromMs <= 0);
  // the start-up line made a Date of it, and past ±8.64e15 ms toISOString threw "Invalid time value"
  // after the view had started: `--since 1000000000000d` ended the view with a RangeError.
  it('says the start of each topic, as the view reads it, and never throws', () => {
    const now = Date.UTC(2026, 11, 7, 6, 0, 0);
    for (const since of ['1000000000000d', '99999999999999999999h', '60000d']) {
      const sinceMs = parseSince(since)!;
      expect(() => describeSince(sinceMs, now - sinceMs), since).not.toThrow();
      expect(describeSince(sinceMs, now - sinceMs), since).toBe('the start of each topic');
    }
    expect(describeSince(parseSince('6h'), now - 21_600_000)).toBe('6h ago (2026-12-07T00:00:00.000Z)');
  });
});

describe('view: records of the output topics', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it('takes events of this major version, any minor, and says why another record is not one', () => {
    const header = { event_id: 'e'.repeat(32), episode_id: 't'.repeat(32), episode_revision: 0, trace_ids: ['t'.repeat(32)], emitted_at_ms: 1 };
    const e = outputEventOf(bytes(JSON.stringify({ ...header, schema_version: '1.9.0', event_type: 'preference_pair', new_field: 1 })));
    expect(typeof e).toBe('object');
    // what the standings read must be there: such a record threw in the batch handler
    expect(outputEventOf(bytes(JSON.stringify({ schema_version: '1.9.0', event_type: 'preference_pair' })))).toBe('preference_pair without episode_id');
    expect(outputEventOf(bytes(JSON.stringify({ ...header, schema_version: '1.0.0', event_type: 'message_reward', step_id: 's', agent_id: 'a', agent_name: 'a' })))).toBe('message_reward without components (sabotage, redundancy)');
    expect(outputEventOf(null)).toBe('empty record');
    expect(outputEventOf(bytes('{'))).toBe('not JSON');
    expect(outputEventOf(bytes('[1]'))).toBe('schema_version undefined is not 1.x');
    expect(outputEventOf(bytes(JSON.stringify({ schema_version: '2.0.0', event_type: 'message_reward' })))).toBe('schema_version 2.0.0 is not 1.x');
    expect(outputEventOf(bytes(JSON.stringify({ schema_version: '1.3.0', event_type: 'dead_letter' })))).toBe('unknown event_type dead_letter');
  });
});
