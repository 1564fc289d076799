// After `tsc -p tsconfig.build.json` (npm run build): writes dist/.build-stamp, last, so a build
// that stopped halfway has none. bin/agent-credit.js runs dist/ when the stamp is at least as new
// as every source file (src/**/*.ts, .mjs), or when the sources are still those the stamp's digest
// names (an installed package: npm gives every file its extraction time, src/ after dist/).
import { writeFileSync } from 'node:fs';
import { sourcesDigest } from '../bin/launch-target.js';

const digest = sourcesDigest(new URL('../src/', import.meta.url));
writeFileSync(new URL('../dist/.build-stamp', import.meta.url), `${new Date().toISOString()}\nsources sha256:${digest}\n`);
