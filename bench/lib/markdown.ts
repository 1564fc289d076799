/** Markdown rendering helpers for bench/RESULTS.md (pure). */

/** A table; cells are already formatted strings. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const lines = [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

/** Number with `digits` significant digits; exponent form for very small/large; `n/a` for NaN. */
export function num(x: number | undefined, digits = 3): string {
  if (x === undefined || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** Integer with thin thousands separators. */
export function int(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return Math.round(x).toLocaleString('en-US');
}

export function bytes(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1024 ** 3) return `${(x / 1024 ** 3).toFixed(2)} GiB`;
  if (a >= 1024 ** 2) return `${(x / 1024 ** 2).toFixed(1)} MiB`;
  if (a >= 1024) return `${(x / 1024).toFixed(2)} KiB`;
  return `${Math.round(x)} B`;
}
