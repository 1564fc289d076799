import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { parseSince } from '../../src/cli/view-job.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { definedMetrics } from '../support/metrics-reference.js';

const root = join(import.meta.dirname, '../..');
const deploy = join(root, 'deploy');
const read = (p: string) => readFileSync(join(deploy, p), 'utf8');

/**
 * Keys the contrib kafka exporter accepts, from opentelemetry-collector-contrib
 * exporter/kafkaexporter/config.go (commit 00168f3c6fa1c9b0440ac86aee112d1e27771cf6: Config,
 * SignalConfig) and pkg/kafka/configkafka/config.go (commit 06a7fdba373026bd98f78f3d6645f804fa7d0049:
 * ClientConfig squashed into Config, ProducerConfig), plus exporterhelper's `timeout`,
 * `sending_queue` and configretry's `retry_on_failure`.
 */
const KAFKA_EXPORTER_KEYS = new Set([
  'timeout', 'sending_queue', 'retry_on_failure', 'producer', 'logs', 'metrics', 'traces', 'profiles',
  'topic', 'include_metadata_keys', 'topic_from_attribute', 'encoding',
  'partition_traces_by_id', 'partition_metrics_by_resource_attributes', 'partition_logs_by_resource_attributes', 'partition_logs_by_trace_id',
  // configkafka.ClientConfig (mapstructure:",squash")
  'brokers', 'resolve_canonical_bootstrap_servers_only', 'protocol_version', 'client_id', 'auth', 'tls', 'metadata', 'rack_id', 'use_leader_epoch',
]);
const DEPRECATED_KEYS = new Set(['topic', 'encoding']); // deprecated in v0.124.0 for signal sections
const SIGNAL_KEYS = new Set(['topic', 'topic_from_metadata_key', 'encoding']);
const PRODUCER_KEYS = new Set(['max_message_bytes', 'required_acks', 'compression', 'compression_params', 'flush_max_messages', 'allow_auto_topic_creation']);
/** Encodings the exporter documents for traces/logs that agent-credit can decode. */
const DECODABLE_ENCODINGS = new Set(['otlp_proto', 'otlp_json']);

type Obj = Record<string, unknown>;

describe('deploy/otel-collector.yaml', () => {
  const cfg = parse(read('otel-collector.yaml')) as Obj;
  const kafka = (cfg.exporters as Obj).kafka as Obj;

  it('uses only real kafka exporter keys, none deprecated', () => {
    for (const k of Object.keys(kafka)) {
      expect(KAFKA_EXPORTER_KEYS.has(k), `exporters.kafka.${k} is not a kafka exporter key`).toBe(true);
      expect(DEPRECATED_KEYS.has(k), `exporters.kafka.${k} is deprecated`).toBe(false);
    }
    for (const signal of ['traces', 'logs'] as const) {
      for (const k of Object.keys(kafka[signal] as Obj)) expect(SIGNAL_KEYS.has(k), `exporters.kafka.${signal}.${k}`).toBe(true);
    }
    for (const k of Object.keys(kafka.producer as Obj)) expect(PRODUCER_KEYS.has(k), `exporters.kafka.producer.${k}`).toBe(true);
  });

  it('writes otlp_proto to otlp_spans / otlp_logs, partitioned by trace id', () => {
    expect(kafka.traces).toMatchObject({ topic: 'otlp_spans', encoding: 'otlp_proto' });
    expect(kafka.logs).toMatchObject({ topic: 'otlp_logs', encoding: 'otlp_proto' });
    expect(kafka.partition_traces_by_id).toBe(true);
    expect(kafka.partition_logs_by_trace_id).toBe(true);
    // config.go Validate(): the two logs partitioners are exclusive.
    expect(kafka.partition_logs_by_resource_attributes).toBeUndefined();
    expect(DECODABLE_ENCODINGS.has(String((kafka.traces as Obj).encoding))).toBe(true);
  });

  it('routes traces and logs from the OTLP receiver to the kafka exporter', () => {
    const pipelines = (cfg.service as Obj).pipelines as Record<string, { receivers: string[]; exporters: string[] }>;
    for (const p of ['traces', 'logs']) {
      expect(pipelines[p]?.receivers).toContain('otlp');
      expect(pipelines[p]?.exporters).toContain('kafka');
    }
  });
});

describe('deploy/docker-compose.yaml', () => {
  const compose = parse(read('docker-compose.yaml')) as { services: Record<string, Obj> };

  it('has KRaft Kafka, the contrib collector with the mounted config, and agent-credit', () => {
    const kafka = compose.services.kafka!;
    expect(String(kafka.image)).toMatch(/^apache\/kafka:/);
    expect((kafka.environment as Obj).KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const col = compose.services['otel-collector']!;
    expect(String(col.image)).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    const mount = (col.volumes as string[])[0]!.split(':');
    expect(existsSync(join(deploy, mount[0]!))).toBe(true);
    expect(String((col.command as string[])[0])).toBe(`--config=${mount[1]}`);
  });

  it("agent-credit's mounted config + environment validate and read the collector's topics", () => {
    const app = compose.services['agent-credit']!;
    const [hostPath, containerPath] = (app.volumes as string[])[0]!.split(':');
    expect((app.command as string[]).join(' ')).toContain(`--config ${containerPath}`);
    const env = Object.fromEntries(Object.entries(app.environment as Obj).map(([k, v]) => [k, String(v)]));
    const { config } = loadConfig({ text: readFileSync(join(deploy, hostPath!), 'utf8'), origin: hostPath, env });
    expect(config.source.kind).toBe('kafka');
    const collector = (parse(read('otel-collector.yaml')) as Obj).exporters as Obj;
    const k = collector.kafka as Obj;
    expect(config.source.kafka?.spansTopic).toBe((k.traces as Obj).topic);
    expect(config.source.kafka?.logsTopic).toBe((k.logs as Obj).topic);
    expect(config.source.kafka?.brokers).toEqual(k.brokers);
    expect(config.sinks.live.host).toBe('0.0.0.0');
  });

  // `run` refuses to start while an input topic is missing (MissingTopicError, exit 2), and nothing
  // created them: the collector's exporter creates a topic only when it first writes to it, so a
  // fresh `up` ended with agent-credit exited before any telemetry came.
  it('creates the input topics agent-credit reads, co-partitioned, before agent-credit and the collector start', () => {
    const init = compose.services['kafka-init']!;
    expect(init, 'a kafka-init service').toBeDefined();
    expect(init.image).toBe(compose.services.kafka!.image); // the broker's own kafka-topics.sh
    expect(init.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    expect(init.entrypoint).toEqual(['/bin/bash', '-c']);
    const script = (init.command as string[]).join(' ');
    const calls = script.split('&&').map((c) => c.trim().split(/\s+/));
    const app = compose.services['agent-credit']!;
    const [hostPath] = (app.volumes as string[])[0]!.split(':');
    const env = Object.fromEntries(Object.entries(app.environment as Obj).map(([k, v]) => [k, String(v)]));
    const { config } = loadConfig({ text: readFileSync(join(deploy, hostPath!), 'utf8'), origin: hostPath, env });
    const kafkaSource = config.source.kafka!;
    const created = new Map<string, number>();
    for (const args of calls) {
      expect(args[0]).toBe('/opt/kafka/bin/kafka-topics.sh');
      const opt = (name: string) => args[args.indexOf(name) + 1];
      expect(args).toContain('--create');
      expect(args).toContain('--if-not-exists'); // a second `up` exits 0
      expect(kafkaSource.brokers).toContain(opt('--bootstrap-server'));
      created.set(opt('--topic')!, Number(opt('--partitions')));
    }
    const inputs = [kafkaSource.spansTopic, kafkaSource.logsTopic, kafkaSource.evaluationsTopic].filter((t): t is string => typeof t === 'string');
    expect([...created.keys()].sort()).toEqual([...inputs].sort());
    expect(new Set(created.values()).size, 'input topics with one partition count').toBe(1);
    expect([...created.values()][0]).toBeGreaterThan(0);
    // the collector's exporter writes to them: it starts after them too
    for (const name of ['agent-credit', 'otel-collector']) {
      expect((compose.services[name]!.depends_on as Obj)['kafka-init'], name).toEqual({ condition: 'service_completed_successfully' });
    }
    expect(app.restart).toBe('on-failure');
  });

  it('builds from a Dockerfile whose copied paths exist', () => {
    const build = compose.services['agent-credit']!.build as { context: string; dockerfile: string };
    const ctx = join(deploy, build.context);
    const steps = dockerfileSteps(readFileSync(join(ctx, build.dockerfile), 'utf8'));
    const copies = steps.filter((s): s is CopyStep => s.kind === 'copy');
    for (const c of copies.filter((c) => c.from === undefined)) for (const src of c.srcs) expect(existsSync(join(ctx, src)), `COPY ${src}`).toBe(true);
    // every COPY --from names an earlier stage
    const stages = steps.filter((s): s is FromStep => s.kind === 'from').map((s) => s.name);
    for (const c of copies.filter((c) => c.from !== undefined)) expect(stages, `COPY --from=${c.from}`).toContain(c.from);
    expect(readFileSync(join(ctx, build.dockerfile), 'utf8')).toMatch(/ENTRYPOINT \["node", "bin\/agent-credit.js"\]/);
    // .dockerignore keeps node_modules, dist/ and local state out of the context, never what a COPY takes
    const ignored = readFileSync(join(ctx, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
    for (const c of copies.filter((c) => c.from === undefined)) {
      for (const src of c.srcs) for (const pattern of ignored) expect(pattern === src || pattern.startsWith(`${src}/`) || src.startsWith(`${pattern}/`), `COPY ${src} vs .dockerignore ${pattern}`).toBe(false);
    }
  });

  // No Docker engine here: each stage of the Dockerfile runs as the image build would, in a
  // directory of its own standing for the stage's filesystem root, holding only what that stage
  // copies (from the repository or from an earlier stage's filesystem, `COPY --from` paths being
  // from that stage's root), at the WORKDIR it sets, its RUN steps as written with the base image's
  // environment (not the test runner's: its PATH has the repository's node_modules/.bin, where a
  // build stage without typescript would still find tsc). The last stage's WORKDIR then runs the
  // entry point on a fixture set. Before the build stage, the image installed production
  // dependencies only and ran the TypeScript sources through tsx (~8 % slower credit, twice the start-up).
  it("the Dockerfile's stages build dist/ and the image runs it with production dependencies only", () => {
    const steps = dockerfileSteps(read('Dockerfile'));
    const roots = new Map<string, string>();
    let stageRoot = '';
    let workdir = '/';
    let env: Record<string, string> = {};
    try {
      for (const step of steps) {
        if (step.kind === 'from') {
          stageRoot = mkdtempSync(join(tmpdir(), `agent-credit-image-${step.name}-`));
          roots.set(step.name, stageRoot);
          workdir = '/'; // Docker's default
          env = {};
        } else if (step.kind === 'workdir') {
          workdir = posix.resolve(workdir, step.path);
          mkdirSync(join(stageRoot, workdir), { recursive: true });
        } else if (step.kind === 'env') {
          Object.assign(env, step.vars);
        } else if (step.kind === 'copy') {
          copyStep(step, step.from === undefined ? root : roots.get(step.from)!, step.from !== undefined, stageRoot, workdir);
        } else {
          // the step as written, offline from npm's cache when it can (the suite's own `npm ci` filled it)
          execFileSync('sh', ['-c', step.command], { cwd: join(stageRoot, workdir), env: { ...baseImageEnv(), ...env, npm_config_prefer_offline: 'true' }, stdio: 'pipe', timeout: 300_000 });
        }
      }
      const image = join(stageRoot, workdir);
      expect(existsSync(join(image, 'src'))).toBe(false);
      expect(existsSync(join(image, 'dist/.build-stamp'))).toBe(true);
      expect(existsSync(join(image, 'node_modules/typescript'))).toBe(false); // devDependencies stayed out
      expect(existsSync(join(image, 'node_modules/tsx'))).toBe(true); // for TypeScript value functions
      const out = execFileSync('node', ['bin/agent-credit.js', 'replay', join(AGENTS_SDK_FIXTURES, 'genai'), '-o', '-'], {
        cwd: image,
        env: { ...baseImageEnv(), ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
      const events = out.trim().split('\n').map((l) => JSON.parse(l) as { event_type: string });
      expect(events.filter((e) => e.event_type === 'episode_credit').length).toBeGreaterThan(0);
    } finally {
      for (const d of roots.values()) rmSync(d, { recursive: true, force: true });
    }
  }, 600_000);

  it('the simulated build follows COPY and WORKDIR as Docker does', () => {
    const steps = dockerfileSteps(['FROM node:20-slim AS build', 'WORKDIR /build', 'WORKDIR out', 'COPY bin ./', 'COPY schemas package.json ./etc/', 'ENV A=1 B="two words" C=x=y', 'ENV D 4', 'FROM node:20-slim', 'COPY --from=build /app/bin ./bin'].join('\n'));
    expect(steps.filter((s) => s.kind === 'env')).toEqual([
      { kind: 'env', vars: { A: '1', B: 'two words', C: 'x=y' } },
      { kind: 'env', vars: { D: '4' } },
    ]);
    const stage = mkdtempSync(join(tmpdir(), 'agent-credit-copy-'));
    try {
      // a directory's contents, not the directory, go to the destination
      copyStep(steps[3] as CopyStep, root, false, stage, '/build/out');
      expect(existsSync(join(stage, 'build/out/agent-credit.js'))).toBe(true);
      expect(existsSync(join(stage, 'build/out/bin'))).toBe(false);
      // files into a directory destination keep their names
      copyStep(steps[4] as CopyStep, root, false, stage, '/build/out');
      expect(existsSync(join(stage, 'build/out/etc/package.json'))).toBe(true);
      // COPY --from takes the path in that stage's filesystem: /app/bin is not where this build stage put bin/
      expect(() => copyStep(steps[8] as CopyStep, stage, true, stage, '/')).toThrow();
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
});

/**
 * One COPY into the stage whose filesystem is `stageRoot`, at `workdir`, from `source` (the build
 * context, or with `fromStage` an earlier stage's filesystem root): as Docker does, a directory's
 * contents go into the destination, a file goes into it when it is a directory (ends with "/", several
 * sources, or exists), else becomes it; a source that is not there fails the build.
 */
function copyStep(step: CopyStep, source: string, fromStage: boolean, stageRoot: string, workdir: string): void {
  const dest = join(stageRoot, posix.resolve(workdir, step.dest));
  const intoDir = step.dest.endsWith('/') || step.srcs.length > 1 || (existsSync(dest) && statSync(dest).isDirectory());
  for (const src of step.srcs) {
    const from = fromStage ? join(source, posix.resolve('/', src)) : join(source, src);
    if (!existsSync(from)) throw new Error(`COPY ${fromStage ? `--from=${step.from} ` : ''}${src}: not found`);
    if (statSync(from).isDirectory()) cpSync(from, dest, { recursive: true });
    else {
      const target = intoDir ? join(dest, basename(src)) : dest;
      mkdirSync(dirname(target), { recursive: true });
      cpSync(from, target);
    }
  }
}

/** The environment a base image's RUN steps get: this machine's, less what npm / vitest put in the test runner's (node_modules/.bin on PATH, NODE_ENV, npm's script variables). */
function baseImageEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_ENV' || k === 'INIT_CWD' || /^npm_(lifecycle|package)_|^npm_config_local_prefix$/i.test(k)) continue;
    env[k] = v;
  }
  const path = Object.keys(env).find((k) => k.toUpperCase() === 'PATH');
  if (path) env[path] = env[path]!.split(delimiter).filter((d) => !/node_modules[\\/]\.bin/.test(d)).join(delimiter);
  return env;
}

interface FromStep { kind: 'from'; name: string }
interface CopyStep { kind: 'copy'; from: string | undefined; srcs: string[]; dest: string }
type DockerStep = FromStep | CopyStep | { kind: 'workdir'; path: string } | { kind: 'env'; vars: Record<string, string> } | { kind: 'run'; command: string };

/** Dockerfile quoting of an ENV value: surrounding double or single quotes dropped (backslash escapes in double quotes). */
const unquote = (v: string) => (v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v.startsWith("'") ? v.slice(1, -1) : v);

/** The FROM, WORKDIR, ENV (KEY=value and KEY value forms), COPY and RUN steps of a Dockerfile, continuation lines joined. */
function dockerfileSteps(text: string): DockerStep[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const steps: DockerStep[] = [];
  let stage = 0;
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    if (op === 'FROM') {
      steps.push({ kind: 'from', name: /\sAS\s+(\S+)/i.exec(line)?.[1] ?? `stage${stage}` });
      stage++;
    } else if (op === 'WORKDIR') steps.push({ kind: 'workdir', path: rest.join(' ') });
    else if (op === 'ENV') {
      const args = line.slice(3).trim();
      if (/^[^\s=]+=/.test(args)) {
        const vars: Record<string, string> = {};
        for (const m of args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) vars[m[1]!] = unquote(m[2]!);
        steps.push({ kind: 'env', vars });
      } else steps.push({ kind: 'env', vars: { [rest[0]!]: unquote(rest.slice(1).join(' ')) } });
    } else if (op === 'RUN') steps.push({ kind: 'run', command: line.slice(4).trim() });
    else if (op === 'COPY') {
      const from = rest[0]?.startsWith('--from=') ? rest.shift()!.slice('--from='.length) : undefined;
      steps.push({ kind: 'copy', from, srcs: rest.slice(0, -1), dest: rest[rest.length - 1]! });
    }
  }
  return steps;
}

describe('deploy/kubernetes', () => {
  const docs = ['configmap.yaml', 'deployment.yaml', 'service.yaml'].flatMap((f) => parseAllDocuments(read(`kubernetes/${f}`)).map((d) => d.toJS() as Obj));
  const byKind = (kind: string) => docs.find((d) => d.kind === kind) as Obj;

  it('the ConfigMap app config validates against the config schema', () => {
    const data = byKind('ConfigMap').data as Record<string, string>;
    const deployment = byKind('Deployment');
    const container = ((deployment.spec as Obj).template as { spec: { containers: Obj[] } }).spec.containers[0]!;
    const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const { config } = loadConfig({ text: data['agent-credit.yaml']!, origin: 'configmap', env });
    expect(config.source.kind).toBe('kafka');
    expect(config.sinks.live.port).toBe(8080);
  });

  it('probes and the Service point at the live port serving /healthz and /readyz', () => {
    const container = ((byKind('Deployment').spec as Obj).template as { spec: { containers: Obj[] } }).spec.containers[0]!;
    expect((container.livenessProbe as { httpGet: { path: string } }).httpGet.path).toBe('/healthz');
    expect((container.readinessProbe as { httpGet: { path: string } }).httpGet.path).toBe('/readyz');
    const cm = loadConfig({ text: (byKind('ConfigMap').data as Record<string, string>)['agent-credit.yaml']!, env: {} }).config;
    expect((container.ports as { containerPort: number }[])[0]!.containerPort).toBe(cm.sinks.live.port);
    const svc = byKind('Service').spec as { selector: Obj; ports: { targetPort: string }[] };
    expect(svc.selector).toEqual(((byKind('Deployment').spec as Obj).selector as { matchLabels: Obj }).matchLabels);
    const mountPath = (container.volumeMounts as { mountPath: string }[])[0]!.mountPath;
    expect((container.args as string[]).join(' ')).toContain(`--config ${mountPath}/agent-credit.yaml`);
  });
});

describe('deploy/kubernetes: upgrades', () => {
  it('the job replaces its pods all at once (Recreate): README says never to run an older release beside a newer one in the group', () => {
    const job = parseAllDocuments(read('kubernetes/deployment.yaml')).map((d) => d.toJS() as Obj).find((d) => d.kind === 'Deployment')!;
    // Kubernetes's default (RollingUpdate, maxSurge 25 % → 1 of 2 replicas, maxUnavailable 0)
    // starts a new pod while the old ones still consume: both in one consumer group
    expect(((job.spec as Obj).strategy as { type?: string } | undefined)?.type).toBe('Recreate');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('stop every instance of an older release before starting this one');
  });
});

describe('deploy/kubernetes/view.yaml (agent-credit view)', () => {
  const docs = parseAllDocuments(read('kubernetes/view.yaml')).map((d) => d.toJS() as Obj);
  const job = parseAllDocuments(read('kubernetes/deployment.yaml')).map((d) => d.toJS() as Obj)[0]!;
  const jobService = parse(read('kubernetes/service.yaml')) as Obj;
  const view = docs.find((d) => d.kind === 'Deployment')!;
  const container = ((view.spec as Obj).template as { spec: { containers: Obj[]; volumes: { configMap?: { name: string } }[] } }).spec.containers[0]!;

  it('runs the view command with the job’s ConfigMap, which it can read (a Kafka source, the live page on its port)', () => {
    const args = container.args as string[];
    expect(args[0]).toBe('view');
    // the image's CLI has the command and every flag the manifest passes
    const help = spawnSync(process.execPath, [BIN, 'view', '--help'], { cwd: root, env: { ...process.env, ...CLI_ENV }, encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    for (const flag of args.filter((a) => a.startsWith('--'))) expect(help.stdout).toContain(flag);
    expect(parseSince(args[args.indexOf('--since') + 1]!)).toBe(24 * 3_600_000);
    const jobVolumes = ((job.spec as Obj).template as { spec: { volumes: { configMap?: { name: string } }[] } }).spec.volumes;
    const viewVolumes = ((view.spec as Obj).template as { spec: { volumes: { configMap?: { name: string } }[] } }).spec.volumes;
    expect(viewVolumes.find((v) => v.configMap)?.configMap?.name).toBe(jobVolumes.find((v) => v.configMap)?.configMap?.name);
    const configMap = parseAllDocuments(read('kubernetes/configmap.yaml')).map((d) => d.toJS() as Obj).find((d) => d.kind === 'ConfigMap')!;
    const cm = loadConfig({ text: (configMap.data as Record<string, string>)['agent-credit.yaml']!, env: {} }).config;
    expect(cm.source.kind).toBe('kafka');
    expect(cm.sinks.live.enabled).toBe(true);
    expect((container.ports as { containerPort: number }[])[0]!.containerPort).toBe(cm.sinks.live.port);
  });

  it('is labelled apart from the job: neither Service selects the other’s pods', () => {
    const viewLabels = ((view.spec as Obj).template as { metadata: { labels: Obj } }).metadata.labels;
    const jobLabels = ((job.spec as Obj).template as { metadata: { labels: Obj } }).metadata.labels;
    const selects = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const viewService = docs.find((d) => d.kind === 'Service')!;
    expect(selects((jobService.spec as { selector: Obj }).selector, viewLabels)).toBe(false);
    expect(selects((viewService.spec as { selector: Obj }).selector, jobLabels)).toBe(false);
    expect(selects((viewService.spec as { selector: Obj }).selector, viewLabels)).toBe(true);
  });
});

describe('deploy/agent-credit.yaml (the documented example)', () => {
  it('validates and equals the defaults where it states them', () => {
    const text = read('agent-credit.yaml');
    const fromFile = loadConfig({ text, origin: 'deploy/agent-credit.yaml', env: {} }).config;
    const defaults = loadConfig({ env: {} }).config;
    expect(fromFile).toEqual(defaults);
  });

  it('lists every option that has a default (an option added to the schema must be added here too)', () => {
    const doc = parse(read('agent-credit.yaml')) as Record<string, unknown>;
    const defaults = loadConfig({ env: {} }).config as unknown as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (want: Record<string, unknown>, have: Record<string, unknown> | undefined, path: string) => {
      for (const [k, v] of Object.entries(want)) {
        if (v === undefined) continue;
        const here = path ? `${path}.${k}` : k;
        if (have === undefined || !(k in have)) missing.push(here);
        else if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, have[k] as Record<string, unknown> | undefined, here);
      }
    };
    // `credit: {}` on purpose: its options are listed with their defaults in docs/credit.md
    const { credit: _documentedElsewhere, ...rest } = defaults;
    walk(rest, doc, '');
    expect(missing).toEqual([]);
  });
});

/**
 * The metric names the job exports, as Prometheus sees them (histograms with their suffixes): every
 * metric the code defines (test/support/metrics-reference.ts; README's metrics reference lists the same).
 */
async function exportedMetricNames(): Promise<Set<string>> {
  const exported = new Set<string>();
  for (const [name, type] of await definedMetrics()) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name + suffix);
    else exported.add(name);
  }
  return exported;
}

describe('deploy/prometheus-rules.yaml', () => {
  it('names only metrics the job exports, with their exported names (counters end in _total)', async () => {
    const exported = await exportedMetricNames();
    const rules = parse(read('prometheus-rules.yaml')) as { groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }[] }[] };
    const named = rules.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/agent_credit_[a-z_]+/g)].map((m) => ({ alert: r.alert, metric: m[0] }))));
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !exported.has(n.metric))).toEqual([]);
    // the per-agent alert reads the instances' standings only (a view's series would double them)
    const agentSelectors = rules.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/agent_credit_agent_[a-z_]+(\{[^}]*\})?/g)].map((m) => m[0])));
    expect(agentSelectors.length).toBeGreaterThan(0);
    expect(agentSelectors.filter((sel) => !sel.includes('standings="job"'))).toEqual([]);
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      expect(r.alert).toMatch(/^AgentCredit[A-Za-z]+$/);
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
    }
  });

  it('every counter an increase() alert names is exported at 0 from the start, so its first increment is seen', async () => {
    // Prometheus' increase() needs a sample before the increment: a series that first appears at 1
    // never rises above its first sample, and the alert misses the first failure after a start
    const telemetry = new SelfTelemetry();
    try {
      telemetry.observe(() => new Proxy({}, { get: () => 0 }) as never);
      // as every job does: the standings (agent_credit_agents_dropped_total comes with them)
      telemetry.observeAgents(() => new AgentBoard().snapshot({ totals: true }));
      const text = await telemetry.metricsText();
      const rules = parse(read('prometheus-rules.yaml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
      // (per-agent counters are left out: a series per agent, appearing with the agent, read over
      // 6 h windows by an alert that needs 20 episodes of it first)
      const increased = rules.groups
        .flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/increase\((agent_credit_[a-z_]+_total)(\{[^}]*\})?\[/g)].map((m) => ({ alert: r.alert, expr: r.expr, metric: m[1]! }))))
        .filter((n) => !n.metric.startsWith('agent_credit_agent_'));
      expect(increased.length).toBeGreaterThan(3);
      // a counter with a series per label set, created at its first increment (the receiver's
      // refusals by status), cannot be exported at 0: its alert must also catch a series that is
      // new since the window began (`… unless … offset`)
      const catchesNewSeries = (n: { expr: string; metric: string }) => new RegExp(`unless[^]*${n.metric}(\\{[^}]*\\})?\\s+offset\\s`).test(n.expr);
      expect(increased.filter((n) => !new RegExp(`^${n.metric}(\\{[^}]*\\})? 0$`, 'm').test(text) && !catchesNewSeries(n)).map((n) => `${n.alert}: ${n.metric}`)).toEqual([]);
      expect(increased.filter((n) => catchesNewSeries(n)).map((n) => n.alert)).toEqual(['AgentCreditReceiverRefusingData']);
    } finally {
      await telemetry.shutdown();
    }
  });
});

describe('deploy/grafana-dashboard.json', () => {
  type Panel = { id: number; type: string; title: string; gridPos: { h: number; w: number; x: number; y: number }; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] };
  const dashboard = JSON.parse(read('grafana-dashboard.json')) as { uid: string; panels: Panel[]; templating: { list: { name: string; query: unknown }[] } };

  it('queries only metrics the job exports (the per-agent gauges and counters, and the job’s own), through the datasource variable', async () => {
    const exported = await exportedMetricNames();
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, ds: t.datasource?.uid ?? p.datasource?.uid })));
    expect(queries.length).toBeGreaterThan(20);
    const agentQuery = JSON.stringify(dashboard.templating.list.find((v) => v.name === 'agent')!.query);
    const named = [...queries.flatMap((q) => [...q.expr.matchAll(/agent_credit_[a-z_]+/g)].map((m) => ({ panel: q.panel, metric: m[0] }))), ...[...agentQuery.matchAll(/agent_credit_[a-z_]+/g)].map((m) => ({ panel: 'variable agent', metric: m[0] }))];
    expect(named.filter((n) => !exported.has(n.metric))).toEqual([]);
    // every agent_credit_agent_* gauge and counter has a panel
    for (const g of [...exported].filter((n) => n.startsWith('agent_credit_agent_'))) expect(named.some((n) => n.metric === g), g).toBe(true);
    expect(queries.filter((q) => q.ds !== '${datasource}')).toEqual([]);
    // per-agent panels follow the agent selector, and read one kind of standings — the job's
    // instances' or a view's: where Prometheus scrapes both, a sum over both counts each episode twice
    expect(queries.filter((q) => /agent_credit_agent_/.test(q.expr) && !q.expr.includes('agent_name=~"$agent"'))).toEqual([]);
    const gaugeSelectors = (expr: string) => [...expr.matchAll(/agent_credit_agent_[a-z_]+(\{[^}]*\})?/g)].map((m) => ({ expr, selector: m[0] }));
    expect(queries.flatMap((q) => gaugeSelectors(q.expr)).filter((g) => !g.selector.includes('standings="$standings"'))).toEqual([]);
    expect(agentQuery).toContain('standings=\\"$standings\\"');
    const standings = dashboard.templating.list.find((v) => v.name === 'standings') as unknown as { options: { value: string }[]; current: { value: string } };
    expect(standings.options.map((o) => o.value)).toEqual(['job', 'view']);
    expect(standings.current.value).toBe('job');
  });

  it('lays its panels out on the 24-column grid without overlaps, with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, p.title).toBe(true);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
    expect(dashboard.uid).toBe('agent-credit');
  });
});

describe('per-agent metrics in the deploy files and READMEs', () => {
  const rules = parse(read('prometheus-rules.yaml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const dashboard = JSON.parse(read('grafana-dashboard.json')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const exprs = [
    ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
  ];

  it('read changes over time with increase() or rate() over the _total counters, never delta() over the standings gauges', () => {
    // the gauges hold one process's standings: every restart starts them at 0, which delta(),
    // idelta() or deriv() read as a fall (a false alert after a deploy); increase() and rate()
    // read a counter's drop as a reset
    const ranged = exprs.flatMap(({ where, expr }) => [...expr.matchAll(/(\w+)\s*\(\s*(agent_credit_agent_[a-z_]+)(\{[^}]*\})?\s*\[/g)].map((m) => ({ where, fn: m[1]!, metric: m[2]! })));
    expect(ranged.filter((r) => !['increase', 'rate'].includes(r.fn) || !r.metric.endsWith('_total'))).toEqual([]);
    expect(ranged.length).toBeGreaterThan(8);
    // and no range over a per-agent metric outside such a call (a subquery, a function nested otherwise)
    const ranges = exprs.flatMap(({ expr }) => [...expr.matchAll(/agent_credit_agent_[a-z_]+(\{[^}]*\})?\s*\[/g)]).length;
    expect(ranges).toBe(ranged.length);
    expect(exprs.filter(({ expr }) => /\bdelta\s*\(/.test(expr) && /agent_credit_agent_/.test(expr))).toEqual([]);
  });

  it('README (Operating it → Metrics) and deploy/README.md name every per-agent counter the job exports', async () => {
    const perAgent = [...(await exportedMetricNames())].filter((n) => n.startsWith('agent_credit_agent_') && n.endsWith('_total'));
    expect(perAgent.length).toBe(8);
    for (const [file, text] of [['README.md', readFileSync(join(root, 'README.md'), 'utf8')], ['deploy/README.md', read('README.md')]] as const) {
      // named with or without the agent_credit_ prefix, as each README lists metrics
      const missing = perAgent.filter((n) => !text.includes(`\`${n}\``) && !text.includes(`\`${n.slice('agent_credit_'.length)}\``));
      expect(missing, file).toEqual([]);
    }
  });
});

describe('deploy/README.md', () => {
  // its Endpoints table lacked the 401 (source.http.auth), the 403 (DNS-rebinding guard) and the 500
  it('the OTLP/HTTP receiver table names every status the receiver answers', () => {
    const receiver = readFileSync(join(root, 'src/sources/otlp-http/receiver.ts'), 'utf8');
    const statuses = new Set([...receiver.matchAll(/\bfail(?:Json)?\(res, (\d{3})\b/g)].map((m) => m[1]!));
    expect([...statuses].sort()).toEqual(expect.arrayContaining(['400', '401', '403', '404', '405', '413', '415', '500', '503']));
    const text = read('README.md');
    const table = text.slice(text.indexOf('OTLP/HTTP receiver (`source.http`'), text.indexOf('OTLP/gRPC receiver (`source.grpc`'));
    expect([...statuses].filter((s) => !table.includes(`\`${s}\``))).toEqual([]);
  });
});

describe('deploy/smoke-kafka.ts', () => {
  it('reads the recorded collector records where the tests find them (AGENT_CREDIT_FIXTURES), not at a fixed absolute path, and says so before starting a broker when they are missing', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AGENT_CREDIT_FIXTURES: join(tmpdir(), 'agent-credit-no-fixtures-here') };
    delete env.FIXTURE_DIR;
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(deploy, 'smoke-kafka.ts')], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(join(tmpdir(), 'agent-credit-no-fixtures-here', 'kafka', 'otlp_proto'));
    expect(run.stderr).toContain('FIXTURE_DIR');
  });
});
