import type { BenchContext, SectionResult } from '../lib/section.js';

export async function pipelineSection(_ctx: BenchContext): Promise<SectionResult> {
  return { title: 'pipeline', status: 'not-run', markdown: 'Not implemented yet.', plots: [], data: {}, headline: {}, seconds: 0 };
}
