/**
 * Scenario plans: what happens in a generated multi-agent run, before any telemetry exists.
 *
 * Pure and deterministic: `planScenario(options)` uses only its seeded PRNG. The recorder
 * (record.ts) turns a plan into real OpenTelemetry spans in one of three conventions; keeping
 * the story here means all conventions describe exactly the same run.
 *
 * The story: a `planner` splits a coding task into functions and hands off to the coders; each
 * coder looks up the docs (`search_docs`), writes its functions, runs the tests (`run_tests`)
 * and hands off; the `reviewer` re-runs the tests and approves. Kinds add a redundant
 * `researcher`, a sabotaging `optimizer`, a failing-then-retried tool call, an unrepaired
 * tool failure, or a tool failure repaired too late to save the run (see ScenarioKindSchema).
 */
import { SeededRandom } from './prng.js';
import type { ScenarioKind } from './types.js';

export type PlannedRole = 'root' | 'agent' | 'llm' | 'tool' | 'handoff';

export interface PlannedToolCall {
  readonly id: string;
  readonly name: string;
  /** JSON text */
  readonly arguments: string;
}

/** One chat message as an LLM step sees it (input) or produces it (output). */
export interface PlannedMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content?: string;
  readonly toolCall?: PlannedToolCall;
  /** For `tool` messages: the call this is the result of. */
  readonly toolCallId?: string;
}

/** A span to record. Times are absolute unix nanoseconds; children are in start order. */
export interface PlannedSpan {
  readonly key: string;
  readonly role: PlannedRole;
  /** Owning agent (the agent itself for `agent` spans); absent on the root. */
  readonly agent?: string;
  /** `agent` spans: the agent that handed off to this one. */
  readonly invokedBy?: string;
  startNs: bigint;
  endNs: bigint;
  readonly children: PlannedSpan[];
  /** `llm`: the conversation the model saw. */
  readonly input?: readonly PlannedMessage[];
  /** `llm`: text answer; `tool`/`handoff`: the result text. */
  readonly output?: string;
  /** `llm`: the tool call it emitted; `tool`/`handoff`: the call being executed. */
  readonly toolCall?: PlannedToolCall;
  /** `handoff`: target agent. */
  readonly handoffTo?: string;
  readonly error?: { readonly type: string; readonly message: string };
  /** Keys of steps (of other agents) whose output this step builds on: recorded as span links. */
  readonly links: readonly string[];
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
}

/** A failing step-level evaluation: `gen_ai.evaluation.result` on that step's span, score 0, label fail. */
export interface PlannedStepFlag {
  readonly key: string;
  readonly name: string;
  readonly explanation: string;
  readonly atNs: bigint;
}

export interface ScenarioPlan {
  readonly kind: ScenarioKind;
  readonly task: string;
  readonly model: string;
  readonly provider: string;
  readonly workflow: string;
  readonly root: PlannedSpan;
  readonly agents: readonly string[];
  readonly requiredContent: readonly string[];
  readonly forbiddenContent: readonly string[];
  /** Every message an agent produced (llm answers and tool/handoff results), in time order. */
  readonly messageContents: readonly string[];
  readonly saboteur?: string;
  readonly redundant?: string;
  /** Step-level evaluations that fail a step (a reviewer's verdict), emitted as evaluation events. */
  readonly stepFlags: readonly PlannedStepFlag[];
  /** Plan keys of the first erroneous step and its repair. */
  readonly firstErrorKey?: string;
  readonly fixKey?: string;
  /** Evaluation time (unix ns): shortly after the root ends. */
  readonly evaluatedAtNs: bigint;
}

export interface PlanOptions {
  readonly kind: ScenarioKind;
  readonly seed: number;
  readonly agents?: number;
  readonly steps?: number;
  readonly baseTimeMs?: number;
}

const TASKS = [
  { title: 'Add retry with exponential backoff to the HTTP client', area: 'http client' },
  { title: 'Add cursor pagination to the orders API', area: 'orders API' },
  { title: 'Cache user profiles with a TTL', area: 'profile service' },
  { title: 'Validate uploaded invoice files', area: 'billing' },
  { title: 'Rate-limit the public search endpoint', area: 'search API' },
] as const;
const VERBS = ['parse', 'validate', 'format', 'merge', 'compute', 'load', 'store', 'encode', 'decode', 'normalize', 'schedule', 'limit'];
const NOUNS = ['Cursor', 'Config', 'Backoff', 'Token', 'Invoice', 'Profile', 'Header', 'Batch', 'Quota', 'Window', 'Page', 'Entry'];
const MODELS = [
  { model: 'gpt-4.1-mini', provider: 'openai' },
  { model: 'claude-sonnet-4', provider: 'anthropic' },
  { model: 'gemini-2.5-flash', provider: 'gcp.gemini' },
] as const;

/** Markers the score rule looks for (see score.ts). */
const PLAN_MARKER = 'Plan:';
const TESTS_PASSED = 'tests passed';
const APPROVED = 'LGTM';
const SABOTAGE_MARKER = 'input validation removed';
const DAY_MS = 86_400_000;
const BASE_2026_MS = Date.UTC(2026, 0, 1);
/** At most this many previous messages are replayed to an LLM step (keeps big runs small). */
const CONTEXT_WINDOW = 8;

type MutableSpan = PlannedSpan & { children: PlannedSpan[] };

/** Builds the span tree with a virtual clock (nanoseconds) driven by the PRNG. */
class PlanBuilder {
  private clockNs: bigint;
  private readonly stack: MutableSpan[] = [];
  private next = 0;
  readonly messages: string[] = [];

  constructor(
    private readonly rng: SeededRandom,
    startNs: bigint,
  ) {
    this.clockNs = startNs;
  }

  now(): bigint {
    return this.clockNs;
  }

  /** Opens a span around `body`, closing it a few ms after its last child. */
  group(fields: Omit<PlannedSpan, 'key' | 'startNs' | 'endNs' | 'children' | 'links'> & { links?: string[] }, body: () => void): PlannedSpan {
    this.advance(1, 15);
    const span: MutableSpan = { ...fields, key: this.key(fields.role, fields.agent), links: fields.links ?? [], startNs: this.clockNs, endNs: 0n, children: [] };
    this.stack.at(-1)?.children.push(span);
    this.stack.push(span);
    body();
    this.stack.pop();
    this.advance(1, 10);
    span.endNs = this.clockNs;
    return span;
  }

  /** Adds a leaf span lasting between `minMs` and `maxMs`. */
  leaf(fields: Omit<PlannedSpan, 'key' | 'startNs' | 'endNs' | 'children' | 'links'> & { links?: string[] }, minMs: number, maxMs: number): PlannedSpan {
    this.advance(1, 20);
    const startNs = this.clockNs;
    this.advance(minMs, maxMs);
    const span: MutableSpan = { ...fields, key: this.key(fields.role, fields.agent), links: fields.links ?? [], startNs, endNs: this.clockNs, children: [] };
    this.stack.at(-1)?.children.push(span);
    if (fields.output !== undefined) this.messages.push(fields.output);
    return span;
  }

  private key(role: PlannedRole, agent: string | undefined): string {
    return `${this.next++}:${agent ?? 'root'}:${role}`;
  }

  private advance(minMs: number, maxMs: number): void {
    // Sub-millisecond jitter so that timestamps use the full nanosecond field.
    this.clockNs += BigInt(this.rng.int(minMs, maxMs)) * 1_000_000n + BigInt(this.rng.int(0, 999_999));
  }
}

/** An agent's running conversation, trimmed to the last CONTEXT_WINDOW messages when replayed. */
class Conversation {
  private readonly history: PlannedMessage[] = [];
  constructor(private readonly head: readonly PlannedMessage[]) {}
  add(m: PlannedMessage): void {
    this.history.push(m);
  }
  snapshot(): PlannedMessage[] {
    return [...this.head, ...this.history.slice(-CONTEXT_WINDOW)];
  }
}

/** Rough token count (4 characters a token), deterministic. */
function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usageFor(input: readonly PlannedMessage[], output: string): { inputTokens: number; outputTokens: number } {
  const inText = input.map((m) => (m.content ?? '') + (m.toolCall?.arguments ?? '')).join('\n');
  return { inputTokens: tokens(inText) + 3 * input.length, outputTokens: tokens(output) };
}

/**
 * Plans one run. Throws (naming the option) when `agents` is below the kind's minimum.
 * Agent names: planner, coder, coder_2..coder_k, [researcher | optimizer], reviewer.
 */
export function planScenario(options: PlanOptions): ScenarioPlan {
  const { kind, seed } = options;
  const rng = new SeededRandom(seed);
  const extra = kind === 'redundant' || kind === 'saboteur' ? 1 : 0;
  const minAgents = 3 + extra;
  const totalAgents = options.agents ?? minAgents;
  if (totalAgents < minAgents) {
    throw new Error(`scenario option "agents" must be at least ${minAgents} for kind "${kind}" (got ${totalAgents})`);
  }
  const stepsPerCoder = options.steps ?? 2;
  const coders = Array.from({ length: totalAgents - 2 - extra }, (_, i) => (i === 0 ? 'coder' : `coder_${i + 1}`));
  const task = rng.pick(TASKS);
  const { model, provider } = rng.pick(MODELS);
  const baseMs = options.baseTimeMs ?? BASE_2026_MS + rng.int(0, DAY_MS - 1);
  const b = new PlanBuilder(rng, BigInt(baseMs) * 1_000_000n);

  // Function names: distinct verb+noun pairs, `stepsPerCoder` per coder.
  const used = new Set<string>();
  const functionsOf = new Map<string, string[]>();
  for (const coder of coders) {
    const names: string[] = [];
    for (let i = 0; i < stepsPerCoder; i++) {
      let name = `${rng.pick(VERBS)}${rng.pick(NOUNS)}`;
      while (used.has(name)) name = `${rng.pick(VERBS)}${rng.pick(NOUNS)}${used.size}`;
      used.add(name);
      names.push(name);
    }
    functionsOf.set(coder, names);
  }
  const allFunctions = [...used];
  const requiredContent = [PLAN_MARKER, ...allFunctions.map((f) => `function ${f}(`), TESTS_PASSED, APPROVED];
  const forbiddenContent = kind === 'saboteur' ? [SABOTAGE_MARKER] : [];
  const callId = () => `call_${rng.hex(12)}`;
  const userTask: PlannedMessage = { role: 'user', content: `${task.title} (${task.area}).` };

  let saboteur: string | undefined;
  let redundant: string | undefined;
  let firstErrorKey: string | undefined;
  let fixKey: string | undefined;
  const stepFlags: PlannedStepFlag[] = [];
  const agentsInOrder: string[] = [];

  /** One LLM call by `agent` producing `text` (and optionally a tool call). */
  const llm = (agent: string, conv: Conversation, text: string, toolCall?: PlannedToolCall, links: string[] = []): PlannedSpan => {
    const input = conv.snapshot();
    const span = b.leaf({ role: 'llm', agent, input, output: text, toolCall, links, usage: usageFor(input, text) }, 300, 2500);
    conv.add({ role: 'assistant', content: text, toolCall });
    return span;
  };
  /** The tool call an LLM step asked for, executed; `error` makes it fail with an exception. */
  const tool = (agent: string, conv: Conversation, call: PlannedToolCall, result: string, error?: { type: string; message: string }): PlannedSpan => {
    const span = b.leaf({ role: 'tool', agent, toolCall: call, output: error ? undefined : result, error }, 40, 900);
    conv.add({ role: 'tool', toolCallId: call.id, content: error ? `error: ${error.message}` : result });
    return span;
  };
  const handoff = (from: string, conv: Conversation, to: string): void => {
    const call: PlannedToolCall = { id: callId(), name: `transfer_to_${to}`, arguments: '{}' };
    llm(from, conv, `Handing off to ${to}.`, call);
    b.leaf({ role: 'handoff', agent: from, toolCall: call, handoffTo: to, output: JSON.stringify({ assistant: to }) }, 1, 5);
  };
  const system = (agent: string): PlannedMessage => ({ role: 'system', content: `You are the ${agent} of a software team.` });

  const root = b.group({ role: 'root' }, () => {
    // Planner
    agentsInOrder.push('planner');
    let planKey = '';
    // The hand-off chain; the redundant researcher is a side task outside it (nobody consumes its work).
    const order = [...coders, ...(kind === 'saboteur' ? ['optimizer'] : []), 'reviewer'];
    b.group({ role: 'agent', agent: 'planner' }, () => {
      const conv = new Conversation([system('planner'), userTask]);
      const steps = coders.map((c) => `${c}: ${functionsOf.get(c)!.join(', ')}`).join('; ');
      planKey = llm('planner', conv, `${PLAN_MARKER} ${task.title}. Work split — ${steps}. Reviewer runs the tests.`).key;
      handoff('planner', conv, order[0]!);
    });

    const codeKeys: string[] = [];
    const testKeys: string[] = [];
    let lastCodeKey = '';
    let previous = 'planner';
    for (const [ci, coder] of coders.entries()) {
      agentsInOrder.push(coder);
      b.group({ role: 'agent', agent: coder, invokedBy: previous }, () => {
        const conv = new Conversation([system(coder), userTask, { role: 'user', content: `From planner: implement ${functionsOf.get(coder)!.join(', ')}.` }]);
        const query = `${task.area} ${functionsOf.get(coder)![0]} API`;
        const search: PlannedToolCall = { id: callId(), name: 'search_docs', arguments: JSON.stringify({ query }) };
        llm(coder, conv, `Looking up the ${task.area} docs.`, search, [planKey]);
        const docsFail = (kind === 'failure' || kind === 'late-repair') && ci === 0;
        const docsResult = `docs: ${task.area} helpers take (input, options) and return a Result; see ${functionsOf.get(coder)![0]} example.`;
        const docs = tool(coder, conv, search, docsResult, docsFail ? { type: 'TimeoutError', message: 'search_docs timed out after 30000 ms' } : undefined);
        if (docsFail) firstErrorKey = docs.key;
        if (kind === 'late-repair' && ci === 0) {
          // The coder retries at once and the retry succeeds — a corrective attempt of the first
          // error, paired with it (chosen = the retry, rejected = the failed call) — but the retry
          // spent the coder's turn budget: it runs the tests and hands off without writing its
          // functions, and the run fails.
          const retry: PlannedToolCall = { id: callId(), name: 'search_docs', arguments: search.arguments };
          llm(coder, conv, 'The docs lookup timed out; retrying search_docs.', retry);
          fixKey = tool(coder, conv, retry, docsResult).key;
          lastCodeKey = llm(coder, conv, `Found the docs, but my turn budget is spent: ${functionsOf.get(coder)!.join(', ')} not written — running the tests as they stand and handing off.`).key;
        } else {
          for (const fn of functionsOf.get(coder)!) {
            const text = docsFail
              ? `I could not read the docs, so ${fn} is left as a TODO stub.`
              : `Implemented ${fn}:\n\`\`\`ts\nexport function ${fn}(input: string, options = {}) {\n  return parse(input, options);\n}\n\`\`\``;
            const span = llm(coder, conv, text);
            codeKeys.push(span.key);
            lastCodeKey = span.key;
          }
        }
        const run: PlannedToolCall = { id: callId(), name: 'run_tests', arguments: JSON.stringify({ suite: task.area }) };
        llm(coder, conv, 'Running the tests.', run);
        const total = 4 * stepsPerCoder;
        if (kind === 'error-retry' && ci === 0) {
          const failed = tool(coder, conv, run, '', { type: 'ConnectionResetError', message: 'test runner crashed: ECONNRESET' });
          firstErrorKey = failed.key;
          const retry: PlannedToolCall = { id: callId(), name: 'run_tests', arguments: run.arguments };
          llm(coder, conv, 'The test runner crashed; retrying run_tests.', retry);
          const fixed = tool(coder, conv, retry, `${total}/${total} ${TESTS_PASSED}`);
          fixKey = fixed.key;
          testKeys.push(fixed.key);
        } else if (docsFail) {
          // A consequence (failure: of the first error, not a new one; late-repair: of the turn
          // limit): the functions are missing and the tests fail.
          tool(coder, conv, run, '', { type: 'AssertionError', message: `${total} of ${total} tests failed: ${functionsOf.get(coder)![0]} is not implemented` });
        } else {
          testKeys.push(tool(coder, conv, run, `${total}/${total} ${TESTS_PASSED}`).key);
        }
        handoff(coder, conv, order[ci + 1]!);
      });
      previous = coder;
    }

    let sabotageKey: string | undefined;
    if (kind === 'saboteur') {
      saboteur = 'optimizer';
      agentsInOrder.push('optimizer');
      b.group({ role: 'agent', agent: 'optimizer', invokedBy: previous }, () => {
        const conv = new Conversation([system('optimizer'), userTask]);
        const fn = allFunctions[0]!;
        sabotageKey = llm('optimizer', conv, `Optimized ${fn} for speed: ${SABOTAGE_MARKER}, the checks were slow.`, undefined, [lastCodeKey]).key;
        handoff('optimizer', conv, 'reviewer');
      });
      previous = 'optimizer';
    }
    if (kind === 'redundant') {
      redundant = 'researcher';
      agentsInOrder.push('researcher');
      // Started by the planner as a side task, after the coders; it hands off to nobody.
      b.group({ role: 'agent', agent: 'researcher', invokedBy: 'planner' }, () => {
        const conv = new Conversation([system('researcher'), userTask]);
        // Repeats the first coder's lookup (same query, same result) and writes notes nobody reads.
        const query = `${task.area} ${functionsOf.get(coders[0]!)![0]} API`;
        const search: PlannedToolCall = { id: callId(), name: 'search_docs', arguments: JSON.stringify({ query }) };
        llm('researcher', conv, `Looking up the ${task.area} docs.`, search, [planKey]);
        tool('researcher', conv, search, `docs: ${task.area} helpers take (input, options) and return a Result; see ${functionsOf.get(coders[0]!)![0]} example.`);
        llm('researcher', conv, `Notes: other ${task.area} libraries follow the same pattern.`);
      });
    }

    agentsInOrder.push('reviewer');
    b.group({ role: 'agent', agent: 'reviewer', invokedBy: previous }, () => {
      const conv = new Conversation([system('reviewer'), userTask]);
      const total = 4 * stepsPerCoder * coders.length;
      const run: PlannedToolCall = { id: callId(), name: 'run_tests', arguments: JSON.stringify({ suite: 'all' }) };
      const reviewLinks = [...codeKeys, ...testKeys, ...(sabotageKey ? [sabotageKey] : [])];
      llm('reviewer', conv, 'Reviewing the changes; running the full suite.', run, reviewLinks);
      if (kind === 'failure' || kind === 'late-repair') {
        tool('reviewer', conv, run, '', { type: 'AssertionError', message: `${total} of ${total} tests failed` });
        llm('reviewer', conv, kind === 'failure' ? 'Changes requested: the functions are stubs and the suite fails.' : 'Changes requested: functions are missing and the suite fails.');
        return;
      }
      if (kind === 'saboteur') {
        tool('reviewer', conv, run, `2/${total} tests failed in ${allFunctions[0]}: invalid input accepted`);
        const revert = llm('reviewer', conv, `Reverted optimizer's change to ${allFunctions[0]}; validation restored.`, undefined, sabotageKey ? [sabotageKey] : []);
        // The reviewer's verdict on the harmful step, as a step-level evaluation event.
        stepFlags.push({ key: sabotageKey!, name: 'code_review', explanation: `reverted: ${SABOTAGE_MARKER} broke ${allFunctions[0]}`, atNs: revert.endNs });
        const rerun: PlannedToolCall = { id: callId(), name: 'run_tests', arguments: run.arguments };
        llm('reviewer', conv, 'Re-running the suite after the revert.', rerun);
        tool('reviewer', conv, rerun, `${total}/${total} ${TESTS_PASSED}`);
      } else {
        tool('reviewer', conv, run, `${total}/${total} ${TESTS_PASSED}`);
      }
      llm('reviewer', conv, `${APPROVED}: ${allFunctions.join(', ')} implemented and tested.`);
    });
  });

  return {
    kind,
    task: task.title,
    model,
    provider,
    workflow: 'dev-team',
    root,
    agents: agentsInOrder,
    requiredContent,
    forbiddenContent,
    messageContents: b.messages,
    saboteur,
    redundant,
    stepFlags,
    firstErrorKey,
    fixKey,
    evaluatedAtNs: root.endNs + BigInt(rng.int(50, 400)) * 1_000_000n,
  };
}
