/**
 * The `agent-credit/runtime` entry said it exported "the streaming jobs that drive it (Kafka,
 * OTLP/HTTP, file replay)" while only KafkaPipeline is exported (LocalPipeline, the OTLP/HTTP and
 * replay jobs' pipeline, is reachable only through src/, as docs/contracts.md says). Every name
 * its doc comment gives in backticks is exported, unless the comment says it is not in the entry.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as runtime from '../../src/runtime/index.js';

describe('agent-credit/runtime doc comment', () => {
  it('names only what the entry exports, or says it is not in it', () => {
    const text = readFileSync(new URL('../../src/runtime/index.ts', import.meta.url), 'utf8');
    const header = /^\/\*\*([\s\S]*?)\*\//.exec(text)![1]!;
    expect(header).not.toMatch(/streaming jobs that drive it \(Kafka, OTLP\/HTTP, file replay\)/);
    const sentences = header.replace(/\s*\*\s*/g, ' ').split(/(?<=\.)\s/);
    for (const sentence of sentences) {
      for (const [, name] of sentence.matchAll(/`([A-Za-z]+)`/g)) {
        if (/^[A-Z]|^[a-z]+[A-Z]/.test(name!) && !/not in this entry/.test(sentence)) expect(Object.keys(runtime), `${name} in: ${sentence}`).toContain(name);
      }
    }
    expect(Object.keys(runtime)).toContain('KafkaPipeline');
    expect(Object.keys(runtime)).not.toContain('LocalPipeline');
    expect(header).toMatch(/`LocalPipeline`[^.]*is not in this entry/);
  });
});
