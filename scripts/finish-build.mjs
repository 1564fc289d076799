// After `tsc -p tsconfig.build.json` (npm run build): copies what tsc does not emit — the credit
// worker's tsx bootstrap (src/runtime/credit-workers/boot.mjs) — and writes dist/.build-stamp last,
// so a build that stopped halfway has none. bin/agent-credit.js runs dist/ only when the stamp is
// at least as new as every source file (src/**/*.ts, boot.mjs).
import { copyFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
copyFileSync(new URL('src/runtime/credit-workers/boot.mjs', root), new URL('dist/runtime/credit-workers/boot.mjs', root));
writeFileSync(new URL('dist/.build-stamp', root), `${new Date().toISOString()}\n`);
