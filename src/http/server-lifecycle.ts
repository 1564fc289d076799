/**
 * Start/stop of the node:http servers agent-credit runs (OTLP/HTTP receiver, live page, health
 * server), so each gets the same semantics: `listen` rejects with the bind error (e.g.
 * EADDRINUSE, so the caller can name the config key) instead of crashing via an 'error' event.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:net';

/** Binds `server` to host:port; resolves once listening, rejects with the bind error. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes `server` now: stops accepting and drops every open connection (SSE streams included). */
export function closeNow(server: Server): Promise<void> {
  const done = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  return done;
}

/**
 * Names the setting to change when a server cannot bind (port taken, or not allowed; a host that is
 * not an address of this machine): the bare `listen EADDRINUSE` or `getaddrinfo ENOTFOUND` message
 * says which address, not which key sets it. Other errors pass as they are.
 */
export function withListenHint(err: unknown, key: string, hostKey?: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES') {
    return new Error(`cannot listen: ${e.message} — choose another port with ${key} (0 = any free port)`, { cause: err });
  }
  // `run` ended with only "getaddrinfo ENOTFOUND <host>" (check named the key)
  if (hostKey !== undefined && (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN' || e?.code === 'EADDRNOTAVAIL')) {
    return new Error(`cannot listen: ${e.message} — set ${hostKey} to an address of this machine (127.0.0.1 for this machine only, 0.0.0.0 for every interface)`, { cause: err });
  }
  return e instanceof Error ? e : new Error(String(err));
}

/** A listener of a job, for naming it when its port is taken: its address, setting and flag. */
export interface JobListener {
  host: string;
  port: number;
  key: string;
  flag?: string;
}

/**
 * `err`, a listener's EADDRINUSE, with the job's other listeners whose ports are taken too. A
 * second `run` beside a first one failed on the live page's port; moved, on the receiver's; moved
 * again, on the gRPC receiver's — one start each. Call it once the job has closed what it had
 * bound (those ports are free again, and not named). Ports 0 and the failing port are not probed.
 */
export async function withOthersInUse(err: Error, listeners: readonly JobListener[]): Promise<Error> {
  if (!/EADDRINUSE/.test(err.message)) return err;
  const taken: string[] = [];
  for (const l of listeners) {
    if (l.port === 0 || new RegExp(`:${l.port}\\b`).test(err.message)) continue;
    if (await portInUse(l.host, l.port)) taken.push(`${l.host}:${l.port} (${l.key}${l.flag ? `, ${l.flag}` : ''})`);
  }
  if (taken.length === 0) return err;
  const list = taken.length === 1 ? `${taken[0]} is` : `${taken.slice(0, -1).join(', ')} and ${taken.at(-1)} are`;
  return new Error(`${err.message}. ${list} in use too — another agent-credit running? Each instance needs ports of its own`, { cause: err.cause ?? err });
}

/** Whether binding host:port fails with EADDRINUSE (bound and released at once otherwise). */
function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    s.listen(port, host, () => s.close(() => resolve(false)));
  });
}

/** A job's local output: a sink (stdout, the live page) or the separate metrics server. */
export interface JobOutput {
  start(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Starts a job's outputs in order — the sinks, then the metrics server when it has its own port —
 * and returns them, started, for closing later. When one cannot start, closes those already
 * started (in reverse) and throws naming the setting of the one that failed (a taken port: the live
 * page's or the metrics server's). Shared by the OTLP/HTTP and the Kafka job.
 */
export async function startJobOutputs(sinks: readonly JobOutput[], metricsServer: JobOutput | undefined): Promise<JobOutput[]> {
  const started: JobOutput[] = [];
  let starting: 'sinks' | 'metrics' = 'sinks';
  try {
    for (const s of sinks) {
      await s.start();
      started.push(s);
    }
    if (metricsServer) {
      starting = 'metrics';
      await metricsServer.start();
      started.push(metricsServer);
    }
    return started;
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    throw withListenHint(err, starting === 'metrics' ? 'telemetry.metricsPort (--metrics-port)' : 'sinks.live.port (--live-port)', starting === 'metrics' ? 'telemetry.metricsHost' : 'sinks.live.host (--live-host)');
  }
}
