/**
 * How the profile summaries (./profile-summary.ts for CPU, ./heap-summary.ts for allocations)
 * name a profile's call frames: by source area and by function; and their command line.
 */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** src/<dir>, bench/<dir>, scripts, a package, a node: module, or a V8 category such as the garbage collector. */
export const area = (cf: CallFrame): string => {
  const m = /\/(node_modules\/(?:@[^/]+\/)?[^/]+|src\/[^/]+|bench\/[^/]+|scripts)\//.exec(cf.url);
  if (m) return m[1]!;
  if (cf.url.startsWith('node:')) return cf.url;
  return cf.functionName || '(anonymous)';
};

/** `name dir/file[:line]` (line 1-based). */
export const fnName = (cf: CallFrame, withLine: boolean): string =>
  `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}${withLine ? `:${cf.lineNumber + 1}` : ''}`;

/** The summaries' command line, `[--top N] <file ...>`: exits with `usage` when it is not that. */
export function summaryArgs(argv: readonly string[], usage: string, defaultTop: number): { top: number; files: string[] } {
  let top = defaultTop;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  if (files.length === 0 || !Number.isInteger(top) || top <= 0) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  return { top, files };
}
