/** Starts test/integration/pipeline-child.ts with tsx and follows its stats lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KafkaPipelineStats } from '../../../src/runtime/kafka-counters.js';
import type { PipelineTopics } from './pipeline-harness.js';
import type { EpisodeAssemblerOptionsInput } from '../../../src/episodes/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface PipelineChild {
  readonly proc: ChildProcess;
  stats(): KafkaPipelineStats | undefined;
  started(): boolean;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  output(): string;
  /** The last raw stats line (includes the assembler's stats), for diagnostics. */
  lastLine(): string;
}

export function startChild(config: {
  brokers: string;
  topics: PipelineTopics;
  groupId: string;
  delivery: 'exactly-once' | 'at-least-once';
  creditDelayMs: number;
  idleMs: number;
  assembler?: EpisodeAssemblerOptionsInput;
  /** The pipeline consumer's session timeout (default 6 000). */
  sessionTimeoutMs?: number;
  /** `sink.replayFilterTopic` (default the pipeline's). */
  replayFilterTopic?: string | null;
  /** Credit of a correction (revision > 0) takes this long (default `creditDelayMs`): a kill finds it unpublished. */
  correctionDelayMs?: number;
}): PipelineChild {
  // `node --import tsx` (not the tsx CLI, which runs the script in a grandchild): the signal
  // must reach the process that runs the pipeline.
  const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, '..', 'pipeline-child.ts')], {
    env: { ...process.env, PIPELINE_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last: KafkaPipelineStats | undefined;
  let isStarted = false;
  let buf = '';
  let lastLine = '';
  let errOut = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const msg = JSON.parse(line) as { stats?: KafkaPipelineStats; started?: boolean };
        if (msg.stats) {
          last = msg.stats;
          lastLine = line;
        }
        if (msg.started) isStarted = true;
      } catch {
        errOut += line + '\n';
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (errOut += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, stats: () => last, started: () => isStarted, exited, output: () => errOut, lastLine: () => lastLine };
}
