// Worker bootstrap when agent-credit runs from its TypeScript sources (the bin without a build,
// vitest), or when the value function (credit.module) is TypeScript: registers tsx in this thread,
// then loads the worker module. Otherwise a compiled build loads worker.js directly.
import { workerData } from 'node:worker_threads';
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// both, as bin/agent-credit.js: a TypeScript value function outside a "type": "module" package loads as CommonJS
register();
registerCjs();
await import(workerData.entryUrl);
