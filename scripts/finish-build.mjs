// After `tsc -p tsconfig.build.json` (npm run build): writes dist/.build-stamp, last, so a build
// that stopped halfway has none. bin/agent-credit.js runs dist/ only when the stamp is at least as
// new as every source file (src/**/*.ts, .mjs).
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/.build-stamp', import.meta.url), `${new Date().toISOString()}\n`);
