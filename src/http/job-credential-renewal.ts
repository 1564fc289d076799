/**
 * The job's credential file watcher (src/http/credential-renewal.ts) over its listeners and, on
 * Kafka, the client's TLS files, counting each renewal in
 * `agent_credit_credential_file_renewals_total{settings, outcome}` (`failed` exported at 0 from the
 * start) and the groups left on earlier files in `agent_credit_credential_files_unusable`, which
 * deploy/prometheus-rules.yaml alerts on. Shared by the OTLP/HTTP and the Kafka job.
 */
import type { SelfTelemetry } from '../telemetry/self-metrics.js';
import type { JobListeners } from './listener-security.js';
import { CredentialFileWatcher, renewableListener, type CredentialFileWatcherOptions, type RenewableFiles } from './credential-renewal.js';

export function watchJobCredentialFiles(listeners: JobListeners, more: readonly RenewableFiles[], telemetry: SelfTelemetry, log: CredentialFileWatcherOptions['log'], intervalMs?: number): CredentialFileWatcher {
  const groups = [...listeners.watched.map(renewableListener), ...more];
  const watcher = new CredentialFileWatcher(groups, {
    log,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    onRenewal: (settings, outcome) => telemetry.credentialFileRenewals.add(1, { settings, outcome }),
  });
  for (const g of groups) if (g.files.length > 0) telemetry.credentialFileRenewals.add(0, { settings: g.name, outcome: 'failed' });
  telemetry.observe(() => ({ credentialFilesUnusable: watcher.unusable }));
  return watcher.start();
}
