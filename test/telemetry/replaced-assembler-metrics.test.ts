import { describe, expect, it } from 'vitest';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { ReplacedAssemblerObservations, SelfTelemetry } from '../../src/telemetry/self-metrics.js';
import { recordRuns } from '../episodes/sdk.js';

/** The sample of `name` (its one series) in Prometheus text, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics of an assembler the Kafka runtime replaces at a group join', () => {
  it('keep the totals of the replaced one (no counter falls to 0 at a rebalance); gauges read the current one', async () => {
    const telemetry = new SelfTelemetry();
    const first = new EpisodeAssembler({});
    const observed = new ReplacedAssemblerObservations(first);
    telemetry.observe(() => observed.read());
    const [a, b] = recordRuns([{}, {}]);
    first.addSpans(a!);
    first.addSpans([a![0]!]); // an exporter retry: a duplicate span
    expect(first.stats()).toMatchObject({ duplicateSpans: 1, open: 1 });
    const before = await telemetry.metricsText();
    expect(sample(before, 'agent_credit_duplicate_spans_total')).toBe(1);
    expect(sample(before, 'agent_credit_episodes_open')).toBe(1);

    // a group join: the runtime drops the open episodes and makes a fresh assembler
    const second = observed.replace(new EpisodeAssembler({}));
    second.addSpans(b!);
    second.addSpans(b!);
    const after = await telemetry.metricsText();
    expect(sample(after, 'agent_credit_duplicate_spans_total')).toBe(1 + b!.length);
    expect(sample(after, 'agent_credit_episodes_open')).toBe(1);
    await telemetry.shutdown();
  });
});
