import type { BenchContext, SectionResult } from '../lib/section.js';

export async function latencySection(_ctx: BenchContext): Promise<SectionResult> {
  return { title: 'latency', status: 'not-run', markdown: 'Not implemented yet.', plots: [], data: {}, headline: {}, seconds: 0 };
}
