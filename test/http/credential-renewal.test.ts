/**
 * Renewed TLS and token files are taken while the job runs (src/http/credential-renewal.ts): the
 * files laid out as Kubernetes mounts a Secret (each file a symlink through `..data`, renewed by
 * swapping that symlink, as kubelet does) and as cert-manager renews a certificate; bad files
 * leave the listener serving what it had, with a warning naming the key.
 */
import { copyFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { resolveJobListeners } from '../../src/http/listener-security.js';
import { CredentialFileWatcher, renewableListener } from '../../src/http/credential-renewal.js';
import { startLocalJob, type LocalJob } from '../../src/runtime/local-job.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OTLP_GRPC_METHODS } from '../../src/sources/otlp-grpc/index.js';
import { httpsRequest, makeTlsMaterial, type TlsMaterial } from '../support/tls.js';
import { tempDir } from '../support/temp-dir.js';

let first: TlsMaterial;
let second: TlsMaterial;
let run: ScenarioRun;
beforeAll(async () => {
  first = makeTlsMaterial();
  second = makeTlsMaterial();
  run = await generateScenario({ kind: 'success', convention: 'genai', seed: 3 });
});
afterAll(() => {
  first.remove();
  second.remove();
});

/** A Secret volume as kubelet writes it: `<dir>/<name>` → `..data/<name>` → `..<version>/<name>`. */
class SecretVolume {
  private version = 0;
  constructor(readonly dir: string, files: Record<string, string>) {
    this.write(files);
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  }
  /** The next version of the Secret: a new directory, then `..data` swapped to it in one rename. */
  write(files: Record<string, string>): void {
    const version = `..v${++this.version}`;
    mkdirSync(join(this.dir, version));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, version, name), text);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
  path(name: string): string {
    return join(this.dir, name);
  }
}

const PROTO = { 'content-type': 'application/x-protobuf' };

/** Resolves once `probe` resolves true, checking every 25 ms for up to 5 s. */
async function eventually(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('not within 5 s');
}

/** The certificate error of a request trusting only `ca`, or 'ok' with its status. */
async function tryWith(url: string, ca: string, token: string): Promise<string> {
  try {
    const r = await httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, headers: { ...PROTO, authorization: `Bearer ${token}` }, body: run.tracesProto });
    return `status ${r.status}`;
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code ?? err);
  }
}

/** The same over OTLP/gRPC (which serves source.http's certificate and tokens): 'OK' or the status name. */
function tryGrpc(url: string, ca: string, token: string): Promise<string> {
  // a channel of its own (no shared subchannel): each try makes a new TLS connection
  const client = new grpc.Client(url.replace(/^https:\/\//, ''), grpc.credentials.createSsl(Buffer.from(ca)), { 'grpc.ssl_target_name_override': 'localhost', 'grpc.use_local_subchannel_pool': 1 });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(OTLP_GRPC_METHODS.traces, identity, identity, Buffer.from(run.tracesProto), metadata, { deadline: Date.now() + 5_000 }, (err) => {
      client.close();
      resolve(err ? grpc.status[err.code] : 'OK');
    });
  });
}

describe('a running job takes renewed TLS and token files', () => {
  let job: LocalJob;
  let secret: SecretVolume;
  beforeAll(async () => {
    secret = new SecretVolume(tempDir('ac-secret-'), { 'tls.crt': first.read(first.serverCert), 'tls.key': first.read(first.serverKey), token: 'old-token\n' });
    const tls = { certFile: secret.path('tls.crt'), keyFile: secret.path('tls.key') };
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { http: { port: 0, tls, auth: { tokenFile: secret.path('token') } }, grpc: { port: 0 } },
        sinks: { stdout: { enabled: false }, live: { enabled: false } },
        telemetry: { metricsPort: 0, metricsTls: tls },
      },
    });
    job = await startLocalJob(config, { logger: createLogger('silent'), credentialFileCheckMs: 20 });
  });
  afterAll(() => job?.stop());

  it('serves the new certificate and accepts only the new token after the Secret is updated — no restart', async () => {
    const oldCa = first.read(first.serverCert);
    const newCa = second.read(second.serverCert);
    expect(await tryWith(job.receiverUrl, oldCa, 'old-token')).toBe('status 200');
    expect(await tryWith(job.receiverUrl, newCa, 'old-token')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(await tryGrpc(job.grpcReceiverUrl!, oldCa, 'old-token')).toBe('OK');
    expect(await tryGrpc(job.grpcReceiverUrl!, newCa, 'old-token')).toBe('UNAVAILABLE');

    secret.write({ 'tls.crt': second.read(second.serverCert), 'tls.key': second.read(second.serverKey), token: 'new-token\n' });
    await eventually(async () => (await tryWith(job.receiverUrl, newCa, 'new-token')) === 'status 200');
    expect(await tryWith(job.receiverUrl, newCa, 'old-token')).toBe('status 401');
    expect(await tryWith(job.receiverUrl, oldCa, 'new-token')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // the OTLP/gRPC receiver took the same files: the new certificate and only the new token
    await eventually(async () => (await tryGrpc(job.grpcReceiverUrl!, newCa, 'new-token')) === 'OK');
    expect(await tryGrpc(job.grpcReceiverUrl!, newCa, 'old-token')).toBe('UNAUTHENTICATED');
    expect(await tryGrpc(job.grpcReceiverUrl!, oldCa, 'new-token')).toBe('UNAVAILABLE');
    // the status server read the same certificate files
    const health = await httpsRequest(job.metricsUrl!.replace('/metrics', '/healthz'), { ca: newCa });
    expect(health.status).toBe(200);
    const metrics = await job.telemetry.metricsText();
    expect(metrics).toMatch(/agent_credit_credential_file_renewals_total\{settings="source\.http",outcome="renewed"[^}]*\} 1\n/);
    expect(metrics).toMatch(/agent_credit_credential_file_renewals_total\{settings="telemetry",outcome="renewed"[^}]*\} 1\n/);
    expect(metrics).toMatch(/agent_credit_credential_file_renewals_total\{settings="source\.http",outcome="failed"[^}]*\} 0\n/);
  });

  it('keeps serving what it had when the new files do not fit together, and takes them once fixed', async () => {
    const current = second.read(second.serverCert);
    // a rotation caught half-way: the first certificate's key beside the second certificate
    secret.write({ 'tls.crt': second.read(second.serverCert), 'tls.key': first.read(first.serverKey), token: 'new-token\n' });
    await eventually(async () => /agent_credit_credential_file_renewals_total\{settings="source\.http",outcome="failed"[^}]*\} 1\n/.test(await job.telemetry.metricsText()));
    expect(await tryWith(job.receiverUrl, current, 'new-token')).toBe('status 200');
    // the receiver and the status server read the same files: both are left on the previous ones
    expect(await job.telemetry.metricsText()).toMatch(/^agent_credit_credential_files_unusable(\{[^}]*\})? 2$/m);
    secret.write({ 'tls.crt': first.read(first.serverCert), 'tls.key': first.read(first.serverKey), token: 'new-token\n' });
    await eventually(async () => (await tryWith(job.receiverUrl, first.read(first.serverCert), 'new-token')) === 'status 200');
    await eventually(async () => /^agent_credit_credential_files_unusable(\{[^}]*\})? 0$/m.test(await job.telemetry.metricsText()));
  });
});

describe('CredentialFileWatcher', () => {
  const logger = () => {
    const lines: { level: string; obj: object; msg: string }[] = [];
    return { lines, info: (obj: object, msg: string) => lines.push({ level: 'info', obj, msg }), warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }) };
  };
  const statusConfig = (certFile: string, keyFile: string, tokenFile?: string) =>
    loadConfig({ env: {}, overrides: { source: { http: { port: 0 } }, sinks: { live: { enabled: false } }, telemetry: { metricsPort: 0, metricsTls: { certFile, keyFile }, ...(tokenFile ? { metricsAuth: { tokenFile } } : {}) } } }).config;

  it('does nothing while the files are unchanged; new files written over them are a change', () => {
    const dir = tempDir('ac-watch-');
    copyFileSync(first.serverCert, join(dir, 'c.pem'));
    copyFileSync(first.serverKey, join(dir, 'k.pem'));
    const listeners = resolveJobListeners(statusConfig(join(dir, 'c.pem'), join(dir, 'k.pem')));
    const log = logger();
    const watcher = new CredentialFileWatcher(listeners.watched.map(renewableListener), { log });
    expect(watcher.files).toEqual([join(dir, 'c.pem'), join(dir, 'k.pem')]);
    expect(watcher.check()).toEqual([]);
    copyFileSync(second.serverCert, join(dir, 'c.pem'));
    copyFileSync(second.serverKey, join(dir, 'k.pem'));
    expect(watcher.check()).toEqual([{ name: 'telemetry', outcome: 'renewed' }]);
    expect(listeners.status.tls!.cert).toBe(second.read(second.serverCert));
    expect(watcher.check()).toEqual([]);
  });

  it('warns once per change naming the key and the fix, and keeps the previous material', () => {
    const dir = tempDir('ac-watch-');
    copyFileSync(first.serverCert, join(dir, 'c.pem'));
    copyFileSync(first.serverKey, join(dir, 'k.pem'));
    writeFileSync(join(dir, 'token'), 'one\n');
    const listeners = resolveJobListeners(statusConfig(join(dir, 'c.pem'), join(dir, 'k.pem'), join(dir, 'token')));
    const log = logger();
    const watcher = new CredentialFileWatcher(listeners.watched.map(renewableListener), { log });
    writeFileSync(join(dir, 'k.pem'), 'not a key');
    writeFileSync(join(dir, 'token'), 'two\n');
    expect(watcher.check()).toEqual([{ name: 'telemetry', outcome: 'failed' }]);
    expect(watcher.check()).toEqual([]);
    const warnings = log.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/telemetry\.metricsTls\.keyFile: .*k\.pem is not PEM/);
    expect(warnings[0]!.msg).toMatch(/still using the ones read before/);
    // nothing of the failed read was taken: the old certificate and the old token
    expect(listeners.status.tls!.key).toBe(first.read(first.serverKey));
    expect(listeners.status.auth!.acceptsToken('one')).toBe(true);
    expect(listeners.status.auth!.acceptsToken('two')).toBe(false);
    copyFileSync(first.serverKey, join(dir, 'k.pem'));
    expect(watcher.check()).toEqual([{ name: 'telemetry', outcome: 'renewed' }]);
    expect(listeners.status.auth!.acceptsToken('two')).toBe(true);
    expect(listeners.status.auth!.acceptsToken('one')).toBe(false);
  });

  it('renews files changed after the job read them but before its watcher was made (while it was still starting)', () => {
    const dir = tempDir('ac-watch-');
    copyFileSync(first.serverCert, join(dir, 'c.pem'));
    copyFileSync(first.serverKey, join(dir, 'k.pem'));
    const listeners = resolveJobListeners(statusConfig(join(dir, 'c.pem'), join(dir, 'k.pem')));
    // cert-manager renews while the job loads its value function and opens its ports
    copyFileSync(second.serverCert, join(dir, 'c.pem'));
    copyFileSync(second.serverKey, join(dir, 'k.pem'));
    const watcher = new CredentialFileWatcher(listeners.watched.map(renewableListener), { log: logger() });
    expect(watcher.check()).toEqual([{ name: 'telemetry', outcome: 'renewed' }]);
    expect(listeners.status.tls!.cert).toBe(second.read(second.serverCert));
  });

  it('watches nothing when no listener names a file (a token from the environment)', () => {
    const { config } = loadConfig({ env: { AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN: 'abc' }, overrides: { source: { http: { port: 0 } } } });
    const watcher = new CredentialFileWatcher(resolveJobListeners(config).watched.map(renewableListener), { log: logger() }).start();
    expect(watcher.files).toEqual([]);
    watcher.stop();
  });
});
