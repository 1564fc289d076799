/**
 * The self-metrics resource said `service.version` "0.1.0", a literal in self-metrics.ts, whatever
 * the release; `--version` read another literal. Both now read package.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SelfTelemetry } from '../../src/telemetry/self-metrics.js';
import { AGENT_CREDIT_VERSION } from '../../src/version.js';

const packageVersion = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('agent-credit version', () => {
  it('is package.json\'s', () => {
    expect(AGENT_CREDIT_VERSION).toBe(packageVersion);
  });

  it('is the service_version of /metrics\' target_info', async () => {
    const telemetry = new SelfTelemetry();
    try {
      expect(await telemetry.metricsText()).toContain(`target_info{service_name="agent-credit",service_version="${packageVersion}"} 1`);
    } finally {
      await telemetry.shutdown();
    }
  });
});
