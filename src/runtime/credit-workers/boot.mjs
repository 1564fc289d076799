// Worker bootstrap when agent-credit runs from its TypeScript sources (the bin without a build,
// vitest): registers tsx in this thread, then loads the worker module. A compiled build loads
// worker.js directly (a TypeScript value function registers tsx itself: src/credit/games/typescript-loader.ts).
import { workerData } from 'node:worker_threads';
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// both, as bin/agent-credit.js: a TypeScript value function outside a "type": "module" package loads as CommonJS
register();
registerCjs();
await import(workerData.entryUrl);
