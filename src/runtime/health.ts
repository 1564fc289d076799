/**
 * Liveness and readiness of the running job, as served on `/healthz` and `/readyz`.
 * - live: the process is serving and no component reported a fatal failure.
 * - ready: every registered component (receiver listening, Kafka group joined, sinks started)
 *   says it is ready. Components register once and flip their own state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SelfTelemetry } from '../telemetry/self-metrics.js';
import type { LargeAnswers } from '../http/large-answers.js';

export interface ComponentHealth {
  ready: boolean;
  detail?: string;
}

export class HealthState {
  private readonly components = new Map<string, ComponentHealth>();
  private fatal: string | undefined;

  /** Declares a component (not ready until `set(name, true)`). */
  register(name: string, detail = 'starting'): void {
    if (!this.components.has(name)) this.components.set(name, { ready: false, detail });
  }

  set(name: string, ready: boolean, detail?: string): void {
    this.components.set(name, { ready, detail });
  }

  /** Marks the process unhealthy (liveness fails; an orchestrator restarts it). */
  setFatal(reason: string): void {
    this.fatal = reason;
  }

  live(): { ok: boolean; reason?: string } {
    return this.fatal ? { ok: false, reason: this.fatal } : { ok: true };
  }

  ready(): { ok: boolean; components: Record<string, ComponentHealth> } {
    const components = Object.fromEntries(this.components);
    const ok = !this.fatal && [...this.components.values()].every((c) => c.ready);
    return { ok, components };
  }
}

/**
 * Serves `/metrics`, `/healthz` and `/readyz` on an existing server; returns false for other
 * paths so the caller can route them.
 */
export function serveStatusRoutes(req: IncomingMessage, res: ServerResponse, health: HealthState, telemetry: SelfTelemetry | undefined, large?: LargeAnswers): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    const l = health.live();
    sendJson(res, l.ok ? 200 : 503, l.ok ? { status: 'ok' } : { status: 'failed', reason: l.reason });
    return true;
  }
  if (path === '/readyz') {
    const r = health.ready();
    sendJson(res, r.ok ? 200 : 503, { status: r.ok ? 'ready' : 'not ready', components: r.components });
    return true;
  }
  if (path === '/metrics') {
    if (!telemetry) {
      sendJson(res, 404, { error: 'metrics disabled' });
      return true;
    }
    // megabytes with a thousand agents, held until the client reads them: a bounded number at once
    if (large && !large.admit(res, '/metrics')) return true;
    telemetry.metricsText().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`# metrics collection failed: ${String(err)}\n`);
      },
    );
    return true;
  }
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
