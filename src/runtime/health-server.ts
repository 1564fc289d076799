/**
 * A small HTTP server with only `/metrics`, `/healthz` and `/readyz`: used when the live page
 * is disabled or `telemetry.metricsPort` asks for a separate port (e.g. Kubernetes probes).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SelfTelemetry } from '../telemetry/self-metrics.js';
import { HealthState, sendJson, serveStatusRoutes } from './health.js';
import { closeNow, listen } from '../http/server-lifecycle.js';

export class HealthServer {
  private server: Server | undefined;

  constructor(
    private readonly options: { host: string; port: number },
    private readonly health: HealthState,
    private readonly telemetry: SelfTelemetry | undefined,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (!serveStatusRoutes(req, res, this.health, this.telemetry)) sendJson(res, 404, { error: 'not found: /metrics, /healthz, /readyz' });
    });
    this.server = server;
    await listen(server, this.options.port, this.options.host);
  }

  port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await closeNow(s);
  }
}
