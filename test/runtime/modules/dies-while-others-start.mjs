// A value function module for two credit workers starting together (CreditWorkerPool.start): the
// first to load it exits its thread soon after it is ready, while the other one is still loading —
// the other one finishes loading only once the file $DIES_WHILE_OTHERS_START_DIR/release exists
// (the test writes it when the pool reports the first worker replaced), or after 15 s. A worker
// that loads it later (a replacement) loads at once.
import { existsSync, openSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.DIES_WHILE_OTHERS_START_DIR;
let first = false;
try {
  openSync(join(dir, 'first'), 'wx');
  first = true;
} catch {
  // another worker loaded it first
}
if (first) {
  // after its 'ready' (the module is loaded, the game built): the pool sees a running worker exit
  setTimeout(() => process.exit(3), 300);
} else {
  await new Promise((resolve) => {
    const until = Date.now() + 15_000;
    const poll = setInterval(() => {
      if (existsSync(join(dir, 'release')) || Date.now() > until) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
}

export function value(coalition) {
  return coalition.length;
}
