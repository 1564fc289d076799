// `prepare` (npm runs it on `npm install` / `npm ci` in this directory, on `npm pack`, and for
// `npm install <path or git URL>`): `npm run build` where there is something to build from — a
// checkout, with tsconfig.build.json. A packed package (the tarball of `npm pack`, unpacked, then
// `npm install` run in it or `npm install <its path>`) ships its build (dist/, stamped) but not the
// build's configuration, and needs no TypeScript: the build there removed dist/ and then failed
// ('tsc: not found' without devDependencies, else tsconfig.build.json not found), leaving a package
// that could neither be installed nor run. So this file is packed too (package.json `files`).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const root = new URL('../', import.meta.url);
if (!existsSync(new URL('tsconfig.build.json', root)) && existsSync(new URL('dist/.build-stamp', root))) {
  console.log('agent-credit: a packed package with its build (dist/): nothing to build');
} else {
  try {
    execSync('npm run build', { cwd: root, stdio: 'inherit' });
  } catch (err) {
    process.exit(typeof err.status === 'number' ? err.status : 1);
  }
}
