/**
 * Runs the reference judge: `npx tsx examples/reference-judge/main.ts --port 8090 --required "Plan:,LGTM"`.
 * Rubrics per episode can be registered at runtime with `PUT /episodes/{id}`.
 */
import { Command } from 'commander';
import { startReferenceJudge } from './judge.js';

const program = new Command('reference-judge')
  .option('--port <n>', 'port to listen on', '8090')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--required <items>', 'comma-separated required substrings (default rubric)')
  .option('--forbidden <items>', 'comma-separated forbidden substrings (default rubric)')
  .option('--no-batch', 'do not serve /score/batch')
  .parse();
const o = program.opts<{ port: string; host: string; required?: string; forbidden?: string; batch: boolean }>();
// checked here: Node's listen() threw ERR_SOCKET_BAD_PORT with a stack trace for `--port abc`
if (!/^\d+$/.test(o.port) || Number(o.port) > 65_535) {
  console.error(`--port: expected a port number 0–65535, got ${JSON.stringify(o.port)}`);
  process.exit(2);
}
const split = (s?: string) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
const judge = await startReferenceJudge({
  port: Number(o.port),
  host: o.host,
  batch: o.batch,
  defaultRubric: o.required ? { required: split(o.required), forbidden: split(o.forbidden) } : undefined,
});
console.log(`reference judge listening on ${judge.url} (batch: ${o.batch ? `${judge.url}/batch` : 'off'})`);
const stop = () => void judge.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
