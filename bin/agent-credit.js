#!/usr/bin/env node
// Launcher. Runs the compiled CLI (dist/, from `npm run build`, which `npm install` / `npm ci` run
// as `prepare`) when it is up to date (launch-target.js): it starts in about half the time and
// credits ~8 % faster than the same code transformed by tsx on the fly. Else — a checkout without
// a build, or a source edited since — the TypeScript sources through tsx, so an edit never runs
// stale; AGENT_CREDIT_FROM_SOURCES=1 always runs the sources.
// tsx is registered either way — for ES modules and for CommonJS, as the `tsx` command does: a
// value-function module (credit.module) may be TypeScript, and a .ts file outside a
// `"type": "module"` package is loaded as CommonJS (with the ES-module hooks alone, Node then
// refused it: "Cannot require() ES Module … in a cycle").
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';
import { launchTarget } from './launch-target.js';

register();
registerCjs();
const root = new URL('..', import.meta.url);
const { target } = launchTarget(root);
await import(new URL(target === 'dist' ? 'dist/cli/main.js' : 'src/cli/main.ts', root).href);
