/**
 * `view`'s live port from the configuration: `view -c job.yaml` is most often given the Kafka
 * job's own file, whose sinks.live.port is the job's. Its --help listed the built-in port whatever
 * the file said (run's, replay's and check's show the defaults in effect), and its start line did
 * not say why the page came up on another port than the one the help named.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configuredLivePort, startViewJob, type ViewJob } from '../../src/cli/view-job.js';
import { loadConfig } from '../../src/config/index.js';
import type { Logger } from '../../src/telemetry/logger.js';
import { FakeKafka } from '../kafka/fake-kafka.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('ac-view-port-');
const file = join(dir, 'job.yaml');
writeFileSync(file, "source:\n  kind: kafka\n  kafka:\n    brokers: ['127.0.0.1:1']\n    groupId: v\nsinks:\n  live:\n    host: 127.0.0.1\n    port: 0\n  kafka:\n    topics: { episodes: v.episodes, rewards: v.rewards, preferences: v.preferences, dlq: v.dlq }\n");

/** `configuredLivePort` as the view command calls it, on the configuration that command line loads. */
function portNote(options: { file?: string; env?: Record<string, string>; flag?: string }): string | undefined {
  const { config, origins } = loadConfig({ ...(options.file !== undefined ? { file: options.file } : {}), env: options.env ?? {}, overrides: { 'sinks.live.port': options.flag }, flagNames: { 'sinks.live.port': '--live-port' } });
  return configuredLivePort(config.sinks.live.port, origins.get('sinks.live.port'), options.file);
}

describe('view: where its live port came from', () => {
  it('the -c file or an AGENT_CREDIT_* variable is named; the built-in port and --live-port are not', () => {
    expect(portNote({ file })).toBe(`from the configuration: sinks.live.port 0 in ${file} (built-in 8080; --live-port sets another)`);
    expect(portNote({ file, env: { AGENT_CREDIT_SINKS_LIVE_PORT: '9090' } })).toBe('from the configuration: AGENT_CREDIT_SINKS_LIVE_PORT=9090 (built-in 8080; --live-port sets another)');
    expect(portNote({ file, flag: '9191' })).toBeUndefined();
    expect(portNote({})).toBeUndefined();
    expect(portNote({ env: { AGENT_CREDIT_SINKS_LIVE_PORT: '8080' } })).toBeUndefined(); // the built-in one: nothing to explain
  });

  let job: ViewJob | undefined;
  afterEach(async () => {
    await job?.stop();
    job = undefined;
  });

  it('the start line carries it beside the page\'s address', async () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const none = () => undefined;
    const logger = { info: (obj: Record<string, unknown>, msg: string) => void lines.push({ obj, msg }), warn: none, debug: none, error: none, trace: none, fatal: none, child: () => logger } as unknown as Logger;
    const { config } = loadConfig({ file, env: {} });
    const livePortFrom = configuredLivePort(config.sinks.live.port, undefined, file)!;
    job = await startViewJob(config, { logger, sinceMs: null, client: new FakeKafka(), livePortFrom });
    const start = lines.find((l) => l.msg.startsWith('agent-credit view:'))!;
    expect(start.obj.live).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(start.obj.livePort).toBe(`from the configuration: sinks.live.port 0 in ${file} (built-in 8080; --live-port sets another)`);
  });
});
