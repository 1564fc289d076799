#!/usr/bin/env node
// Launcher. Runs the compiled CLI (dist/, from `npm run build`, which `npm install` / `npm ci` run
// as `prepare`) when it is up to date (launch-target.js): it starts in about half the time and
// credits ~8 % faster than the same code transformed by tsx on the fly. Else — a checkout without
// a build, or a source edited since — the TypeScript sources through tsx, so an edit never runs
// stale; AGENT_CREDIT_FROM_SOURCES=1 always runs the sources.
// tsx is registered either way: a value-function module (credit.module) may be TypeScript.
import { register } from 'tsx/esm/api';
import { launchTarget } from './launch-target.js';

register();
const root = new URL('..', import.meta.url);
const { target } = launchTarget(root);
await import(new URL(target === 'dist' ? 'dist/cli/main.js' : 'src/cli/main.ts', root).href);
