/**
 * Loaded with `--import` after tsx by `npm run bench` (and the bench's child processes and
 * threads, which inherit the flags): the benchmark measures the code `npm start` runs. When the
 * compiled build is up to date (bin/launch-target.js, the launcher's own rule), every module the
 * benchmark loads from src/ is loaded from its dist/ counterpart instead — tsc's ES2022 output
 * rather than tsx's on-the-fly transform (esbuild with keepNames: a `__name` call per function
 * created). All of src/ is redirected, never part of it, so there is one copy of each module.
 * Otherwise (no build, a source newer than the build, AGENT_CREDIT_FROM_SOURCES=1) the sources
 * run, and RESULTS.md says so with the reason.
 *
 * Sets AGENT_CREDIT_BENCH_CODE for the report: `dist` or `sources: <reason>`.
 */
import { register } from 'node:module';
import { launchTarget } from '../../bin/launch-target.js';

const root = new URL('../../', import.meta.url);
const { target, reason } = launchTarget(root);
process.env.AGENT_CREDIT_BENCH_CODE = target === 'dist' ? 'dist' : `sources: ${reason}`;
if (target === 'dist') register(new URL('./use-build-hooks.mjs', import.meta.url), { data: { root: root.href } });
