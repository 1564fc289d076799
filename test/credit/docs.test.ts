import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workedExampleMarkdown } from './worked-example.js';

// The worked example appears in docs/credit.md and README.md; both must show what the code computes.
describe.each(['docs/credit.md', 'README.md'])('%s', (file) => {
  it('shows the worked example exactly as the code computes it', async () => {
    const doc = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    const m = /<!-- worked-example:begin -->\n([\s\S]*?)\n<!-- worked-example:end -->/.exec(doc);
    expect(m, `${file} must hold the worked-example block (regenerate: npx tsx test/credit/worked-example.ts)`).not.toBeNull();
    expect(m![1]).toBe(await workedExampleMarkdown());
  });
});
