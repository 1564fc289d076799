/**
 * A listener's security settings (`tls`, `auth`) read into what the server needs, for the OTLP/HTTP
 * receiver (`source.http`) and the live page (`sinks.live`). `resolveListenerSecurity` reads every
 * file at start and throws one ConfigError listing every problem (each naming its key);
 * `createListenerServer` serves https when TLS is set.
 */
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { AppConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { filesStamp } from './file-stamp.js';
import { BearerAuth, resolveBearerAuth, type ListenerAuthSetting } from './bearer-auth.js';
import { resolveListenerTls, TlsUpdates, type ListenerTls, type ListenerTlsSetting } from './listener-tls.js';

export interface ListenerSecuritySettings {
  tls?: ListenerTlsSetting | undefined;
  auth?: ListenerAuthSetting | undefined;
}

/** A listener's TLS material and accepted tokens; both optional (unset = plain http, no auth). */
export interface ListenerSecurity {
  tls?: ListenerTls;
  auth?: BearerAuth;
  /** With `tls`: the listener's servers, to serve a renewed certificate (src/http/credential-renewal.ts). */
  tlsUpdates?: TlsUpdates;
}

/**
 * Reads one listener's files; problems are appended (see the resolvers). `keys` names the settings
 * in messages: `<prefix>.tls` / `<prefix>.auth` unless given (the status server's are flat).
 */
export function resolveListenerSecurityInto(
  settings: ListenerSecuritySettings,
  prefix: string,
  problems: string[],
  keys: { tls: string; auth: string } = { tls: `${prefix}.tls`, auth: `${prefix}.auth` },
): ListenerSecurity {
  const out: ListenerSecurity = {};
  if (settings.tls) {
    const tls = resolveListenerTls(settings.tls, keys.tls, problems);
    if (tls) {
      out.tls = tls;
      out.tlsUpdates = new TlsUpdates();
    }
  }
  if (settings.auth) {
    const auth = resolveBearerAuth(settings.auth, keys.auth, problems);
    if (auth) out.auth = auth;
  }
  return out;
}

/** One listener's security; throws a ConfigError naming each problem's key. */
export function resolveListenerSecurity(settings: ListenerSecuritySettings, prefix: string): ListenerSecurity {
  const problems: string[] = [];
  const out = resolveListenerSecurityInto(settings, prefix, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/**
 * The security of the job's listeners — the receiver (otlp-http source; its OTLP/gRPC listener,
 * `source.grpc`, uses the same: never open while OTLP/HTTP is protected), the live page (when
 * enabled) and the status server (`telemetry.metricsPort`, when set) — read now, so every bad file
 * is reported at once, before anything listens.
 */
export function resolveJobListeners(config: AppConfig): JobListeners {
  const problems: string[] = [];
  const watched: WatchedListener[] = [];
  const resolve = (name: string, settings: ListenerSecuritySettings, keys: { tls: string; auth: string }): ListenerSecurity => {
    // before reading: a file renewed from here on is seen as changed by the watcher made later
    const readStamp = filesStamp(listenerSettingsFiles(settings));
    const security = resolveListenerSecurityInto(settings, name, problems, keys);
    watched.push({ name, settings, keys, security, readStamp });
    return security;
  };
  const receiver = config.source.kind === 'otlp-http' ? resolve('source.http', config.source.http, { tls: 'source.http.tls', auth: 'source.http.auth' }) : {};
  const live = config.sinks.live.enabled && config.source.kind !== 'file' ? resolve('sinks.live', config.sinks.live, { tls: 'sinks.live.tls', auth: 'sinks.live.auth' }) : {};
  const t = config.telemetry;
  // the status server's keys are flat, beside metricsPort
  const status = t.metricsPort !== null && config.source.kind !== 'file' ? resolve('telemetry', { tls: t.metricsTls, auth: t.metricsAuth }, { tls: 'telemetry.metricsTls', auth: 'telemetry.metricsAuth' }) : {};
  problems.push(...sharedListenerPorts(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return { receiver, live, status, watched };
}

/** The job's listeners' security, and what a file watcher needs to read their files again. */
export interface JobListeners {
  receiver: ListenerSecurity;
  live: ListenerSecurity;
  status: ListenerSecurity;
  watched: WatchedListener[];
}

/** One listener's settings (file paths) and the security read from them, kept up to date by renewal. */
export interface WatchedListener {
  /** The settings' prefix, e.g. `source.http`; `telemetry` for the status server. */
  name: string;
  settings: ListenerSecuritySettings;
  keys: { tls: string; auth: string };
  security: ListenerSecurity;
  /** The files' state just before they were read (src/http/file-stamp.ts). */
  readStamp: string;
}

/** The files a listener's settings name: certificate, key, client CA, token file. */
export function listenerSettingsFiles(settings: ListenerSecuritySettings): string[] {
  const t = settings.tls;
  return [t?.certFile, t?.keyFile, t?.clientCaFile, settings.auth?.tokenFile].filter((f): f is string => f !== undefined);
}

/**
 * An http server, or an https one when `tls` is set (mutual TLS when it has a client CA); with
 * `updates`, a renewed certificate reaches it (src/http/credential-renewal.ts).
 */
export function createListenerServer(tls: ListenerTls | undefined, handler: RequestListener, updates?: TlsUpdates): Server {
  if (!tls) return createHttpServer(handler);
  const server = createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}), requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized }, handler);
  updates?.follow(server);
  return server;
}

/** Hosts that listen on every address (a listener there takes the port on all of them). */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']);

/**
 * Two of the job's listeners set to the same port (not 0) on the same or an any-address host: the
 * second cannot listen. `run` failed with EADDRINUSE naming one of them, after the other had
 * started, and `check` — which binds each alone — said both were free and the job ready.
 */
export function sharedListenerPorts(config: AppConfig): string[] {
  const t = config.telemetry;
  const listeners = [
    ...(config.source.kind === 'otlp-http' ? [{ port: config.source.http.port, host: config.source.http.host, keys: { port: 'source.http.port', host: 'source.http.host' } }] : []),
    ...(config.source.kind === 'otlp-http' && config.source.grpc.enabled ? [{ port: config.source.grpc.port, host: config.source.grpc.host, keys: { port: 'source.grpc.port', host: 'source.grpc.host' } }] : []),
    ...(config.sinks.live.enabled && config.source.kind !== 'file' ? [{ port: config.sinks.live.port, host: config.sinks.live.host, keys: { port: 'sinks.live.port', host: 'sinks.live.host' } }] : []),
    ...(t.metricsPort !== null && config.source.kind !== 'file' ? [{ port: t.metricsPort, host: t.metricsHost, keys: { port: 'telemetry.metricsPort', host: 'telemetry.metricsHost' } }] : []),
  ];
  const problems: string[] = [];
  listeners.forEach((l, i) => {
    const other = listeners.slice(0, i).find((o) => {
      if (l.port === 0 || o.port !== l.port) return false;
      const [a, b] = [l.host.trim().toLowerCase(), o.host.trim().toLowerCase()];
      return a === b || ANY_ADDRESS.has(a) || ANY_ADDRESS.has(b);
    });
    if (other) {
      problems.push(`${l.keys.port}: ${l.port} is also ${other.keys.port} (${other.keys.host} ${other.host}, ${l.keys.host} ${l.host}): two listeners cannot share a port — give each its own port, or 0 for any free port`);
    }
  });
  return problems;
}

/**
 * The DNS-rebinding guard of a server bound to a loopback address: only requests whose Host names a
 * loopback host (an IP literal, `localhost`, `*.localhost`, which browsers never resolve through DNS)
 * are served — otherwise a web page the operator visits could rebind its own name to 127.0.0.1 and
 * read the server's answers through the browser. Any Host is served on other addresses, and a
 * request without one (HTTP/1.0 clients and probes; browsers always send it).
 */
export function loopbackHostAllowed(listenHost: string, hostHeader: string | undefined): boolean {
  if (!isLoopbackHost(listenHost)) return true;
  if (hostHeader === undefined) return true;
  const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
  return isLoopbackHost(name);
}

/**
 * True for addresses only this machine reaches: `localhost`, 127.0.0.0/8, ::1 (and IPv4-mapped
 * 127.x). `0.0.0.0`, `::` and every other name or address are reachable from elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.');
  return false;
}
