import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workedExampleMarkdown } from './worked-example.js';

describe('docs/credit.md', () => {
  it('shows the worked example exactly as the code computes it', async () => {
    const doc = readFileSync(new URL('../../docs/credit.md', import.meta.url), 'utf8');
    const m = /<!-- worked-example:begin -->\n([\s\S]*?)\n<!-- worked-example:end -->/.exec(doc);
    expect(m, 'docs/credit.md must hold the worked-example block (regenerate: npx tsx test/credit/worked-example.ts)').not.toBeNull();
    expect(m![1]).toBe(await workedExampleMarkdown());
  });
});
