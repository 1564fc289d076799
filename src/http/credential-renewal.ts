/**
 * Renewal of credential files while the job runs: the listeners' TLS certificates and token files
 * and the Kafka client's TLS files. cert-manager renews a certificate before it expires, and
 * Kubernetes updates a mounted Secret in place (a symlink swap): a job that read its files only at
 * start served the old certificate until it expired, and rotating a token needed two restarts.
 *
 * `CredentialFileWatcher` looks at the files every `intervalMs` (their inode, size and times —
 * polling, because fs.watch misses a Secret's symlink swap and is not reliable on network
 * volumes). When a group's files changed it reads and checks them as at start: good ones take
 * effect for new connections; bad ones — a half-written rotation, a key that does not match the
 * new certificate — are reported naming the key and the fix, and what was in use stays; they are
 * read again at their next change. Open connections keep their certificate.
 */
import { filesStamp } from './file-stamp.js';
import { listenerSettingsFiles, resolveListenerSecurityInto, type WatchedListener } from './listener-security.js';

/** How often the files are looked at: well within a Secret update's ~1 min, cheap (a few stats). */
const CREDENTIAL_FILE_CHECK_MS = 15_000;

export type RenewalOutcome = 'renewed' | 'failed';

/** Files read together (one listener's, the Kafka client's), and how to take them again. */
export interface RenewableFiles {
  /** The settings' key prefix, e.g. `source.http`, `telemetry`, `source.kafka`. */
  name: string;
  files: string[];
  /**
   * The files' state (filesStamp) taken just before the job read them at start. A change after it —
   * also one before the watcher is made, while the job was still starting — is renewed at the first
   * look. Unset: their state when the watcher is made.
   */
  readStamp?: string;
  /** Reads the files again and, when all are good, puts them to use; returns the problems otherwise (each naming its key). */
  renew(): string[];
}

export interface CredentialFileWatcherOptions {
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  intervalMs?: number;
  /** Called once per group whose files changed (metrics). */
  onRenewal?: (name: string, outcome: RenewalOutcome) => void;
}

/** A listener's files: a renewed certificate reaches its servers (`TlsUpdates`), renewed tokens its `BearerAuth`. */
export function renewableListener(w: WatchedListener): RenewableFiles {
  return {
    name: w.name,
    files: listenerSettingsFiles(w.settings),
    readStamp: w.readStamp,
    renew() {
      const problems: string[] = [];
      const fresh = resolveListenerSecurityInto(w.settings, w.name, problems, w.keys);
      if (problems.length > 0) return problems;
      const current = w.security;
      if (fresh.tls && current.tls) {
        Object.assign(current.tls, { cert: fresh.tls.cert, key: fresh.tls.key, ...(fresh.tls.ca !== undefined ? { ca: fresh.tls.ca } : {}) });
        current.tlsUpdates?.apply(fresh.tls);
      }
      if (fresh.auth && current.auth) current.auth.adopt(fresh.auth);
      return [];
    },
  };
}

export class CredentialFileWatcher {
  private readonly watched: { group: RenewableFiles; seen: string }[];
  private timer: NodeJS.Timeout | undefined;
  /** Groups whose last change could not be used. */
  private readonly failing = new Set<string>();

  /** Each group's files as they were when read at start (`readStamp`), else as they are now. */
  constructor(groups: readonly RenewableFiles[], private readonly options: CredentialFileWatcherOptions) {
    this.watched = groups.filter((g) => g.files.length > 0).map((group) => ({ group, seen: group.readStamp ?? filesStamp(group.files) }));
  }

  /** Files looked at (none: `start` does nothing). */
  get files(): string[] {
    return this.watched.flatMap((w) => w.group.files);
  }

  /** How many groups still use earlier files because their changed ones could not be used. */
  get unusable(): number {
    return this.failing.size;
  }

  start(): this {
    if (this.watched.length > 0 && !this.timer) {
      this.timer = setInterval(() => this.check(), this.options.intervalMs ?? CREDENTIAL_FILE_CHECK_MS);
      this.timer.unref();
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Looks at the files now; renews each group whose files changed. Returns what it did. */
  check(): { name: string; outcome: RenewalOutcome }[] {
    const done: { name: string; outcome: RenewalOutcome }[] = [];
    for (const w of this.watched) {
      const stamp = filesStamp(w.group.files);
      if (stamp === w.seen) continue;
      // a failed read is not retried until the files change again: one warning per change, not per tick
      w.seen = stamp;
      const { name, files } = w.group;
      let problems: string[];
      try {
        problems = w.group.renew();
      } catch (err) {
        problems = [String((err as Error)?.message ?? err)];
      }
      const outcome: RenewalOutcome = problems.length > 0 ? 'failed' : 'renewed';
      if (outcome === 'failed') {
        this.failing.add(name);
        this.options.log.warn({ settings: name, problems }, `${name}: the changed TLS/token files cannot be used — still using the ones read before; fix the files (they are read again when they change): ${problems.join('; ')}`);
      } else {
        this.failing.delete(name);
        this.options.log.info({ settings: name, files }, `${name}: TLS/token files changed and read again — new connections use them`);
      }
      done.push({ name, outcome });
      this.options.onRenewal?.(name, outcome);
    }
    return done;
  }
}
