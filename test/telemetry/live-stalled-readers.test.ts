/**
 * Clients that ask for a large answer and never read it: GET /api/recent (up to 8 MiB of events),
 * /api/agents, /metrics. Each answer's body stays in the process until the client has read it, and
 * nothing bounded how many — 150 stalled GET /api/recent of a full buffer held 1.8 GB, so anything
 * that could reach the page (a local process with the page open, as by default) could have the
 * job killed for memory. SSE clients have been bounded (maxClients, maxClientBufferBytes); these
 * answers are now too: at most MAX_LARGE_ANSWERS being sent at once, 503 + Retry-After beyond, the
 * slots free again once the clients read or go.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { AgentBoardSnapshot, AgentStanding } from '../../src/events/agent-board.js';
import { MAX_LARGE_ANSWERS } from '../../src/http/large-answers.js';
import { HealthState } from '../../src/runtime/health.js';
import { HealthServer } from '../../src/runtime/health-server.js';
import { LiveSink } from '../../src/sinks/live/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { sampleEpisodeCredit } from '../support/sample-events.js';

const bigCredit = (i: number): CreditEvent =>
  sampleEpisodeCredit(`e${i}`, { event_id: String(i).padStart(32, '0'), diagnostics: { warnings: ['x'.repeat(400_000)], late_spans: 0, duplicate_spans: 0, reward_bound: 1 } });

/** A board of 1,000 agents with 256-byte ids and names: /metrics of about 8 MB. */
function bigBoard(): AgentBoardSnapshot {
  const agents: AgentStanding[] = Array.from({ length: 1000 }, (_, i) => {
    const id = `${i}`.padEnd(256, 'a');
    return { agent_id: id, agent_name: id, episodes: 1, successes: 1, failures: 0, credit_sum: 1, credit_mean: 1, first_errors: 0, steps: 1, harmful_steps: 0, redundant_steps: 0, repairs: 0, last_seen_ms: 0 };
  });
  return { episodes: 1000, successes: 1000, failures: 0, system_value_mean: 1, partial_estimates: 0, message_rewards: 0, preference_pairs: 0, corrections: 0, corrections_unmatched: 0, duplicates: 0, agents_dropped: 0, agents };
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** GETs `path` and stops reading once the answer has begun: resolves when the first bytes came. */
function stalledGet(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    s.on('error', reject);
    s.once('data', () => {
      s.pause();
      resolve();
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

/** A reading client's GET: status and Retry-After. */
function get(port: number, path: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('large answers to clients that do not read them', () => {
  it('live page: at most MAX_LARGE_ANSWERS of /api/recent, /api/agents and /metrics are being sent at once; more get 503, and the slots free when the clients go', { timeout: 30_000 }, async () => {
    const telemetry = new SelfTelemetry();
    telemetry.observeAgents(bigBoard);
    const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 40, maxClients: 4, telemetry });
    await live.start();
    try {
      live.publish(Array.from({ length: 40 }, (_, i) => bigCredit(i))); // /api/recent: its 8 MiB cap
      const port = live.address().port;
      const paths = ['/api/recent', '/metrics'];
      await Promise.all(Array.from({ length: MAX_LARGE_ANSWERS }, (_, i) => stalledGet(port, paths[i % 2]!)));
      for (const path of ['/api/recent', '/api/agents', '/metrics']) {
        const r = await get(port, path);
        expect(r.status, path).toBe(503);
        expect(r.retryAfter, path).toBe('1');
      }
      // the page and the probes are small answers: served
      expect((await get(port, '/')).status).toBe(200);
      expect((await get(port, '/healthz')).status).toBe(200);
      for (const s of sockets.splice(0)) s.destroy();
      await vi.waitFor(async () => expect((await get(port, '/api/recent')).status).toBe(200), { timeout: 10_000, interval: 50 });
      expect((await get(port, '/metrics')).status).toBe(200);
    } finally {
      await live.close();
      await telemetry.shutdown();
    }
  });

  it('status server: /metrics likewise', { timeout: 30_000 }, async () => {
    const telemetry = new SelfTelemetry();
    telemetry.observeAgents(bigBoard);
    const server = new HealthServer({ host: '127.0.0.1', port: 0 }, new HealthState(), telemetry);
    await server.start();
    try {
      const port = server.port();
      await Promise.all(Array.from({ length: MAX_LARGE_ANSWERS }, () => stalledGet(port, '/metrics')));
      const r = await get(port, '/metrics');
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe('1');
      expect((await get(port, '/readyz')).status).toBe(200);
      for (const s of sockets.splice(0)) s.destroy();
      await vi.waitFor(async () => expect((await get(port, '/metrics')).status).toBe(200), { timeout: 10_000, interval: 50 });
    } finally {
      await server.close();
      await telemetry.shutdown();
    }
  });
});
