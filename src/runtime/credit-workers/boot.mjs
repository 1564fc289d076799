// Worker bootstrap when agent-credit runs from its TypeScript sources (npm start, the bin, vitest):
// registers tsx in this thread, then loads the worker module. A compiled build loads worker.js directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entryUrl);
