/**
 * Loads a project module that may not exist yet (stages are written concurrently): the benchmark
 * then reports "not run: <why>" instead of failing to compile. A computed specifier keeps tsc
 * from resolving it.
 */
export async function loadOptional<T>(specifierFromBench: string): Promise<{ mod: T } | { missing: string }> {
  try {
    const url = new URL(specifierFromBench, new URL('../', import.meta.url));
    return { mod: (await import(url.href)) as T };
  } catch (err) {
    return { missing: `${specifierFromBench.replace(/^\.\.\//, '')} could not be loaded (${(err as Error).message.split('\n')[0]})` };
  }
}
