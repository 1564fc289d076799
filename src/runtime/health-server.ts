/**
 * A small HTTP server with only `/metrics`, `/healthz` and `/readyz`, started when
 * `telemetry.metricsPort` asks for a separate port (e.g. Kubernetes probes). Without it they are
 * served by the live page only (with the page off: none — src/config/advice.ts says so).
 *
 * Optional security (`security`, from `telemetry.metricsTls` / `metricsAuth`): https, and a bearer
 * token and/or a client certificate for `/metrics` — which names every agent and its credit.
 * `/healthz` and `/readyz` stay open, whatever is set: this server is where the probes go, and a
 * kubelet's https probe sends neither a token nor a client certificate (it does not verify the
 * server's either). So with a client CA the TLS handshake asks for a certificate without
 * requiring one, and `/metrics` refuses a connection that did not present a valid one.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { SelfTelemetry } from '../telemetry/self-metrics.js';
import { HealthState, sendJson, serveStatusRoutes } from './health.js';
import { closeNow, listen } from '../http/server-lifecycle.js';
import { BearerAuth } from '../http/bearer-auth.js';
import { createListenerServer, loopbackHostAllowed, type ListenerSecurity } from '../http/listener-security.js';
import { LargeAnswers } from '../http/large-answers.js';

export class HealthServer {
  private server: Server | undefined;
  /** /metrics answers being sent (src/http/large-answers.ts). */
  private readonly large = new LargeAnswers();

  constructor(
    private readonly options: { host: string; port: number; security?: ListenerSecurity },
    private readonly health: HealthState,
    private readonly telemetry: SelfTelemetry | undefined,
  ) {}

  async start(): Promise<void> {
    const tls = this.options.security?.tls;
    // a client CA: ask for the certificate in the handshake but let probes without one in (checked per path below)
    const server = createListenerServer(tls && tls.ca !== undefined ? { ...tls, rejectUnauthorized: false } : tls, (req, res) => this.route(req, res), this.options.security?.tlsUpdates);
    this.server = server;
    await listen(server, this.options.port, this.options.host);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz') {
      // on 127.0.0.1 (the default metricsHost) a page could rebind its name to it and read /metrics through the browser
      if (!loopbackHostAllowed(this.options.host, req.headers.host)) {
        sendJson(res, 403, { error: `Host ${JSON.stringify(req.headers.host ?? '')} not served: the status server listens on a loopback address and answers only requests for localhost (a DNS-rebinding guard); to reach it from elsewhere set telemetry.metricsHost` });
        return;
      }
      if (!this.authorized(req, res)) return;
    }
    if (!serveStatusRoutes(req, res, this.health, this.telemetry, this.large)) sendJson(res, 404, { error: 'not found: /metrics, /healthz, /readyz' });
  }

  /** The client certificate (with a client CA) and the bearer token (with auth); answers 403 (certificate) or 401 (token) when one is missing or wrong. */
  private authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const security = this.options.security;
    if (security?.tls?.ca !== undefined) {
      const socket = req.socket as TLSSocket;
      if (!socket.authorized) {
        // no certificate shows as an empty peer certificate (its authorizationError then names a missing issuer, misleadingly)
        const presented = Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
        const why = presented ? `its certificate was refused (${String(socket.authorizationError ?? 'not signed by that CA')})` : 'it presented no client certificate';
        sendJson(res, 403, { error: `client certificate required: ${why} — present a certificate signed by the CA of telemetry.metricsTls.clientCaFile (Prometheus: tls_config.cert_file / key_file)` });
        return false;
      }
    }
    const auth = security?.auth;
    if (!auth) return true;
    const check = auth.checkHeader(req.headers.authorization);
    if (check === 'ok') return true;
    BearerAuth.refuse(res, check, 'agent-credit metrics', `${BearerAuth.problem(check, req.headers.authorization)}: send Authorization: Bearer <token> with a token of telemetry.metricsAuth (Prometheus: authorization.credentials_file)`);
    return false;
  }

  port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  /** `http` or `https`, as the server was started. */
  scheme(): 'http' | 'https' {
    return this.options.security?.tls ? 'https' : 'http';
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await closeNow(s);
  }
}
