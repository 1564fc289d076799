/**
 * The job's file watcher (src/http/listener-renewal.ts) over its listeners, counting each renewal
 * in `agent_credit_listener_file_renewals_total` (`failed` exported at 0 from the start) and the
 * listeners left on their previous files in `agent_credit_listener_files_unusable`, which
 * deploy/prometheus-rules.yaml alerts on. Shared by the OTLP/HTTP and the Kafka job.
 */
import type { SelfTelemetry } from '../telemetry/self-metrics.js';
import type { JobListeners } from './listener-security.js';
import { ListenerFileWatcher, listenerFiles, type ListenerFileWatcherOptions } from './listener-renewal.js';

export function watchJobListenerFiles(listeners: JobListeners, telemetry: SelfTelemetry, log: ListenerFileWatcherOptions['log'], intervalMs?: number): ListenerFileWatcher {
  const watcher = new ListenerFileWatcher(listeners.watched, {
    log,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    onRenewal: (listener, outcome) => telemetry.listenerFileRenewals.add(1, { listener, outcome }),
  });
  for (const w of listeners.watched) if (listenerFiles(w).length > 0) telemetry.listenerFileRenewals.add(0, { listener: w.name, outcome: 'failed' });
  telemetry.observe(() => ({ listenerFilesUnusable: watcher.unusable }));
  return watcher.start();
}
