/**
 * test/fixtures/agents-sdk is a byte-for-byte snapshot of the shared recorded telemetry, used when
 * the shared copy is not on the machine (a checkout on its own). Where the shared copy is found,
 * the snapshot must equal it, so the two cannot drift apart unnoticed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENTS_SDK_FIXTURES, FIXTURES_SNAPSHOT } from './fixtures.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the recorded telemetry snapshot in this repository', () => {
  it('holds the recordings of all three instrumentations and the collector output', () => {
    const names = files(FIXTURES_SNAPSHOT).map((f) => relative(FIXTURES_SNAPSHOT, f));
    for (const dir of ['genai/', 'openinference/', 'openllmetry/', 'kafka/otlp_proto/otlp_spans/', 'kafka/otlp_json/otlp_logs/']) expect(names.some((n) => n.startsWith(dir))).toBe(true);
    expect(names).toContain('README.md');
  });

  it.skipIf(AGENTS_SDK_FIXTURES === FIXTURES_SNAPSHOT)('equals the shared copy the tests read, file by file', () => {
    const shared = files(AGENTS_SDK_FIXTURES).map((f) => relative(AGENTS_SDK_FIXTURES, f)).sort();
    const snapshot = files(FIXTURES_SNAPSHOT).map((f) => relative(FIXTURES_SNAPSHOT, f)).sort();
    expect(snapshot).toEqual(shared);
    const differing = shared.filter((f) => !readFileSync(join(AGENTS_SDK_FIXTURES, f)).equals(readFileSync(join(FIXTURES_SNAPSHOT, f))));
    expect(differing).toEqual([]);
  });
});
