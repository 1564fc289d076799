import { randomUUID } from 'node:crypto';
import { writeFileSync} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig, resolveEnvPath, AppConfigSchema } from '../../src/config/index.js';
import { tempDir } from '../support/temp-dir.js';

/** The ConfigError message of loading this YAML text (+ env); fails the test when it loads. */
function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ text, env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration errors name the key, the bad value and what is accepted', () => {
  it('unknown key (own section) lists the accepted keys', () => {
    const m = errorOf('source:\n  http:\n    prot: 4318\n');
    expect(m).toContain('source.http.prot: unknown key');
    expect(m).toContain('accepted keys here: host, port, maxBodyBytes');
  });

  it('a runtime timer longer than Node.js timers take is refused (runtime.creditTimeoutMs: 3000000000 timed every episode out after 1 ms)', () => {
    for (const key of ['creditTimeoutMs', 'tickIntervalMs']) {
      const m = errorOf(`runtime:\n  ${key}: 3000000000\n`);
      expect(m).toContain(`runtime.${key}: expected a number ≤ 2147483647, got 3000000000`);
    }
    expect(loadConfig({ text: 'runtime:\n  creditTimeoutMs: 2147483647\n', env: {} }).config.runtime.creditTimeoutMs).toBe(2 ** 31 - 1);
  });

  it('runtime.creditWorkerMaxHeapMb below the heap a credit worker starts with is refused, saying what to set (1 to ~20 MB let no worker start, each retried every 5 s)', () => {
    for (const mb of [1, 16, 63]) {
      const m = errorOf(`runtime:\n  creditWorkerMaxHeapMb: ${mb}\n`);
      expect(m).toContain(`runtime.creditWorkerMaxHeapMb: expected a number ≥ 64, got ${mb}`);
      expect(m).toContain("set 64 to 1048576 (a worker needs about 24 MB to start and credit an episode: below that none starts), or 0 for V8's default");
    }
    // above the maximum the fix was "set 64 or more", which the value already was
    const above = errorOf('runtime:\n  creditWorkerMaxHeapMb: 2000000\n');
    expect(above).toContain('runtime.creditWorkerMaxHeapMb: expected a number ≤ 1048576, got 2000000');
    expect(above).not.toContain('or more');
    expect(above).toContain('set 64 to 1048576');
    expect(errorOf('', { AGENT_CREDIT_RUNTIME_CREDIT_WORKER_MAX_HEAP_MB: '8' })).toMatch(/runtime\.creditWorkerMaxHeapMb: expected a number ≥ 64, got 8 \(from AGENT_CREDIT_RUNTIME_CREDIT_WORKER_MAX_HEAP_MB\)/);
    expect(errorOf('runtime:\n  creditWorkerMaxHeapMb: 63.5\n')).toContain('runtime.creditWorkerMaxHeapMb: expected 0 or an integer 64–1048576, got 63.5');
    for (const mb of [0, 64, 1024]) expect(loadConfig({ text: `runtime:\n  creditWorkerMaxHeapMb: ${mb}\n`, env: {} }).config.runtime.creditWorkerMaxHeapMb).toBe(mb);
  });

  it('the other ms options used as Node.js timers are refused above 2147483647 too (credit.judge.timeoutMs: 3000000000 aborted every judge call after 1 ms)', () => {
    const cases = [
      'credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:8000/score\n    timeoutMs: 3000000000\n',
      'credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:8000/score\n    maxBackoffMs: 3000000000\n',
      'credit:\n  timeoutMs: 3000000000\n',
      'source:\n  kind: kafka\n  kafka:\n    brokers: [127.0.0.1:9092]\n    sessionTimeoutMs: 3000000000\n',
    ];
    for (const text of cases) expect(errorOf(text)).toContain('expected a number ≤ 2147483647, got 3000000000');
    expect(errorOf(cases[0]!)).toContain('credit.judge.timeoutMs');
    expect(loadConfig({ text: 'credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:8000/score\n    timeoutMs: 2147483647\n', env: {} }).config.credit.judge?.timeoutMs).toBe(2 ** 31 - 1);
  });

  it('credit.baseline game with the provenance game is refused (it used 0 and warned in every episode\'s events)', () => {
    expect(errorOf('credit:\n  baseline: game\n')).toContain('credit.baseline: baseline game asks the value function for v(∅), which the provenance game does not have');
    expect(loadConfig({ text: 'credit:\n  game: http\n  baseline: game\n  judge:\n    url: http://127.0.0.1:8000/score\n', env: {} }).config.credit.baseline).toBe('game');
  });

  it('unknown key inside a stage-owned section (episodes) is not silently dropped', () => {
    const m = errorOf('episodes:\n  grace: 2000\n');
    expect(m).toContain('episodes.grace: unknown key');
    expect(m).toContain('graceMs');
  });

  it('unknown top-level section', () => {
    expect(errorOf('sink:\n  stdout: {}\n')).toMatch(/^ {2}sink: unknown key — did you mean sinks\? — accepted keys here: source, episodes/m);
  });

  it('a misspelt key names the key it most likely meant (case, _ or -, up to two edits); an unrelated one does not guess', () => {
    expect(errorOf('source:\n  kafka:\n    groupID: g\n')).toContain('source.kafka.groupID: unknown key — did you mean groupId? — accepted keys here:');
    expect(errorOf('source:\n  kafka:\n    group_id: g\n')).toContain('did you mean groupId?');
    expect(errorOf('source:\n  http:\n    prot: 4318\n')).toContain('source.http.prot: unknown key — did you mean port?');
    expect(errorOf('episodes:\n  graceMS: 1\n')).toContain('did you mean graceMs?');
    expect(errorOf('episodes:\n  colour: blue\n')).not.toContain('did you mean');
  });

  it('wrong type states the expected type with bounds, the value and a unit hint', () => {
    expect(errorOf('episodes:\n  graceMs: soon\n')).toContain('episodes.graceMs: expected a number ≥ 0, got "soon" — set it in milliseconds, e.g. 2000');
  });

  it('wrong type states an exclusive bound as exclusive (credit.budget is > 0: "≥ 0" named a value it refuses)', () => {
    expect(errorOf('credit:\n  budget: lots\n')).toContain('credit.budget: expected a number > 0, got "lots"');
    expect(errorOf('credit:\n  confidence: high\n')).toContain('credit.confidence: expected a number > 0 and < 1, got "high"');
    expect(errorOf('credit:\n  blameDecay: x\n')).toContain('credit.blameDecay: expected a number ≥ 0 and < 1, got "x"');
    expect(errorOf('runtime:\n  creditConcurrency: many\n')).toContain('runtime.creditConcurrency: expected a number 1–64, got "many"');
  });

  it('a value that fits none of a setting\'s forms says which forms it takes (zod said only "Invalid input")', () => {
    expect(errorOf('runtime:\n  creditWorkers: many\n')).toContain('runtime.creditWorkers: expected "auto" or an integer 0–64, got "many"');
    expect(errorOf('credit:\n  baseline: zero\n')).toContain('credit.baseline: expected a number or "game", got "zero"');
    const kafka = errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: 9092\n    ssl: "yes"\n');
    expect(kafka).toContain('source.kafka.brokers: expected a list or a string, got 9092 — a list of host:port');
    expect(kafka).toContain('source.kafka.ssl: expected true or false, or a mapping (ca, cert, key, passphrase, rejectUnauthorized, servername), got "yes"');
    expect(kafka).not.toContain('Invalid input');
  });

  it('an unknown key in an entry of a map of objects (credit.normalization.<name>) is reported — it was dropped without a word', () => {
    expect(errorOf('credit:\n  normalization:\n    helpfulness: { min: 1, max: 5, clamp: false }\n')).toContain('credit.normalization.helpfulness.clamp: unknown key — accepted keys here: min, max');
    expect(errorOf('credit:\n  normalization:\n    helpfulness: { min: 1, maxx: 5 }\n')).toContain('credit.normalization.helpfulness.maxx: unknown key — did you mean max?');
  });

  it('a per-evaluation map given one number says how to write the map, and which key takes one number', () => {
    expect(errorOf('credit:\n  successThreshold: 0.7\n')).toContain(
      'credit.successThreshold: expected a record, got 0.7 — a threshold per evaluation name, e.g. { task_success: 0.7 }; one for every evaluation is credit.defaultSuccessThreshold',
    );
  });

  it('out of range', () => {
    const m = errorOf('source:\n  http:\n    port: 70000\n');
    expect(m).toContain('source.http.port: expected a number ≤ 65535, got 70000');
    expect(errorOf('runtime:\n  creditConcurrency: 0\n')).toContain('runtime.creditConcurrency: expected a number ≥ 1, got 0');
  });

  it('YAML .inf and .nan are shown as written (they showed as "got null"), and an integer past the safe range reads as a number (it said "expected int ≤ …")', () => {
    expect(errorOf('runtime:\n  creditQueueMax: .inf\n')).toContain('runtime.creditQueueMax: expected a number ≥ 1, got Infinity');
    expect(errorOf('credit:\n  confidence: .nan\n')).toContain('credit.confidence: expected a number > 0 and < 1, got NaN');
    expect(errorOf('episodes:\n  graceMs: 1e20\n')).toContain('episodes.graceMs: expected a number ≤ 9007199254740991, got 100000000000000000000 — set it in milliseconds');
  });

  it('a section with every key below it commented out (null in YAML) says how to write an empty one', () => {
    expect(errorOf('credit:\n  # game: http\nsinks:\n  live:\n')).toContain('credit: expected an object, got null — a key with nothing under it (every line below commented out) is null in YAML: write credit: {} or remove the line');
    expect(errorOf('sinks:\n  live:\n')).toContain('sinks.live: expected an object, got null — a key with nothing under it (every line below commented out) is null in YAML: write live: {} or remove the line');
  });

  it('a boolean for a section with an enabled switch names that switch and the flag (sinks.stdout: false said only "expected an object")', () => {
    expect(errorOf('sinks:\n  stdout: false\n')).toContain('sinks.stdout: expected an object, got false — to turn it off, set sinks.stdout.enabled: false (or --no-stdout)');
    expect(errorOf('sinks:\n  live: false\n')).toContain('sinks.live: expected an object, got false — to turn it off, set sinks.live.enabled: false (or --no-live)');
    expect(errorOf('source:\n  grpc: false\n')).toContain('source.grpc: expected an object, got false — to turn it off, set source.grpc.enabled: false (or --no-grpc)');
    expect(errorOf('source:\n  grpc: true\n')).toContain('source.grpc: expected an object, got true — to turn it on, set source.grpc.enabled: true');
    // from a variable: the variable of the switch
    expect(errorOf('', { AGENT_CREDIT_SINKS_STDOUT: 'false' })).toContain('sinks.stdout: expected an object, got false — to turn it off, set AGENT_CREDIT_SINKS_STDOUT_ENABLED=false (or --no-stdout)');
    // the fixes given load
    expect(loadConfig({ text: 'sinks:\n  stdout:\n    enabled: false\n', env: {} }).config.sinks.stdout.enabled).toBe(false);
    expect(loadConfig({ text: '', env: { AGENT_CREDIT_SINKS_STDOUT_ENABLED: 'false' } }).config.sinks.stdout.enabled).toBe(false);
    // a section without such a switch gets no such advice
    expect(errorOf('sinks:\n  kafka: false\n')).not.toContain('enabled');
  });

  it('one item where a list goes shows it as a list (it said only "expected an array"), a secret not written out', () => {
    expect(errorOf('sinks:\n  stdout:\n    eventTypes: episode_credit\n')).toContain('sinks.stdout.eventTypes: expected an array, got "episode_credit" — write a list: eventTypes: [episode_credit]');
    expect(errorOf('conventions:\n  agentScope: service.namespace, service.name\n')).toContain('— write a list: agentScope: [service.namespace, service.name]');
    expect(loadConfig({ text: 'conventions:\n  agentScope: [service.namespace, service.name]\n', env: {} }).config.conventions.agentScope).toEqual(['service.namespace', 'service.name']);
    const secret = errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [127.0.0.1:9092]\n    sasl:\n      mechanism: oauthbearer\n      tokenCommand: print-token --key s3cret\n');
    expect(secret).toContain('source.kafka.sasl.tokenCommand: expected an array');
    expect(secret).not.toContain('s3cret');
  });

  it('maxBytesPerEpisode above maxBufferedBytes names both keys and the fix', () => {
    expect(errorOf('episodes:\n  maxBytesPerEpisode: 999999999999\n')).toContain(
      'episodes.maxBytesPerEpisode: must not exceed episodes.maxBufferedBytes (the bytes of all open episodes) — lower it, or raise episodes.maxBufferedBytes, got 999999999999',
    );
  });

  it('bad enum lists the choices', () => {
    expect(errorOf('source:\n  kind: kafak\n')).toContain('source.kind: expected one of "otlp-http" | "kafka" | "file", got "kafak"');
    expect(errorOf('sinks:\n  kafka:\n    delivery: exactly_once\n')).toContain('sinks.kafka.delivery: expected one of "exactly-once" | "at-least-once", got "exactly_once"');
  });

  it('bad YAML gives the line and column', () => {
    const m = errorOf('source:\n  http:\n    port: [4318\n');
    expect(m).toMatch(/config:\d+:\d+: YAML syntax error/);
  });

  // yaml gives an indentation error at column 1 (where the indentation starts), and the message
  // did not say which key the line holds: in a long file, which section it was in was guesswork
  it('an indentation error gives yaml\'s line and column and the key on that line, with its path', () => {
    expect(errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [a:9092]\n     groupId: g\n')).toContain('config:5:1: YAML syntax error in source.kafka.groupId — All mapping items must start at the same column (fix the YAML;');
    expect(errorOf('telemetry:\n  logLevel: info\n    metricsPort: 9464\n')).toContain('config:2:13: YAML syntax error in telemetry.logLevel — ');
    // a key the schema does not know there is not named (it may be a value yaml read as a key)
    expect(errorOf('source:\n\tkind: kafka\n')).toContain('config:2:1: YAML syntax error — Tabs are not allowed as indentation');
  });

  it('a YAML file that is not a mapping', () => {
    expect(errorOf('- source\n- sinks\n')).toContain('(root): expected a mapping of sections');
  });

  it('a missing config file names the flag and the path', () => {
    // a path given with -c, not a setting in a file: it was headed "invalid configuration"
    expect(() => loadConfig({ file: '/nonexistent/agent-credit.yaml', env: {} })).toThrow(/^invalid command-line flag:\n {2}--config \/nonexistent\/agent-credit.yaml: cannot read the file \(ENOENT\)/);
    // EISDIR and EACCES were told to "give the path of a YAML file such as deploy/agent-credit.yaml"
    expect(() => loadConfig({ file: tmpdir(), env: {} })).toThrow(`--config ${tmpdir()}: cannot read the file (EISDIR) — it is a directory: give the path of the YAML file in it`);
  });

  it('a value set by a command-line flag alone is headed "invalid command-line flag" — it read "invalid configuration", as if a config file or variable were at fault; beside a configuration problem the configuration\'s heading stays', () => {
    const flags = { flagNames: { 'credit.budget': '--budget', 'credit.seed': '--seed' } };
    expect(() => loadConfig({ env: {}, overrides: { 'credit.budget': 'abc' }, ...flags })).toThrow(/^invalid command-line flag:\n {2}credit\.budget: expected a number > 0, got "abc" \(from --budget\)$/);
    expect(() => loadConfig({ env: {}, overrides: { 'credit.budget': 'abc', 'credit.seed': '1.5' }, ...flags })).toThrow(/^invalid command-line flags:\n {2}credit\.budget: .* \(from --budget\)\n {2}credit\.seed: .* \(from --seed\)$/);
    // with a variable's problem, or a file's, both are listed under the configuration's heading
    expect(() => loadConfig({ env: { AGENT_CREDIT_EPISODES_GRACEMS: 'soon' }, overrides: { 'credit.budget': 'abc' }, ...flags })).toThrow(/^invalid configuration:\n {2}episodes\.graceMs: .*\(from AGENT_CREDIT_EPISODES_GRACEMS\) — .*\n {2}credit\.budget: .*\(from --budget\)$/);
    expect(() => loadConfig({ env: {}, text: 'episodes:\n  graceMs: soon\n', origin: 'a.yaml', overrides: { 'credit.budget': 'abc' }, ...flags })).toThrow(/^invalid configuration \(a\.yaml\):\n {2}episodes\.graceMs: .*\n {2}credit\.budget: .*\(from --budget\)$/);
    // an override no flag is named for (an embedding's) is configuration
    expect(() => loadConfig({ env: {}, overrides: { 'credit.budget': -1 } })).toThrow(/^invalid configuration:\n {2}credit\.budget: /);
  });

  it('bad env override value names the variable and the key', () => {
    const m = errorOf('', { AGENT_CREDIT_EPISODES_GRACEMS: 'soon' });
    expect(m).toContain('episodes.graceMs: expected a number ≥ 0, got "soon" (from AGENT_CREDIT_EPISODES_GRACEMS)');
  });

  it('a problem inside a value set as a whole by a variable names the variable too (a list item, a key of a YAML-flow object — they were named without it)', () => {
    expect(errorOf('', { AGENT_CREDIT_SINKS_STDOUT_EVENT_TYPES: 'episode_credit,rewards' })).toContain(
      'sinks.stdout.eventTypes[1]: expected one of "episode_credit" | "message_reward" | "preference_pair", got "rewards" (from AGENT_CREDIT_SINKS_STDOUT_EVENT_TYPES)',
    );
    expect(errorOf('', { AGENT_CREDIT_EPISODES: '{graceMs: soon}' })).toContain('episodes.graceMs: expected a number ≥ 0, got "soon" (from AGENT_CREDIT_EPISODES)');
    expect(errorOf('', { AGENT_CREDIT_EPISODES: '{grace: 1}' })).toContain('episodes.grace: unknown key (from AGENT_CREDIT_EPISODES) — did you mean graceMs?');
    // a key the file sets beside a variable's is not said to come from it
    expect(errorOf('episodes:\n  idleMs: soon\n', { AGENT_CREDIT_EPISODES_GRACE_MS: '1' })).toMatch(/episodes\.idleMs: expected a number ≥ 0, got "soon" — /);
  });

  it('a variable naming a key of several words inside a map of names is refused with the fix (…_SUCCESS_THRESHOLD_TASK_SUCCESS set the threshold of "taskSuccess", which no task_success evaluation reads, without a word)', () => {
    const m = errorOf('', { AGENT_CREDIT_CREDIT_SUCCESS_THRESHOLD_TASK_SUCCESS: '0.7' });
    expect(m).toContain(
      'AGENT_CREDIT_CREDIT_SUCCESS_THRESHOLD_TASK_SUCCESS: credit.successThreshold is a map of names, and a variable of several words after it cannot tell "task_success" from "task-success" or "taskSuccess" — set the whole map as YAML flow, e.g. AGENT_CREDIT_CREDIT_SUCCESS_THRESHOLD=\'{task_success: …}\'',
    );
    // a map of objects says their keys (it failed as "credit.normalization.hallucinationMin: expected an object", no fix)
    expect(errorOf('', { AGENT_CREDIT_CREDIT_NORMALIZATION_HALLUCINATION_MIN: '0' })).toContain("e.g. AGENT_CREDIT_CREDIT_NORMALIZATION='{<name>: {min: …, max: …, higherIsBetter: …}}'");
    // a header's value is a secret: not echoed
    expect(errorOf('', { AGENT_CREDIT_CREDIT_JUDGE_HEADERS_X_API_KEY: 'secret-key' })).not.toContain('secret-key');
    // the fix works, and a one-word name is still taken (lower-case)
    const env = { AGENT_CREDIT_CREDIT_SUCCESS_THRESHOLD: '{task_success: 0.7}', AGENT_CREDIT_CREDIT_NORMALIZATION_HELPFULNESS: '{min: 1, max: 5}' };
    const { config } = loadConfig({ env });
    expect(config.credit.successThreshold).toEqual({ task_success: 0.7 });
    expect(config.credit.normalization).toEqual({ helpfulness: { min: 1, max: 5 } });
  });

  it('a one-word variable inside source.kafka.sasl.extensions is refused with the fix: its keys are case-sensitive, and …_EXTENSIONS_LOGICALCLUSTER set "logicalcluster", not Confluent Cloud\'s logicalCluster, without a word', () => {
    const kafka = { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: 'a:9092', AGENT_CREDIT_SOURCE_KAFKA_SSL: 'true', AGENT_CREDIT_SOURCE_KAFKA_SASL: '{mechanism: oauthbearer, tokenFile: /run/token}' };
    expect(errorOf('', { ...kafka, AGENT_CREDIT_SOURCE_KAFKA_SASL_EXTENSIONS_LOGICALCLUSTER: 'lkc-abc12' })).toContain(
      'AGENT_CREDIT_SOURCE_KAFKA_SASL_EXTENSIONS_LOGICALCLUSTER: the keys of source.kafka.sasl.extensions are case-sensitive (Confluent Cloud\'s logicalCluster, identityPoolId) and a variable\'s name has none: it would set "logicalcluster" — set the whole map as YAML flow, e.g. AGENT_CREDIT_SOURCE_KAFKA_SASL_EXTENSIONS=\'{logicalCluster: …}\'',
    );
    const { config } = loadConfig({ env: { ...kafka, AGENT_CREDIT_SOURCE_KAFKA_SASL_EXTENSIONS: '{logicalCluster: lkc-abc12, identityPoolId: pool-1}' } });
    expect(config.source.kafka?.sasl).toMatchObject({ extensions: { logicalCluster: 'lkc-abc12', identityPoolId: 'pool-1' } });
  });

  it('env override for a setting that does not exist', () => {
    const m = errorOf('', { AGENT_CREDIT_SOURCE_HTTP_PROT: '1' });
    expect(m).toContain('AGENT_CREDIT_SOURCE_HTTP_PROT: no setting has this name');
    // a misspelt key in the file is answered "did you mean port?"; the variable was not
    expect(m).toContain('AGENT_CREDIT_SOURCE_HTTP_PROT: no setting has this name — did you mean AGENT_CREDIT_SOURCE_HTTP_PORT? — source.http has the keys');
    expect(errorOf('', { AGENT_CREDIT_EPISODES_IDLE: '1' })).toContain('did you mean AGENT_CREDIT_EPISODES_IDLE_MS?');
    expect(errorOf('', { AGENT_CREDIT_SOURCE_HTTP_XYZZY: '1' })).not.toContain('did you mean');
  });

  it('credit.judge.url (and batchUrl) must be http(s): another scheme passed and every judge call failed with "fetch failed"; a bad URL says what to give', () => {
    expect(errorOf('credit:\n  game: http\n  judge:\n    url: ftp://judge.local/score\n')).toContain(
      'credit.judge.url: expected an http:// or https:// URL of the judge endpoint, e.g. http://localhost:8000/judge, got "ftp://judge.local/score"',
    );
    expect(errorOf('credit:\n  game: http\n  judge:\n    url: http://judge.local/score\n    batchUrl: file:///tmp/batch\n')).toContain('credit.judge.batchUrl: expected an http:// or https:// URL');
    expect(errorOf('credit:\n  game: http\n  judge:\n    url: judge.local\n')).toContain('credit.judge.url: expected an http:// or https:// URL');
    expect(() => loadConfig({ text: 'credit:\n  game: http\n  judge:\n    url: HTTPS://judge.local/score\n', env: {} })).not.toThrow();
  });

  it('credit.judge.headers (an Authorization header) is never echoed in a config error', () => {
    const m = errorOf('credit:\n  game: http\n  judge:\n    url: http://judge.local/score\n    headers: { Authorization: 7 }\n');
    expect(m).toContain('credit.judge.headers.Authorization');
    expect(m).not.toMatch(/got 7\b/);
    expect(m).toContain('value hidden: a secret');
  });

  it('AGENT_CREDIT_KAFKAJS_FAST_PATHS is a process switch (the documented kafkajs opt-out), not an unknown setting: the job starts', () => {
    const { config } = loadConfig({ env: { AGENT_CREDIT_KAFKAJS_FAST_PATHS: 'off' } });
    expect(config).toEqual(loadConfig({ env: {} }).config);
  });

  it('AGENT_CREDIT_FIXTURES (the recorded-telemetry folder the README tells the tests and deploy/smoke-kafka.ts to read) is no setting either: exported, it stopped every command with "no setting has this name"', () => {
    const { config } = loadConfig({ env: { AGENT_CREDIT_FIXTURES: '/work/shared/fixtures/agents-sdk' } });
    expect(config).toEqual(loadConfig({ env: {} }).config);
  });

  it('an env variable whose section exists but key does not lists that section\'s keys (it listed only the top-level sections)', () => {
    const m = errorOf('', { AGENT_CREDIT_SOURCE_KAFKA_BROKER: 'kafka:9092' });
    expect(m).toContain('AGENT_CREDIT_SOURCE_KAFKA_BROKER: no setting has this name — did you mean AGENT_CREDIT_SOURCE_KAFKA_BROKERS? — source.kafka has the keys brokers, groupId,');
    expect(m).toContain('(e.g. AGENT_CREDIT_SOURCE_KAFKA_BROKERS)');
  });

  // kafkajs split each at its last ':': these passed and then failed, in check and at every retry of run, with
  // "Failed to connect: Port should be >= 0 and < 65536. Received type number (NaN)."
  it('a bootstrap broker without a port, with a scheme, or with a port out of range is refused naming it and the fix', () => {
    const m = errorOf('', { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: 'kafka-1,SASL_SSL://kafka-2:9093,kafka-3:99999,kafka-4:9092' });
    expect(m).toContain('source.kafka.brokers[0]: a broker is host:port and "kafka-1" has no port: write e.g. kafka-1:9092 (9092 is Kafka\'s default) (from AGENT_CREDIT_SOURCE_KAFKA_BROKERS)');
    expect(m).toContain('source.kafka.brokers[1]: a broker is host:port, without SASL_SSL:// (the scheme of a listener setting): write kafka-2:9093');
    expect(m).toContain('source.kafka.brokers[2]: a broker\'s port is 1–65535, got 99999 in "kafka-3:99999"');
    expect(m).not.toContain('brokers[3]');
    expect(() => loadConfig({ text: 'source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1.example.com:9092, 10.0.0.7:19092]\n', env: {} })).not.toThrow();
  });

  // each valid alone: `check` said ready, and `run` stopped at the group join with kafkajs's
  // "Consumer heartbeatInterval (3000) must be lower than sessionTimeout (3000)", naming no key
  it('a heartbeat interval not below the session timeout is refused naming both keys and the fix', () => {
    const m = errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    sessionTimeoutMs: 3000\n', { AGENT_CREDIT_SOURCE_KAFKA_HEARTBEAT_INTERVAL_MS: '3000' });
    expect(m).toContain('source.kafka.heartbeatIntervalMs: expected a number below source.kafka.sessionTimeoutMs 3000');
    expect(m).toContain('about a third of it is usual, 1000; or raise sessionTimeoutMs), got 3000 (from AGENT_CREDIT_SOURCE_KAFKA_HEARTBEAT_INTERVAL_MS)');
    expect(errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    heartbeatIntervalMs: 40000\n')).toContain('below source.kafka.sessionTimeoutMs 30000');
    expect(() => loadConfig({ text: 'source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    sessionTimeoutMs: 3000\n    heartbeatIntervalMs: 2999\n', env: {} })).not.toThrow();
  });

  // on the broker, maxWaitMs 15000 with sessionTimeoutMs 6000: "The coordinator is not aware of this
  // member, re-joining the group", 3 rebalances in 40 s of idle topics (5000 held: one assignment)
  it('a fetch wait not below the session timeout is refused naming both keys (an idle fetch outlived the session)', () => {
    const m = errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    sessionTimeoutMs: 6000\n    heartbeatIntervalMs: 2000\n    maxWaitMs: 15000\n');
    expect(m).toContain('source.kafka.maxWaitMs: expected a number below source.kafka.sessionTimeoutMs 6000 (the consumer does not heartbeat while a fetch of idle partitions waits this long');
    expect(m).toContain('got 15000');
    expect(() => loadConfig({ text: 'source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    sessionTimeoutMs: 6000\n    heartbeatIntervalMs: 2000\n    maxWaitMs: 5000\n', env: {} })).not.toThrow();
  });

  // on the broker: check said "will be created at start" and run stopped with kafkajs's bare
  // "agent-credit: Topic creation errors", naming neither the setting nor why
  it('a topic name the brokers refuse (a space, a slash, a colon, over 249 characters) is refused naming its key', () => {
    const m = errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    logsTopic: "otlp:logs"\n', { AGENT_CREDIT_SINKS_KAFKA_TOPICS_REWARDS: 'agent credit/rewards' });
    expect(m).toContain(`sinks.kafka.topics.rewards: not a Kafka topic name, which holds letters, digits, '.', '_' and '-' only (not a space, "/"): the brokers refuse it, got "agent credit/rewards" (from AGENT_CREDIT_SINKS_KAFKA_TOPICS_REWARDS)`);
    expect(m).toContain(`source.kafka.logsTopic: not a Kafka topic name, which holds letters, digits, '.', '_' and '-' only (not ":")`);
    expect(errorOf(`sinks:\n  kafka:\n    topics:\n      dlq: ${'d'.repeat(250)}\n`)).toContain('sinks.kafka.topics.dlq: a Kafka topic name is at most 249 characters, this one has 250');
    expect(errorOf('sinks:\n  kafka:\n    topics:\n      episodes: ".."\n')).toContain('sinks.kafka.topics.episodes: not a Kafka topic name (the brokers refuse . and ..)');
    expect(() => loadConfig({ text: `source:\n  kind: kafka\n  kafka:\n    brokers: [kafka-1:9092]\n    spansTopic: otel.Spans_v-2\n    logsTopic: null\nsinks:\n  kafka:\n    topics:\n      dlq: ${'d'.repeat(249)}\n`, env: {} })).not.toThrow();
  });

  it('kind kafka without a kafka section says what to set', () => {
    expect(errorOf('source:\n  kind: kafka\n')).toContain('source.kafka: source.kind is kafka: set source.kafka.brokers');
  });

  it('reports every problem at once', () => {
    const m = errorOf('source:\n  kind: nope\n  http:\n    port: -1\nepisodes:\n  idleMs: x\n');
    expect(m.split('\n').filter((l) => l.startsWith('  ')).length).toBe(3);
  });
});

describe('configuration loading', () => {
  it('defaults come from DEFAULTS and the stages', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.source.kind).toBe(DEFAULTS.source.kind);
    expect(config.source.http).toEqual(DEFAULTS.source.http);
    expect(config.sinks.live.port).toBe(DEFAULTS.sinks.live.port);
    expect(config.episodes.graceMs).toBe(2000); // EpisodeAssembler's own default
  });

  it('precedence: file < env < flags', () => {
    const dir = tempDir('ac-config-');
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'source:\n  http:\n    port: 1111\n    host: 0.0.0.0\nepisodes:\n  graceMs: 10\n');
    const { config, origins } = loadConfig({
      file,
      env: { AGENT_CREDIT_SOURCE_HTTP_PORT: '2222', AGENT_CREDIT_EPISODES_GRACE_MS: '20' },
      overrides: { 'source.http.port': 3333 },
    });
    expect(config.source.http.port).toBe(3333);
    expect(config.source.http.host).toBe('0.0.0.0');
    expect(config.episodes.graceMs).toBe(20);
    expect(origins.get('episodes.graceMs')).toBe('AGENT_CREDIT_EPISODES_GRACE_MS');
  });

  it('env values are typed by their setting: lists, booleans, null', () => {
    const { config } = loadConfig({
      env: {
        AGENT_CREDIT_SOURCE_KIND: 'kafka',
        AGENT_CREDIT_SOURCE_KAFKA_BROKERS: 'a:9092,b:9092',
        AGENT_CREDIT_SOURCE_KAFKA_LOGSTOPIC: 'null',
        AGENT_CREDIT_SINKS_LIVE_ENABLED: 'false',
      },
    });
    expect(config.source.kafka?.brokers).toEqual(['a:9092', 'b:9092']);
    expect(config.source.kafka?.logsTopic).toBeNull();
    expect(config.sinks.live.enabled).toBe(false);
  });

  it('the items of a comma-separated list variable are trimmed: AGENT_CREDIT_CONVENTIONS_AGENT_SCOPE="service.namespace, service.name" scoped by the attribute " service.name", which no resource has (agent ids went unscoped without a word)', () => {
    const { config } = loadConfig({
      env: {
        AGENT_CREDIT_CONVENTIONS_AGENT_SCOPE: 'service.namespace, service.name',
        AGENT_CREDIT_CONVENTIONS_PLACEHOLDER_AGENT_NAMES: 'OpenAI Agent , Agent',
        AGENT_CREDIT_SINKS_STDOUT_EVENT_TYPES: 'episode_credit, preference_pair',
      },
    });
    expect(config.conventions.agentScope).toEqual(['service.namespace', 'service.name']);
    expect(config.conventions.placeholderAgentNames).toEqual(['OpenAI Agent', 'Agent']);
    expect(config.sinks.stdout.eventTypes).toEqual(['episode_credit', 'preference_pair']);
  });

  it('the removal protocol "null" is a choice, not no value: AGENT_CREDIT_CREDIT_(JUDGE_)REMOVAL_PROTOCOL=null sets it (it was read as null and refused as "got null"); a bare null in YAML says to quote it', () => {
    const judge = 'credit:\n  game: http\n  judge:\n    url: http://127.0.0.1:8090/score\n';
    const { config } = loadConfig({ text: judge, env: { AGENT_CREDIT_CREDIT_JUDGE_REMOVAL_PROTOCOL: 'null', AGENT_CREDIT_CREDIT_REMOVAL_PROTOCOL: 'null' } });
    expect((config.credit as { judge?: { removalProtocol?: string } }).judge?.removalProtocol).toBe('null');
    expect((config.credit as { removalProtocol?: string }).removalProtocol).toBe('null');
    // `null` still means no value for a setting that takes null (source.kafka.logsTopic, above)
    expect(errorOf(`${judge}    removalProtocol: null\n`)).toContain('credit.judge.removalProtocol: expected one of "mask" | "null", got null — a bare null is no value in YAML: quote the choice, removalProtocol: "null"');
    expect(loadConfig({ text: `${judge}    removalProtocol: "null"\n`, env: {} }).config.credit).toMatchObject({ judge: { removalProtocol: 'null' } });
  });

  it("brokers may be one comma-separated string in YAML too, as Kafka's bootstrap.servers is written (a list only was accepted)", () => {
    const { config } = loadConfig({ text: 'source:\n  kind: kafka\n  kafka:\n    brokers: a:9092, b:9092\n', env: {} });
    expect(config.source.kafka?.brokers).toEqual(['a:9092', 'b:9092']);
    for (const bad of ['" , "', '9092']) {
      const m = errorOf(`source:\n  kind: kafka\n  kafka:\n    brokers: ${bad}\n`);
      expect(m).toContain('source.kafka.brokers');
      expect(m).toContain('host:port, e.g. [localhost:9092]');
    }
  });

  it('env names resolve with or without word breaks', () => {
    expect(resolveEnvPath(AppConfigSchema, ['SOURCE', 'HTTP', 'MAXBODYBYTES'])).toEqual(['source', 'http', 'maxBodyBytes']);
    expect(resolveEnvPath(AppConfigSchema, ['SOURCE', 'HTTP', 'MAX', 'BODY', 'BYTES'])).toEqual(['source', 'http', 'maxBodyBytes']);
    expect(resolveEnvPath(AppConfigSchema, ['NOPE'])).toBeUndefined();
  });
});

describe('source.kafka input topics', () => {
  // a topic is decoded as the signal of its first key: the other signal's records all went to the DLQ
  it('one topic named by two of spansTopic, logsTopic and evaluationsTopic is refused, naming both keys', () => {
    const base = 'source:\n  kind: kafka\n  kafka:\n    brokers: [localhost:9092]\n';
    const m = errorOf(`${base}    spansTopic: telemetry\n    logsTopic: telemetry\n`);
    expect(m).toContain('source.kafka.logsTopic: "telemetry" is also source.kafka.spansTopic');
    expect(m).toContain('a topic per signal');
    expect(errorOf(`${base}    logsTopic: evals\n    evaluationsTopic: evals\n`)).toContain('source.kafka.evaluationsTopic: "evals" is also source.kafka.logsTopic');
    expect(errorOf(`${base}    evaluationsTopic: otlp_spans\n`)).toContain('source.kafka.evaluationsTopic: "otlp_spans" is also source.kafka.spansTopic');
    // distinct topics, and logsTopic null beside the default spans topic, load
    expect(loadConfig({ text: `${base}    logsTopic: null\n    evaluationsTopic: evals\n`, env: {} }).config.source.kafka!.logsTopic).toBeNull();
    expect(loadConfig({ text: base, env: {} }).config.source.kafka!.spansTopic).toBe('otlp_spans');
  });
});

describe('sinks.kafka.topics against the input topics', () => {
  const base = 'source:\n  kind: kafka\n  kafka:\n    brokers: [localhost:9092]\n';
  // the job would read its own output: a dead letter written back to its topic is read and dead-lettered again, without end
  it('an output topic that is an input topic is refused, naming both keys', () => {
    const dlq = errorOf(`${base}sinks:\n  kafka:\n    topics: { dlq: otlp_spans }\n`);
    expect(dlq).toContain('sinks.kafka.topics.dlq: "otlp_spans" is also source.kafka.spansTopic');
    expect(dlq).toContain('without end');
    expect(errorOf(`${base}    evaluationsTopic: judged\nsinks:\n  kafka:\n    topics: { rewards: judged }\n`)).toContain('sinks.kafka.topics.rewards: "judged" is also source.kafka.evaluationsTopic');
    // logsTopic null frees otlp_logs; an otlp-http job does not read the Kafka topics
    expect(loadConfig({ text: `${base}    logsTopic: null\nsinks:\n  kafka:\n    topics: { dlq: otlp_logs }\n`, env: {} }).config.sinks.kafka.topics.dlq).toBe('otlp_logs');
    expect(loadConfig({ text: 'source:\n  kafka:\n    brokers: [localhost:9092]\nsinks:\n  kafka:\n    topics: { dlq: otlp_spans }\n', env: {} }).config.source.kind).toBe('otlp-http');
  });
});

describe('a URL refused for its user:password@ is not echoed with them', () => {
  it('credit.judge.url', () => {
    const m = errorOf('credit:\n  game: http\n  judge: { url: "http://u:pw-1234@localhost:8000/judge" }\n');
    expect(m).toContain('credit.judge.url: a URL with user:password@ is refused by fetch');
    expect(m).not.toContain('pw-1234');
  });
});

// check connected to such a port (✓), then every judge call failed with "fetch failed (bad port)"
describe('a URL on a port fetch refuses (the Fetch standard\'s bad ports) is refused when the config is read', () => {
  it('credit.judge.url and batchUrl', () => {
    const m = errorOf('credit:\n  game: http\n  judge: { url: "http://localhost:6666/judge", batchUrl: "http://localhost:6000/batch" }\n');
    expect(m).toContain('credit.judge.url: port 6666 is one fetch refuses to connect to');
    expect(m).toContain('credit.judge.batchUrl: port 6000 is one fetch refuses to connect to');
    expect(m).toContain('serve it on another port');
    expect(() => loadConfig({ text: 'credit:\n  game: http\n  judge: { url: "http://localhost:6600/judge" }\n', env: {} })).not.toThrow();
  });

  it('source.kafka.sasl.tokenEndpoint', () => {
    const m = errorOf('source:\n  kind: kafka\n  kafka:\n    brokers: [localhost:9092]\n    sasl: { mechanism: oauthbearer, tokenEndpoint: "http://localhost:10080/token", clientId: a, clientSecret: b }\n');
    expect(m).toContain('source.kafka.sasl.tokenEndpoint: port 10080 is one fetch refuses to connect to');
  });
});

describe("a URL's query (an api_key) is not echoed in a config error, as the README says of messages", () => {
  const secret = `S3CR3T-${randomUUID().slice(0, 8)}`;

  it('credit.judge set while credit.game is not http: the judge is shown without its query', () => {
    const m = errorOf(`credit:\n  judge: { url: "http://j:8000/s?api_key=${secret}" }\n`);
    expect(m).toContain('credit.judge: credit.judge is set but credit.game is provenance');
    expect(m).toContain('"url":"http://j:8000/s?(query hidden)"');
    expect(m).not.toContain(secret);
  });

  it('credit.judge.url, batchUrl and source.kafka.sasl.tokenEndpoint refused as URLs', () => {
    const noScheme = errorOf(`credit:\n  game: http\n  judge: { url: "judge.local:8000/score?api_key=${secret}" }\n`);
    expect(noScheme).toContain('credit.judge.url: expected an http:// or https:// URL of the judge endpoint, e.g. http://localhost:8000/judge, got "judge.local:8000/score?(query hidden)"');
    expect(noScheme).not.toContain(secret);
    const batch = errorOf('credit:\n  game: http\n  judge: { url: "http://j:8000/s" }\n', { AGENT_CREDIT_CREDIT_JUDGE_BATCH_URL: `ftp://j/batch?key=${secret}` });
    expect(batch).toContain('credit.judge.batchUrl: expected an http:// or https:// URL');
    expect(batch).not.toContain(secret);
    const endpoint = errorOf(`source:\n  kind: kafka\n  kafka:\n    brokers: [b:9093]\n    sasl: { mechanism: oauthbearer, tokenEndpoint: "ftp://idp/token?key=${secret}", clientId: c, clientSecret: s }\n`);
    expect(endpoint).toContain('source.kafka.sasl.tokenEndpoint:');
    expect(endpoint).not.toContain(secret);
  });
});

describe('source.kafka.sasl.tokenCommand is never echoed in a config error (its arguments may be secrets, README: "the command\'s arguments are never quoted in errors")', () => {
  const secret = `S3CR3T-${randomUUID().slice(0, 8)}`;
  const base = 'source:\n  kind: kafka\n  kafka:\n    brokers: [b:9093]\n    ssl: true\n    sasl:\n      mechanism: oauthbearer\n';

  it('a command line written as one string, not a list', () => {
    const m = errorOf(`${base}      tokenCommand: "signer --client-secret ${secret}"\n`);
    expect(m).toContain('source.kafka.sasl.tokenCommand: expected an array, got a string (value hidden: a secret)');
    expect(m).not.toContain(secret);
  });

  it('a second token source beside it', () => {
    const m = errorOf(`${base}      tokenEndpoint: https://idp.example/token\n      clientId: c\n      clientSecret: s\n      tokenCommand: [signer, --client-secret, ${secret}]\n`);
    expect(m).toContain('source.kafka.sasl.tokenCommand: mechanism oauthbearer needs exactly one token source');
    expect(m).not.toContain(secret);
  });
});

describe('a setting that holds secrets given as text (a variable whose YAML flow does not parse) is not echoed', () => {
  const secret = `S3CR3T-${randomUUID().slice(0, 8)}`;
  const kafka = { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: 'b:9093', AGENT_CREDIT_SOURCE_KAFKA_SSL: 'true' };

  it('source.kafka.sasl with a password holding a YAML flow indicator', () => {
    const m = errorOf('', { ...kafka, AGENT_CREDIT_SOURCE_KAFKA_SASL: `{mechanism: plain, username: svc, password: ${secret}]x}` });
    expect(m).toContain('source.kafka.sasl: expected an object, got a string (value hidden: source.kafka.sasl holds secrets) — the variable is read as YAML flow');
    expect(m).not.toContain(secret);
  });

  it('a listener auth, a whole section', () => {
    const auth = errorOf('', { AGENT_CREDIT_SINKS_LIVE_AUTH: `{token: ${secret}}}` });
    expect(auth).toContain('sinks.live.auth: expected an object, got a string (value hidden');
    expect(auth).not.toContain(secret);
    const section = errorOf('', { AGENT_CREDIT_SOURCE_KAFKA: `{brokers: [b:9093], sasl: {mechanism: plain, username: svc, password: ${secret}]x}}` });
    expect(section).toContain('source.kafka: expected an object, got a string (value hidden: source.kafka holds secrets)');
    expect(section).not.toContain(secret);
  });

  it('text in place of a mapping without secrets is still shown', () => {
    expect(errorOf('', { AGENT_CREDIT_EPISODES: '{graceMs: 5]}' })).toContain('episodes: expected an object, got "{graceMs: 5]}" — the variable is read as YAML flow');
    // as is text that is no YAML flow where a setting takes a scalar too (source.kafka.ssl: true, or a mapping)
    expect(errorOf('', { AGENT_CREDIT_SOURCE_KAFKA_SSL: 'yes' })).toContain('got "yes"');
  });
});

describe('a YAML error does not quote the value it stopped at', () => {
  const secret = `S3CR3T-${randomUUID().slice(0, 8)}`;
  const withToken = (v: string) => `source:\n  kind: kafka\n  kafka:\n    brokers: [b:9093]\n    sasl:\n      mechanism: plain\n      username: svc\n      password: ${v}\n`;

  it('a password starting with > or | (a block scalar header) was quoted whole', () => {
    for (const v of [`>${secret}`, `|${secret}`]) {
      const m = errorOf(withToken(v));
      expect(m).toContain('config:8:18: YAML syntax error in source.kafka.sasl.password — Block scalar header includes extra characters (fix the YAML;');
      expect(m).not.toContain(secret);
    }
  });

  it('a mis-indented line after a password, which yaml reads into a key with it, names the key, not the password', () => {
    const m = errorOf(withToken(`${secret}\n          extra: 1`));
    expect(m).toContain('YAML syntax error in source.kafka.sasl.password — ');
    expect(m).not.toContain(secret);
  });

  // A key of a map setting (credit.judge.headers: any header name) is no key of the schema: the
  // second half of a wrapped credential (`base64` wraps at 76 columns) pasted at the header's
  // indentation is read as a header name, and the message named it as the key on its line
  it('the rest of a wrapped credential on its own line under credit.judge.headers is not named as a header', () => {
    const judge = (lines: string) => `credit:\n  game: http\n  judge:\n    url: http://judge:8000/score\n    headers:\n${lines}`;
    for (const text of [judge(`      Authorization: Basic dXNlcjpwYXNzd29yZC1wYXJ0LW9uZS1\n      ${secret}\n`), judge(`      x-api-key: abc\n      ${secret}\n     x-other: 1\n`)]) {
      const m = errorOf(text);
      expect(m).toContain('config:7:7: YAML syntax error in credit.judge.headers — ');
      expect(m).not.toContain(secret);
    }
    // a key the schema declares is still named with its path
    expect(errorOf(judge('      Authorization: Bearer x\n    url: http://judge:8000/other\n'))).toContain('YAML syntax error in credit.judge.url — Map keys must be unique');
  });

  it('a password starting with * (an alias) failed with a bare ReferenceError quoting the rest: now a ConfigError without it', () => {
    const m = errorOf(withToken(`*${secret}`));
    expect(m).toContain('config: YAML syntax error — a value starts with * (an alias)');
    expect(m).not.toContain(secret);
  });
});
