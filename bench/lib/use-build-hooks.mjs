/**
 * Module resolution hooks for ./use-build.mjs: a TypeScript module resolved under src/ (tsx maps
 * `x.js` to `x.ts` first) is loaded from the same path under dist/, where `npm run build` (tsconfig.build.json:
 * rootDir src, outDir dist) put its compiled form.
 */
let src;
let dist;

export function initialize({ root }) {
  src = new URL('src/', root).href;
  dist = new URL('dist/', root).href;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  // Only TypeScript modules have a compiled form; anything else under src/ is used where it is.
  if (!resolved.url.startsWith(src) || !resolved.url.endsWith('.ts')) return resolved;
  return { ...resolved, url: `${dist}${resolved.url.slice(src.length, -3)}.js`, format: 'module' };
}
