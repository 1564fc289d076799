#!/usr/bin/env node
// Launcher. Runs the compiled CLI (dist/, from `npm run build`, which `npm install` / `npm ci` run
// as `prepare`) when it is up to date (launch-target.js): it credits ~8 % faster than the same
// code transformed by tsx on the fly, and starts without tsx's loader (a TypeScript value
// function registers tsx then: src/credit/games/typescript-loader.ts). Else — a checkout without a build,
// or a source edited since — the TypeScript sources through tsx, so an edit never runs stale;
// AGENT_CREDIT_FROM_SOURCES=1 always runs the sources. tsx is registered for ES modules and for
// CommonJS, as the `tsx` command does: a .ts value function outside a `"type": "module"` package
// is loaded as CommonJS (with the ES-module hooks alone, Node refused it: "Cannot require() ES
// Module … in a cycle").
import { launchTarget } from './launch-target.js';

const root = new URL('..', import.meta.url);
const { target } = launchTarget(root);
if (target === 'sources') {
  const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  register();
  registerCjs();
}
await import(new URL(target === 'dist' ? 'dist/cli/main.js' : 'src/cli/main.ts', root).href);
