import { describe, expect, it } from 'vitest';
import { stoppingMessage } from '../../src/cli/stop-message.js';

// The Kafka job does not close open episodes at stop (KafkaPipeline.stop: they are replayed by the
// next owner); its stop line said "closing open episodes and flushing", shared with the OTLP/HTTP job.
describe('stop log line', () => {
  it('says what each job does at stop', () => {
    expect(stoppingMessage('kafka')).not.toMatch(/closing open episodes/);
    expect(stoppingMessage('kafka')).toMatch(/open episodes are not closed .*replays them from the committed offsets/);
    expect(stoppingMessage('otlp-http')).toBe('stopping: closing open episodes and flushing');
  });
});
