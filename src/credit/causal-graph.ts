/**
 * The episode's causal graph over steps: an edge u → w when w consumed u's output (u is in
 * w.causalInputs, or u is w's parent step). Steps are put in causal order — a topological order of
 * those edges, earliest (start time, end time, step id) first among the steps that are ready — and
 * only edges from earlier to later steps are kept, so the graph is a DAG even when the telemetry
 * has cycles (a cycle goes where its earliest step would, its steps in time order; the reads that
 * point back within it are dropped).
 * Under clock skew between hosts a step that reads another can start before it by the clocks;
 * time order alone dropped that edge, and the consumer of a failed step became the first error
 * (math review: 2 ms of skew). Pure.
 */
import { sameOutputKeys } from '../conventions/step-digests.js';
import type { AgentStep } from '../model/agents.js';

export interface CausalGraph {
  /** Steps in causal/time order. */
  readonly order: readonly AgentStep[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** inputs[w] = indices u < w with an edge u → w. */
  readonly inputs: readonly (readonly number[])[];
  /** consumers[u] = indices w > u with an edge u → w. */
  readonly consumers: readonly (readonly number[])[];
}

/** A message (a step that earns reward): rewardable and not an evaluator span. */
export function isMessage(step: AgentStep): boolean {
  return step.rewardable && step.kind !== 'evaluator';
}

/** Erroneous by the step's own telemetry: error status (exceptions set it) or an evaluator flag. */
export function isErroneous(step: AgentStep): boolean {
  return !step.status.ok || step.flaggedErroneous === true;
}

export function compareSteps(a: AgentStep, b: AgentStep): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  if (a.endTimeUnixNano !== b.endTimeUnixNano) return a.endTimeUnixNano < b.endTimeUnixNano ? -1 : 1;
  return a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0;
}

export function buildCausalGraph(steps: readonly AgentStep[]): CausalGraph {
  let order = [...steps];
  // Steps usually arrive in (nearly) this order already; the check costs n-1 comparisons (bigint
  // compares are slow) where the sort costs ~n log n. The sort is stable, so a sorted list is kept as is.
  if (!isSorted(order)) order.sort(compareSteps);
  let n = order.length;
  let indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) indexOf.set(order[i]!.stepId, i); // a repeated id maps to its last step
  if (hasBackwardEdge(order, indexOf)) {
    order = causalOrder(order, indexOf);
    n = order.length;
    indexOf = new Map<string, number>();
    for (let i = 0; i < n; i++) indexOf.set(order[i]!.stepId, i);
  }
  // Every list starts as the one shared empty list: an episode's last steps consume nothing and its
  // first read nothing, and two new lists per step, each given a 16-slot store by its first push,
  // were most of what this function allocated. A step's first edge makes a one-slot list.
  const inputs: number[][] = [];
  const consumers: number[][] = [];
  for (let i = 0; i < n; i++) {
    inputs.push(NO_EDGES);
    consumers.push(NO_EDGES);
  }
  for (let w = 0; w < n; w++) {
    const s = order[w]!;
    for (const id of s.causalInputs) addEdge(indexOf.get(id), w, inputs, consumers);
    if (s.parentStepId !== undefined) addEdge(indexOf.get(s.parentStepId), w, inputs, consumers);
  }
  return { order, indexOf, inputs, consumers };
}

/**
 * The list every step's inputs and consumers start as, never written to (`addEdge` replaces it).
 * Not frozen: a frozen array has a map of its own, and every read of an edge list would then see two.
 */
const NO_EDGES: number[] = [];

/** Edge u → w when u is a known, earlier step and the edge is new. */
function addEdge(u: number | undefined, w: number, inputs: number[][], consumers: number[][]): void {
  if (u === undefined || u >= w) return;
  const into = inputs[w]!;
  if (into === NO_EDGES) inputs[w] = [u];
  else if (into.includes(u)) return;
  else into.push(u);
  const from = consumers[u]!;
  if (from === NO_EDGES) consumers[u] = [w];
  else from.push(w);
}

/** Whether some step reads (input or parent) a step that comes after it in time order. */
function hasBackwardEdge(order: readonly AgentStep[], indexOf: ReadonlyMap<string, number>): boolean {
  for (let w = 0; w < order.length; w++) {
    const s = order[w]!;
    for (const id of s.causalInputs) if ((indexOf.get(id) ?? -1) > w) return true;
    if (s.parentStepId !== undefined && (indexOf.get(s.parentStepId) ?? -1) > w) return true;
  }
  return false;
}

/**
 * A topological order of the read edges over the time-ordered steps: cycles (mis-linked ids) are
 * condensed into one node each (Tarjan's strongly connected components, iteratively), and the
 * condensed DAG is ordered by Kahn's algorithm taking the ready component with the earliest step
 * first (a binary heap of time indices); a component's steps follow each other in time order.
 * A cycle therefore sits where its earliest step would — breaking it only when nothing else was
 * ready put it after every later unrelated step, and moved the first error (diff review).
 */
function causalOrder(timeOrder: readonly AgentStep[], indexOf: ReadonlyMap<string, number>): AgentStep[] {
  const n = timeOrder.length;
  const readers: number[][] = Array.from({ length: n }, () => []);
  for (let w = 0; w < n; w++) {
    const s = timeOrder[w]!;
    const seen = new Set<number>();
    const add = (u: number | undefined) => {
      if (u === undefined || u === w || seen.has(u)) return;
      seen.add(u);
      readers[u]!.push(w);
    };
    for (const id of s.causalInputs) add(indexOf.get(id));
    if (s.parentStepId !== undefined) add(indexOf.get(s.parentStepId));
  }
  // Tarjan, iterative (long chains would overflow the call stack).
  const comp = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const disc = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const work: [number, number][] = [];
  let time = 0;
  let comps = 0;
  for (let root = 0; root < n; root++) {
    if (disc[root] !== -1) continue;
    work.push([root, 0]);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const v = top[0];
      if (top[1] === 0) {
        disc[v] = low[v] = time++;
        stack.push(v);
        onStack[v] = 1;
      }
      const next = readers[v]![top[1]];
      if (next !== undefined) {
        top[1]++;
        if (disc[next] === -1) work.push([next, 0]);
        else if (onStack[next]) low[v] = Math.min(low[v]!, disc[next]!);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === disc[v]) {
        let x: number;
        do {
          x = stack.pop()!;
          onStack[x] = 0;
          comp[x] = comps;
        } while (x !== v);
        comps++;
      }
    }
  }
  // Components: members in time order, earliest member as the key, inputs from other components.
  const members: number[][] = Array.from({ length: comps }, () => []);
  for (let v = 0; v < n; v++) members[comp[v]!]!.push(v);
  const pending = new Int32Array(comps);
  const next: number[][] = Array.from({ length: comps }, () => []);
  for (let u = 0; u < n; u++) {
    for (const w of readers[u]!) {
      if (comp[u] === comp[w]) continue;
      next[comp[u]!]!.push(comp[w]!);
      pending[comp[w]!]!++;
    }
  }
  const key = (c: number) => members[c]![0]!;
  const heap: number[] = [];
  const push = (c: number) => {
    heap.push(c);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (key(heap[p]!) <= key(heap[i]!)) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && key(heap[l]!) < key(heap[m]!)) m = l;
        if (r < heap.length && key(heap[r]!) < key(heap[m]!)) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  for (let c = 0; c < comps; c++) if (pending[c] === 0) push(c);
  const out: AgentStep[] = [];
  while (heap.length > 0) {
    const c = pop();
    for (const v of members[c]!) out.push(timeOrder[v]!);
    for (const d of next[c]!) if (--pending[d]! === 0) push(d);
  }
  return out;
}

function isSorted(steps: readonly AgentStep[]): boolean {
  for (let i = 1; i < steps.length; i++) if (compareSteps(steps[i - 1]!, steps[i]!) > 0) return false;
  return true;
}

const NONE_BLOCKED: ReadonlySet<number> = new Set();

/**
 * Steps reachable from `from` along edges (excluding `from`), with their edge distance, in
 * breadth-first discovery order. Traversal does not pass through `blocked` (blocked steps are
 * reported, their consumers are not reached through them).
 */
export function descendants(g: CausalGraph, from: number, blocked: ReadonlySet<number> = NONE_BLOCKED): Map<number, number> {
  const dist = new Map<number, number>();
  visitConsumers(g, from, blocked, (w, d) => void dist.set(w, d));
  return dist;
}

/** The steps of `descendants(g, from)` in the same order, without building the distance map. */
export function descendantOrder(g: CausalGraph, from: number): number[] {
  const out: number[] = [];
  visitConsumers(g, from, NONE_BLOCKED, (w) => void out.push(w));
  return out;
}

/** Breadth-first walk along consumer edges; `visit` sees each reached step once, with its distance. */
function visitConsumers(g: CausalGraph, from: number, blocked: ReadonlySet<number>, visit: (step: number, distance: number) => void): void {
  const seen = new Uint8Array(g.order.length);
  seen[from] = 1;
  // Queue of [step, distance] pairs read by a moving head (no shift(): linear overall).
  const queue: number[] = [from, 0];
  for (let head = 0; head < queue.length; head += 2) {
    const u = queue[head]!;
    const du = queue[head + 1]! + 1;
    for (const w of g.consumers[u]!) {
      if (seen[w]) continue;
      seen[w] = 1;
      visit(w, du);
      if (!blocked.has(w)) queue.push(w, du);
    }
  }
}

/**
 * Steps from which `to` is reachable (excluding `to`). With `after`, only those after that index
 * (and reached through such steps: edges go forward, so none is lost): the walk stops there.
 */
export function ancestors(g: CausalGraph, to: number, after = -1): Set<number> {
  const seen = new Set<number>();
  const stack = [to];
  while (stack.length > 0) {
    const w = stack.pop()!;
    for (const u of g.inputs[w]!) {
      if (u > after && !seen.has(u)) {
        seen.add(u);
        stack.push(u);
      }
    }
  }
  return seen;
}

/**
 * Messages whose output digest equals that of an earlier message: stepId → the earlier stepId.
 * Repeating an output that failed is a retry, not redundancy: an earlier message that is
 * erroneous itself, or whose output a failed or flagged step read (the LLM call that issued a tool
 * call that timed out), is not duplicated by a later equal one — which becomes the one that later
 * copies duplicate. Tool-call ids are not in the digest, so the LLM call re-issuing the same call
 * after the failure had δ = 0 and a large negative redundancy reward in a successful run.
 * Nor is repeating an output after a fault: a later equal message that descends from an erroneous
 * or flagged step taken after the earlier one re-checks a state that changed (the reviewer re-running
 * the tests after reverting a saboteur's edit got the coder's "8/8 passed" again and was the run's
 * most penalized message, r = −0.56, below the sabotage itself); it becomes the one later copies duplicate.
 */
export function duplicateMessages(g: CausalGraph): Map<string, string> {
  return new Map(duplicatesOf(g));
}

const duplicatesByGraph = new WeakMap<CausalGraph, ReadonlyMap<string, string>>();

/**
 * `duplicateMessages`, found once per graph: the provenance game (roles) and the message rewards
 * (redundancy) both ask for the same episode's graph, and the steps it holds do not change after
 * it is built. Read-only: the map is shared.
 */
export function duplicatesOf(g: CausalGraph): ReadonlyMap<string, string> {
  let dups = duplicatesByGraph.get(g);
  if (dups === undefined) duplicatesByGraph.set(g, (dups = findDuplicates(g)));
  return dups;
}

function findDuplicates(g: CausalGraph): Map<string, string> {
  const firstByOutput = new FirstByOutput();
  const dup = new Map<string, string>();
  const failedOn = (u: number) => erroneousAt(g, u) || g.consumers[u]!.some((w) => erroneousAt(g, w));
  // made when a repeated output asks (most episodes repeat none)
  let fault: readonly number[] | undefined;
  let read: ResultReaders | undefined;
  // equal keys = equal output digests (the texts themselves while the digests are not computed)
  const outputs = sameOutputKeys(g.order);
  for (let i = 0; i < g.order.length; i++) {
    const s = g.order[i]!;
    const output = outputs[i];
    if (!isMessage(s) || output === undefined) continue;
    const first = firstByOutput.get(output);
    if (first !== undefined && !failedOn(first) && (fault ??= lastFaultBefore(g))[i]! <= first && !nestedIn(g, s, g.order[first]!.stepId) && !(read ??= new ResultReaders(g)).resultOf(first, i)) dup.set(s.stepId, g.order[first]!.stepId);
    else {
      if (first !== undefined) read?.forget(first); // no later message is compared with it
      firstByOutput.set(output, i);
    }
  }
  return dup;
}

/**
 * Output key → the message index it is kept for (a Map's get / set). Up to 64 keys it is a list
 * compared by length first: the keys are mostly the outputs' full texts (sameOutputKeys), often
 * kilobytes, and a Map hashed every one of them — the look-up was most of findDuplicates' time —
 * where two texts of different lengths cannot be equal. Past 64 keys, a Map.
 */
class FirstByOutput {
  private readonly keys: string[] = [];
  private readonly at: number[] = [];
  private map: Map<string, number> | undefined;

  get(key: string): number | undefined {
    if (this.map !== undefined) return this.map.get(key);
    const k = this.find(key);
    return k < 0 ? undefined : this.at[k];
  }

  set(key: string, at: number): void {
    if (this.map !== undefined) {
      this.map.set(key, at);
      return;
    }
    const k = this.find(key);
    if (k >= 0) {
      this.at[k] = at;
      return;
    }
    this.keys.push(key);
    this.at.push(at);
    if (this.keys.length > 64) this.map = new Map(this.keys.map((o, j) => [o, this.at[j]!] as const));
  }

  private find(key: string): number {
    const n = key.length;
    for (let k = 0; k < this.keys.length; k++) {
      const o = this.keys[k]!;
      if (o.length === n && o === key) return k;
    }
    return -1;
  }
}

/**
 * Whether message `i` read (through any path) the result of a tool that executed message
 * `first`'s output, and its own equal call was executed again: the model saw what its call
 * returned and asked the same again — a retry after an error returned as text, or a poll of a
 * state that changes (`deploy_status` until "live"). Tool-call ids are not in the output digest,
 * so such a call was the run's most penalized message (δ = 0, redundancy −0.5) while it was on
 * the only path to the answer (third review of the content-events change, which gives
 * instrumentation-openai runs their calls). An equal call that no tool executed stays a duplicate;
 * one executed again after a good result cannot be told from a poll, and is treated as one.
 *
 * Per earlier message, the steps that descend from one of its tools are found by one sweep in
 * index order (edges only go forward), carried on only as far as a repeat asks: a walk of every
 * repeat's ancestors made a run that repeats a call (a poll loop, agents calling the same tool
 * with the same arguments) quadratic — 4,000 turns repeating 10 searches took 9.5 s to credit.
 */
class ResultReaders {
  private readonly g: CausalGraph;
  /** Per earlier message: its tools, and which steps after it descend from one (offset first + 1), swept up to `upto`. */
  private readonly reach = new Map<number, { tools: ReadonlySet<number>; reached: Uint8Array; upto: number } | null>();

  constructor(g: CausalGraph) {
    this.g = g;
  }

  resultOf(first: number, i: number): boolean {
    const g = this.g;
    let r = this.reach.get(first);
    if (r === undefined) {
      const tools = g.consumers[first]!.filter((w) => g.order[w]!.kind === 'tool');
      this.reach.set(first, (r = tools.length === 0 ? null : { tools: new Set(tools), reached: new Uint8Array(16), upto: first }));
    }
    if (r === null || !g.consumers[i]!.some((w) => g.order[w]!.kind === 'tool')) return false;
    if (r.reached.length < i - first) {
      const grown = new Uint8Array(Math.max(i - first, 2 * r.reached.length));
      grown.set(r.reached);
      r.reached = grown;
    }
    // steps first + 1 … i − 1: a tool of `first`, or reading (an input) one reached
    for (let w = r.upto + 1; w < i; w++) {
      let on = r.tools.has(w);
      if (!on) for (const u of g.inputs[w]!) if (u > first && r.reached[u - first - 1] === 1) { on = true; break; }
      if (on) r.reached[w - first - 1] = 1;
    }
    if (i - 1 > r.upto) r.upto = i - 1;
    for (const u of g.inputs[i]!) if (u > first && r.reached[u - first - 1] === 1) return true;
    return false;
  }

  /** Drops what was swept for a message no later one is compared with. */
  forget(first: number): void {
    this.reach.delete(first);
  }
}

/**
 * Whether `s`'s span lies inside `containerId`'s (parent chain, ≤ 64 hops). A tool that runs an
 * agent (agents as tools) returns that agent's answer: the tool comes first in the order, and its
 * nested producer was taken for a duplicate of it — the writer of an article got no credit because
 * the tool call that ran it reported the same text (interop re-check, Python SDK supervisor run).
 */
function nestedIn(g: CausalGraph, s: AgentStep, containerId: string): boolean {
  let parent = s.parentStepId;
  for (let hops = 0; parent !== undefined && hops < 64; hops++) {
    if (parent === containerId) return true;
    const i = g.indexOf.get(parent);
    parent = i === undefined ? undefined : g.order[i]!.parentStepId;
  }
  return false;
}

/**
 * Per step, the latest (highest-index) erroneous or flagged step it descends from that had ended
 * when it started, or −1: one forward pass, linear in edges (a walk of the ancestors per repeated
 * output cost 4.8 s on a 10,000-step chain). The end-time check keeps an enclosing span that fails
 * later (a parent edge) from counting as a fault the step came after.
 */
function lastFaultBefore(g: CausalGraph): number[] {
  const out: number[] = new Array<number>(g.order.length).fill(-1);
  for (let w = 0; w < g.order.length; w++) {
    const start = g.order[w]!.startTimeUnixNano;
    let best = -1;
    for (const u of g.inputs[w]!) {
      const step = g.order[u]!;
      if (out[u]! > best) best = out[u]!;
      if (u > best && erroneousAt(g, u) && step.endTimeUnixNano <= start) best = u;
    }
    out[w] = best;
  }
  return out;
}

/**
 * Message index → evidence, for the outputs of flagged structural steps (signals/first-error.ts): for
 * each flagged non-message step, the last-ending LLM call among the messages below it (parent steps
 * followed up), else the last-ending message. Nothing to do (one pass) when no such step is flagged.
 * The credit engine reads it in both outcomes: the message it names is harmful as a flagged
 * message is (a successful run's flag was otherwise ignored without a word). `unplaced`: flagged
 * non-message steps with no message below them (a guardrail, an embedding, a task span around
 * plain code): the verdict has no message to fall on, and the engine says so in its warnings.
 * Found once per graph (first-error localization, duplicates, repairs and the engine all ask);
 * read-only: the result is shared.
 */
export function flaggedInvocationOutputs(graph: CausalGraph): FlaggedSpanOutputs {
  let found = flaggedOutputsByGraph.get(graph);
  if (found === undefined) flaggedOutputsByGraph.set(graph, (found = findFlaggedOutputs(graph)));
  return found;
}

export interface FlaggedSpanOutputs {
  readonly outputs: ReadonlyMap<number, string>;
  readonly unplaced: readonly AgentStep[];
}
const flaggedOutputsByGraph = new WeakMap<CausalGraph, FlaggedSpanOutputs>();

/**
 * Erroneous as the engine reads it: by the step's own telemetry (`isErroneous`), or as the message
 * a failing verdict on a span above it falls on (`flaggedInvocationOutputs`). A verdict on the
 * invocation and one on its last LLM call then read alike everywhere — a later equal output is a
 * retry, not a duplicate; that call is no repair.
 */
export function erroneousAt(graph: CausalGraph, i: number): boolean {
  return isErroneous(graph.order[i]!) || flaggedInvocationOutputs(graph).outputs.has(i);
}

function findFlaggedOutputs(graph: CausalGraph): FlaggedSpanOutputs {
  const out = new Map<number, string>();
  if (!graph.order.some((s) => !isMessage(s) && s.flaggedErroneous === true)) return { outputs: out, unplaced: [] };
  const later = (a: number | undefined, b: number) => a === undefined || graph.order[b]!.endTimeUnixNano >= graph.order[a]!.endTimeUnixNano;
  const lastLlm = new Map<number, number>();
  const lastAny = new Map<number, number>();
  graph.order.forEach((s, i) => {
    if (!isMessage(s)) return;
    const seen = new Set<number>();
    for (let p = s.parentStepId; p !== undefined; ) {
      const j = graph.indexOf.get(p);
      if (j === undefined || seen.has(j)) break;
      seen.add(j);
      const a = graph.order[j]!;
      if (!isMessage(a) && a.flaggedErroneous === true) {
        if (later(lastAny.get(j), i)) lastAny.set(j, i);
        if (s.kind === 'llm' && later(lastLlm.get(j), i)) lastLlm.set(j, i);
      }
      p = a.parentStepId;
    }
  });
  for (const [j, any] of lastAny) {
    const a = graph.order[j]!;
    const i = lastLlm.get(j) ?? any;
    const what = a.kind === 'agent' ? 'agent invocation' : `${a.kind} span`;
    const ev = `evaluator flag on ${what} "${a.name}" (its last ${graph.order[i]!.kind === 'llm' ? 'LLM call' : 'message'})`;
    if (!out.has(i)) out.set(i, ev);
  }
  const unplaced = graph.order.filter((s, j) => !isMessage(s) && s.flaggedErroneous === true && !lastAny.has(j));
  return { outputs: out, unplaced };
}
