import type { BenchContext, SectionResult } from '../lib/section.js';

export async function scalingSection(_ctx: BenchContext): Promise<SectionResult> {
  return { title: 'scaling', status: 'not-run', markdown: 'Not implemented yet.', plots: [], data: {}, headline: {}, seconds: 0 };
}
