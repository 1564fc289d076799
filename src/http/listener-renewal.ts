/**
 * Renewal of the listeners' TLS and token files while the job runs. cert-manager renews a
 * certificate before it expires, and Kubernetes updates a mounted Secret in place (a symlink
 * swap): a job that read its files only at start served the old certificate until it expired, and
 * rotating a token needed two restarts.
 *
 * `ListenerFileWatcher` looks at the files every `intervalMs` (their inode, size and times —
 * polling, because fs.watch misses a Secret's symlink swap and is not reliable on network
 * volumes). When a listener's files changed it reads and checks them as at start
 * (`resolveListenerSecurityInto`): good ones take effect for new connections (`TlsUpdates`,
 * `BearerAuth.adopt`); bad ones — a half-written rotation, a key that does not match the new
 * certificate — are reported naming the key and the fix, and the listener keeps serving what it
 * had; they are read again at the next change. Open connections keep their certificate.
 */
import { statSync } from 'node:fs';
import { resolveListenerSecurityInto, type WatchedListener } from './listener-security.js';

/** How often the files are looked at: well within a Secret update's ~1 min, cheap (a few stats). */
export const LISTENER_FILE_CHECK_MS = 15_000;

export type RenewalOutcome = 'renewed' | 'failed';

export interface ListenerFileWatcherOptions {
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  intervalMs?: number;
  /** Called once per listener whose files changed (metrics). */
  onRenewal?: (listener: string, outcome: RenewalOutcome) => void;
}

/** The files a listener's settings name: certificate, key, client CA, token file. */
export function listenerFiles(w: WatchedListener): string[] {
  const t = w.settings.tls;
  return [t?.certFile, t?.keyFile, t?.clientCaFile, w.settings.auth?.tokenFile].filter((f): f is string => f !== undefined);
}

/** What tells a changed file: inode (a replaced file), size and times; an error code when unreadable. */
function stampOf(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

export class ListenerFileWatcher {
  private readonly watched: { listener: WatchedListener; files: string[]; seen: string }[];
  private timer: NodeJS.Timeout | undefined;
  /** Listeners whose last change could not be used. */
  private readonly failing = new Set<string>();

  /** Takes the files' current state as the one read at start (`resolveJobListeners` just read them). */
  constructor(listeners: readonly WatchedListener[], private readonly options: ListenerFileWatcherOptions) {
    this.watched = listeners
      .map((listener) => ({ listener, files: listenerFiles(listener) }))
      .filter((w) => w.files.length > 0)
      .map((w) => ({ ...w, seen: w.files.map(stampOf).join('|') }));
  }

  /** Files looked at (none: `start` does nothing). */
  get files(): string[] {
    return this.watched.flatMap((w) => w.files);
  }

  /** How many listeners serve previous files because their changed ones could not be used. */
  get unusable(): number {
    return this.failing.size;
  }

  start(): this {
    if (this.watched.length > 0 && !this.timer) {
      this.timer = setInterval(() => this.check(), this.options.intervalMs ?? LISTENER_FILE_CHECK_MS);
      this.timer.unref();
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Looks at the files now; renews each listener whose files changed. Returns what it did. */
  check(): { listener: string; outcome: RenewalOutcome }[] {
    const done: { listener: string; outcome: RenewalOutcome }[] = [];
    for (const w of this.watched) {
      const stamp = w.files.map(stampOf).join('|');
      if (stamp === w.seen) continue;
      // a failed read is not retried until the files change again: one warning per change, not per tick
      w.seen = stamp;
      const outcome = this.renew(w.listener);
      if (outcome === 'failed') this.failing.add(w.listener.name);
      else this.failing.delete(w.listener.name);
      done.push({ listener: w.listener.name, outcome });
      this.options.onRenewal?.(w.listener.name, outcome);
    }
    return done;
  }

  private renew(w: WatchedListener): RenewalOutcome {
    const problems: string[] = [];
    const fresh = resolveListenerSecurityInto(w.settings, w.name, problems, w.keys);
    if (problems.length > 0) {
      this.options.log.warn({ listener: w.name, problems }, `${w.name}: the changed TLS/token files cannot be used — still serving the ones read before; fix the files (they are read again when they change): ${problems.join('; ')}`);
      return 'failed';
    }
    const current = w.security;
    if (fresh.tls && current.tls) {
      Object.assign(current.tls, { cert: fresh.tls.cert, key: fresh.tls.key, ...(fresh.tls.ca !== undefined ? { ca: fresh.tls.ca } : {}) });
      current.tlsUpdates?.apply(fresh.tls);
    }
    if (fresh.auth && current.auth) current.auth.adopt(fresh.auth);
    this.options.log.info({ listener: w.name, files: listenerFiles(w) }, `${w.name}: TLS/token files changed and read again — new connections use them`);
    return 'renewed';
  }
}
