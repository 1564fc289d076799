/**
 * Hand-written SVG line plots for bench/RESULTS.md (pure: data in, SVG text out). Log axes use
 * decade ticks; non-finite or (on log axes) non-positive points are skipped, never clamped.
 */

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  /** Dashed line (used for baselines). */
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Optional horizontal reference line (e.g. a goal), drawn dotted and labelled. */
  hline?: { y: number; label: string };
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#843c39', '#7b4173'];

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function decadeTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) ticks.push(10 ** e);
  return ticks;
}

/** 1-2-5 ticks per decade: a log axis spanning one decade still gets several labels. */
function logTicks125(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(Number(t.toPrecision(6)));
    }
  }
  return ticks;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6 && Number.isInteger(v / 1e5)) return `${v / 1e6}M`;
  if (a >= 1e4 && Number.isInteger(v / 100)) return `${v / 1e3}k`;
  if (a !== 0 && (a >= 1e5 || a < 1e-2)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

export function linePlot(series: readonly Series[], opts: PlotOptions): string {
  const width = (opts.width ?? 720) + Math.max(0, Math.min(320, 56 + 7 * Math.max(0, ...series.map((x) => x.name.length))) - 190);
  const height = opts.height ?? 420;
  // the legend gets a column sized to its longest name
  const longest = Math.max(0, ...series.map((x) => x.name.length));
  const m = { left: 78, right: Math.min(320, 56 + 7 * longest), top: 40, bottom: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const ok = (x: number, y: number) =>
    Number.isFinite(x) && Number.isFinite(y) && (!opts.logX || x > 0) && (!opts.logY || y > 0);
  const pts = series.flatMap((s) => s.points.filter(([x, y]) => ok(x, y)));
  const ys = pts.map((p) => p[1]).concat(opts.hline && (!opts.logY || opts.hline.y > 0) ? [opts.hline.y] : []);
  const xs = pts.map((p) => p[0]);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (!opts.logY && y0 > 0 && y0 < y1 * 0.5) y0 = 0;
  if (x0 === x1) [x0, x1] = opts.logX ? [x0 / 2, x1 * 2] : [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = opts.logY ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
  if (opts.logY) [y0, y1] = [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))];
  const tx = (x: number) => {
    const f = opts.logX ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (x - x0) / (x1 - x0);
    return m.left + f * pw;
  };
  const ty = (y: number) => {
    const f = opts.logY ? (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (y - y0) / (y1 - y0);
    return m.top + ph - f * ph;
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(opts.title)}</text>`);
  const xt = opts.logX ? logTicks125(x0, x1) : niceTicks(x0, x1);
  const yt = opts.logY ? decadeTicks(y0, y1) : niceTicks(y0, y1);
  for (const t of xt) {
    const x = tx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  for (const t of yt) {
    const y = ty(t).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}${opts.logX ? ' (log)' : ''}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}${opts.logY ? ' (log)' : ''}</text>`);
  if (opts.hline && (!opts.logY || opts.hline.y > 0) && opts.hline.y >= y0 && opts.hline.y <= y1) {
    const y = ty(opts.hline.y).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#000" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${Number(y) - 4}" text-anchor="end">${escapeXml(opts.hline.label)}</text>`);
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const p = s.points.filter(([x, y]) => ok(x, y)).map(([x, y]) => `${tx(x).toFixed(1)},${ty(y).toFixed(1)}`);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (p.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${p.join(' ')}"/>`);
    for (const q of p) {
      const [cx, cy] = q.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
    }
    const ly = m.top + 8 + i * 18;
    out.push(`<line x1="${m.left + pw + 12}" y1="${ly}" x2="${m.left + pw + 36}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${m.left + pw + 40}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
