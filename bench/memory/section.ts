import type { BenchContext, SectionResult } from '../lib/section.js';

export async function memorySection(_ctx: BenchContext): Promise<SectionResult> {
  return { title: 'memory', status: 'not-run', markdown: 'Not implemented yet.', plots: [], data: {}, headline: {}, seconds: 0 };
}
