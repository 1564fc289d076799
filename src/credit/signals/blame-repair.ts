/**
 * Blame and repair transfers of a failed episode (method.md §3), given the first error t*:
 * - t* gets -blame0; messages that causally depend on t* (descendants, not through a repair) get
 *   -blame0 · decay^d (d = causal distance); messages before t* and unrelated ones get no blame;
 * - corrective attempts c get +repairWeight · blame0. A corrective attempt is a later message that
 *   (a) retries the same tool (same tool name; by t*'s agent, or by another agent that read t* — or
 *   was handed the error by an agent that read it — or repeats its input, as long as no retry or
 *   redo had repaired t* before it started; not when it repeats the input of another failed call
 *   of that tool instead: it retries that one) and succeeds, or (b)
 *   redoes the same sub-task (same agent, kind and name) and succeeds, or (c) is the first after t* whose prefix value, having fallen below it, recovers to
 *   the level before t* (when prefix scores are given). "Succeeds" = ok status and not flagged.
 *   A retry or redo that starts after an earlier one has ended is none: t* was already repaired.
 *   When t* completed with a bad result (evaluator-flagged, ok status), a step that reads that
 *   result builds on the error: it is a dependent, however it is named — GenAI instrumentations
 *   name every LLM call `chat {model}`, so otherwise every later LLM call of t*'s agent that read
 *   the bad answer would count as its repair — so is a later step of t*'s agent that has the bad
 *   result in its history (through the agent's steps in between: chat → execute_tool → chat),
 *   unless it also reads another agent's step downstream of t*. When t* failed (error status), what it passed on is
 *   the error itself, and a retry that read it is the usual corrective attempt.
 * - critics get +criticWeight · blame0 (default half a repair). A critic is a message on a causal
 *   path from t* to a corrective attempt that read t* itself (t* is one of its inputs, or for a
 *   flagged non-tool t* a step of its agent that carried it on, see criticsOf) and that the
 *   fix reads, directly or through other steps; it succeeded and is no attempt itself: the step that
 *   noticed the error and passed it on to the fix — a reviewer's verdict the redo reads, or the LLM call that read a
 *   failed tool's error and issued the retry. method.md §3 names "a critic that flags the error";
 *   telemetry has no standard mark for a verdict inside a run, so the critic is known by what it
 *   led to. It is not blamed as a dependent, and what reads it only through it is not either (its
 *   output carries the notice, not the error). It forms no preference pair (not an attempt at t*'s
 *   sub-task). A critic that flagged the error but led to no fix is not told from a dependent.
 * - Transfers are zero-sum within each agent, so agent credit (φ_i) is untouched and
 *   Σ_m r_m = φ_i still holds: an agent's net blame is offset equally on its uninvolved messages
 *   (they keep the credit the blamed message loses, recorded as `repair` ≥ 0); a net repair bonus
 *   only on its later uninvolved messages (role `unrelated`, recorded as `blame` ≤ 0), never on
 *   messages before t*. An agent with no such message has its involved transfers centred instead
 *   (an agent whose only message is t* carries its blame through φ_i alone).
 * - independent errors (role `independent-error`): a later erroneous message (error status, or
 *   flagged by a verdict on it or on the invocation it ends) that t*'s blame does not reach — it
 *   reads no t* (a parallel call that failed too, a flagged answer in another branch), or reads it
 *   only through a repair or critic. It was `unrelated`: a harmful step with no blame, and it could
 *   receive its agent's offset of t*'s blame as `repair`. Each is treated as t* is, scaled by decay
 *   (see independentErrors): -blame0 · decay — as much as t*'s direct dependent, so t* keeps the
 *   largest blame (method.md §3) —, its dependents share it decayed (`dependent`; one that reads
 *   t* too takes the larger blame, once), its repairs and critics get repairWeight / criticWeight
 *   times its blame. No preference pair: a pair's rejected side is t* (the events' contract).
 */
import { inputDigestOf } from '../../conventions/step-digests.js';
import type { AgentStep } from '../../model/agents.js';
import { type CausalGraph, erroneousAt, isErroneous, isMessage } from '../causal-graph.js';
import { ancestors, descendants } from '../causal-graph.js';
import type { FirstError } from './first-error.js';
import type { Transfer } from './message-rewards.js';

export type FailureRole = 'first-error' | 'dependent' | 'repair' | 'critic' | 'independent-error' | 'before-error' | 'unrelated';

export interface BlameRepairOptions {
  /** Blame of t* before balancing, in score units. Default 0.5. */
  blame0?: number;
  /** Per-edge decay of dependent blame, in [0,1). Default 0.5. */
  decay?: number;
  /** Repair reward relative to blame0. Default 1. */
  repairWeight?: number;
  /** Critic reward relative to blame0. Default 0.5. */
  criticWeight?: number;
  prefixScores?: readonly number[];
  prefixBaseline?: number;
  dropThreshold?: number;
}

export interface CorrectiveAttempt {
  readonly stepId: string;
  readonly reason: string;
  /** How it was recognised: a retry of t*'s tool, a redo of its sub-task, or a prefix-value recovery. */
  readonly via?: 'retry' | 'redo' | 'prefix-recovery' | 'critic';
}

export interface BlameRepair {
  readonly transfers: ReadonlyMap<string, Transfer>;
  readonly roles: ReadonlyMap<string, FailureRole>;
  readonly repairs: readonly CorrectiveAttempt[];
  /** Messages between t* and a corrective attempt that passed the error on to it (see the file header). */
  readonly critics: readonly CorrectiveAttempt[];
  /**
   * Each message with role `repair` or `critic` → the error it corrects: t*, or the independent
   * error whose repair or critic it is (a step that is both keeps its first role, t*'s first).
   */
  readonly corrects: ReadonlyMap<string, string>;
}

/**
 * Input digest → the first failed call of `tool` with it, by index, found once per order and tool
 * (read-only: shared). t* itself is in it: retriesAnother never looks up t*'s input (a call with
 * t*'s input retries t*), so one map serves every error of that tool, each of the episode's
 * independent errors included.
 */
function failedCallsOf(graph: CausalGraph, tool: string | undefined): ReadonlyMap<string, number> {
  let byTool = failedCallsByOrder.get(graph.order);
  if (byTool === undefined) failedCallsByOrder.set(graph.order, (byTool = new Map()));
  let calls = byTool.get(tool);
  if (calls === undefined) {
    const found = (calls = new Map<string, number>());
    graph.order.forEach((o, w) => {
      if (o.kind !== 'tool' || o.toolName !== tool || !isErroneous(o)) return;
      const d = inputDigestOf(o);
      if (d !== undefined && !found.has(d)) found.set(d, w);
    });
    byTool.set(tool, calls);
  }
  return calls;
}
const failedCallsByOrder = new WeakMap<readonly AgentStep[], Map<string | undefined, ReadonlyMap<string, number>>>();

/**
 * Per order (read-only: shared): the messages that are calls of each tool (`tool\0name`) and those
 * of each agent, kind and name (`step\0agent\0kind\0name`), by index, ascending.
 */
function attemptLists(graph: CausalGraph): ReadonlyMap<string, readonly number[]> {
  let lists = attemptListsByOrder.get(graph.order);
  if (lists === undefined) {
    const m = (lists = new Map<string, number[]>());
    const add = (key: string, i: number) => {
      const l = m.get(key);
      if (l) l.push(i);
      else m.set(key, [i]);
    };
    for (const i of messageIndices(graph)) {
      const s = graph.order[i]!;
      if (s.kind === 'tool' && s.toolName !== undefined) {
        add(`tool\0${s.toolName}`, i);
        add(`call\0${s.agentId}\0${s.toolName}`, i);
      }
      add(`step\0${s.agentId}\0${s.kind}\0${s.name}`, i);
    }
    attemptListsByOrder.set(graph.order, lists);
  }
  return lists;
}
const attemptListsByOrder = new WeakMap<readonly AgentStep[], Map<string, number[]>>();

/** The position of the first entry of ascending `list` after `index`. */
function firstAfter(list: readonly number[], index: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Per order and tool (read-only: shared): input digest → the tool's calls with it, ascending. */
function callsWithInput(graph: CausalGraph, tool: string): ReadonlyMap<string, readonly number[]> {
  let byTool = callsWithInputByOrder.get(graph.order);
  if (byTool === undefined) callsWithInputByOrder.set(graph.order, (byTool = new Map()));
  let calls = byTool.get(tool);
  if (calls === undefined) {
    const found = (calls = new Map<string, number[]>());
    for (const i of attemptLists(graph).get(`tool\0${tool}`) ?? []) {
      const d = inputDigestOf(graph.order[i]!);
      if (d === undefined) continue;
      const l = found.get(d);
      if (l) l.push(i);
      else found.set(d, [i]);
    }
    byTool.set(tool, calls);
  }
  return calls;
}
const callsWithInputByOrder = new WeakMap<readonly AgentStep[], Map<string, ReadonlyMap<string, readonly number[]>>>();

/** All of `from`'s descendants when there are at most `cap`, else undefined (the walk stops there). */
function fewDescendants(graph: CausalGraph, from: number, cap: number): Set<number> | undefined {
  const seen = new Set<number>();
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    for (const w of graph.consumers[queue[head]!]!) {
      if (seen.has(w)) continue;
      if (seen.size === cap) return undefined;
      seen.add(w);
      queue.push(w);
    }
  }
  return seen;
}

/**
 * The messages after t* (at `star`) that can be a retry or redo of it, ascending: calls of its tool
 * (a retry), steps of its agent with its kind and name (a redo). Made as they are read: the loop
 * that reads them stops once t* is repaired. With `near`, t*'s descendants (when they are few),
 * only the calls of its tool that retriesStar can accept: its agent's, those with its input, and
 * those downstream of it — an independent error that nothing reads and nobody retries (many
 * agents' failed calls of a tool others call with success) had every later call of that tool read.
 */
function* attemptCandidates(graph: CausalGraph, star: number, near?: ReadonlySet<number>): Generator<number> {
  const s = graph.order[star]!;
  const lists = attemptLists(graph);
  const none: readonly number[] = [];
  const redo = lists.get(`step\0${s.agentId}\0${s.kind}\0${s.name}`) ?? none;
  let retry = s.kind === 'tool' && s.toolName !== undefined ? (lists.get(`tool\0${s.toolName}`) ?? none) : none;
  if (near !== undefined && retry.length > 0) {
    const tool = s.toolName!;
    const some = new Set<number>(lists.get(`call\0${s.agentId}\0${tool}`) ?? none);
    const input = inputDigestOf(s);
    if (input !== undefined) for (const i of callsWithInput(graph, tool).get(input) ?? none) some.add(i);
    for (const i of near) {
      const c = graph.order[i]!;
      if (c.kind === 'tool' && c.toolName === tool && isMessage(c)) some.add(i);
    }
    retry = [...some].sort((a, b) => a - b);
  }
  // both ascending: merged in one pass (a call of the tool by t*'s agent under t*'s name is in both)
  let last = -1;
  for (let a = firstAfter(retry, star), b = firstAfter(redo, star); a < retry.length || b < redo.length; ) {
    const x = b >= redo.length || (a < retry.length && retry[a]! <= redo[b]!) ? retry[a++]! : redo[b++]!;
    if (x !== last) yield (last = x);
  }
}

/** Whether `graph.order` is sorted by start time; found once per order. */
function inStartOrder(graph: CausalGraph): boolean {
  let sorted = startOrdered.get(graph.order);
  if (sorted === undefined) {
    sorted = true;
    for (let i = 1; i < graph.order.length && sorted; i++) sorted = graph.order[i - 1]!.startTimeUnixNano <= graph.order[i]!.startTimeUnixNano;
    startOrdered.set(graph.order, sorted);
  }
  return sorted;
}
const startOrdered = new WeakMap<readonly AgentStep[], boolean>();

/** Indices of the messages in `graph.order`, ascending; found once per order (read-only: shared). */
function messageIndices(graph: CausalGraph): readonly number[] {
  let idx = messageIndicesByOrder.get(graph.order);
  if (idx === undefined) messageIndicesByOrder.set(graph.order, (idx = graph.order.map((s, i) => (isMessage(s) ? i : -1)).filter((i) => i >= 0)));
  return idx;
}
const messageIndicesByOrder = new WeakMap<readonly AgentStep[], readonly number[]>();

/** Position of `index` in the ascending `msgIdx` (binary search), or -1. */
function positionOf(msgIdx: readonly number[], index: number): number {
  let lo = 0;
  let hi = msgIdx.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (msgIdx[mid]! === index) return mid;
    if (msgIdx[mid]! < index) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function correctiveAttempts(graph: CausalGraph, fe: FirstError, opts: BlameRepairOptions = {}): CorrectiveAttempt[] {
  const star = graph.order[fe.index]!;
  const out: CorrectiveAttempt[] = [];
  const seen = new Set<string>();
  const msgIdx = messageIndices(graph);
  const starPos = positionOf(msgIdx, fe.index);
  // Reads a result of t* that was not a failure (flagged, or a prefix-value drop): a dependent, never
  // a repair (see the file header). Direct inputs only here: a step that reads it through another
  // agent's step is not caught; through its own agent's steps, see buildsOnOwnHistory.
  const buildsOn = (i: number) => star.status.ok && graph.inputs[i]!.includes(fe.index);
  // Nor does a step of t*'s agent redo t* when it has t*'s bad result in its own history: an LLM
  // call's input is the previous step of its agent invocation (chat → execute_tool → chat, or
  // chat → chat), so the call after a flagged one read it through the tool call it issued or the
  // call in between, and — named `chat {model}` as t* is — counted as its "successful redo": a
  // repair with a preference pair (chosen = a call built on the bad answer), the step between a
  // critic, and what followed unblamed. The history is followed through t*'s agent's own steps
  // only, and a step that also reads another agent's step downstream of t* (a reviewer's objection)
  // may have been told of the error: it stays a candidate, as does what follows it. Tool calls
  // keep their rule (a tool has no history: its retry after the LLM call that read t* is the fix).
  let ownHistory: boolean[] | undefined;
  const buildsOnOwnHistory = (i: number): boolean => {
    // (only a step downstream of t* can have it in its history: asked first, the pass below is
    // made for an error some later step reads, not for every independent error of a long run)
    if (!star.status.ok || !downstream(i)) return false;
    if (!ownHistory) {
      const h: boolean[] = (ownHistory = new Array<boolean>(graph.order.length).fill(false));
      graph.order.forEach((s, w) => {
        if (w <= fe.index || s.agentId !== star.agentId) return;
        let builds = false;
        let told = false;
        for (const u of graph.inputs[w]!) {
          if (u === fe.index || h[u]) builds = true;
          else if (graph.order[u]!.agentId !== star.agentId && downstream(u)) told = true;
        }
        h[w] = builds && !told;
      });
    }
    return ownHistory[i]!;
  };
  // A call of t*'s tool retries it when t*'s own agent makes it, when its agent read t* (the error
  // it answers), or when it repeats t*'s input. Another agent calling the same tool for its own
  // sub-task (every coder of a team calls search_docs) is no retry: counted as one, a failed
  // search was "repaired" by each colleague's unrelated search.
  const retriesStar = (i: number) => {
    const s = graph.order[i]!;
    if (retriesAnother(i)) return false;
    if (s.agentId === star.agentId) return true;
    // Another agent's call after t* was already repaired answers no error: the coder retried its
    // crashed test run, then handed over, and the reviewer's own test run (its history holds the
    // crash) was counted as a second repair (trainer pass).
    if (repairedBy !== undefined && repairedBy <= s.startTimeUnixNano) return false;
    const starInput = inputDigestOf(star);
    if (starInput !== undefined && inputDigestOf(s) === starInput) return true;
    // Another agent that read the error retries once: its first successful call of the tool after
    // reading it answers t*, and its later calls (it keeps the error in its history) are its own.
    // (a step that read it is downstream of it: asked first, as for buildsOnOwnHistory)
    if (!downstream(i) || !agentReadStar(i) || retriedBy.has(s.agentId)) return false;
    retriedBy.add(s.agentId);
    return true;
  };
  // A call that repeats the arguments of another failed call of t*'s tool, not t*'s, retries that
  // one: an LLM call issues searches for "qA" and "qB" at once, both fail (t* and its tie), and it
  // retries both — the retry of "qB" was a second repair of t*, paired with search("qA").
  const retriesAnother = (i: number): boolean => {
    const starInput = inputDigestOf(star);
    const input = starInput === undefined ? undefined : inputDigestOf(graph.order[i]!);
    if (input === undefined || input === starInput) return false;
    const other = failedCallsOf(graph, star.toolName).get(input);
    return other !== undefined && other < i;
  };
  const retriedBy = new Set<string>();
  /** End time of the earliest-ending retry or redo found so far (the loop below runs in causal order). */
  let repairedBy: bigint | undefined;
  // Whether step i's agent read t* before step i: step i, or a step of its own agent it reads
  // (directly or through more such steps), read t* itself — or it was handed the error: it reads
  // another agent's step that read t* itself, or that step's own next move (the hand-off or tool
  // call it issued). A supervisor reads the failed call and hands the sub-task to a worker, whose
  // search is the retry. A tool call's input is the LLM call that issued it, and that call is what
  // read the error: a direct-input check alone never saw another agent's retry in real traces.
  // The hand-over must follow the reading at once, and goes one agent deep: an agent that read the
  // error, worked on and later handed its context on passed no error to fix — followed through
  // such chains it reaches every step downstream of t*, and the next coder of a pipeline, handed
  // the previous one's work, "retried" the failed search with its own.
  // One forward pass for all steps (inputs point to earlier steps, so each step's answer is known
  // when a later one reads it), made on first use: a walk back through the agent's history per
  // call of t*'s tool was quadratic on long same-agent chains (8000 steps: ~1.3 s).
  let readStar: boolean[] | undefined;
  const agentReadStar = (i: number): boolean => {
    if (!readStar) {
      const n = graph.order.length;
      const own = new Array<boolean>(n).fill(false); // its agent read t* itself
      const direct = new Array<boolean>(n).fill(false); // t* is one of its inputs
      const handsOver = new Array<boolean>(n).fill(false); // direct, or issued by a direct step of its agent
      const r: boolean[] = (readStar = new Array<boolean>(n).fill(false)); // own, or handed the error
      graph.order.forEach((s, w) => {
        for (const u of graph.inputs[w]!) {
          const mine = graph.order[u]!.agentId === s.agentId;
          if (u === fe.index) own[w] = direct[w] = handsOver[w] = true;
          if (mine && own[u]!) own[w] = true;
          if (mine && direct[u]!) handsOver[w] = true;
          if ((!mine && handsOver[u]!) || (mine && r[u]!)) r[w] = true;
        }
        if (own[w]) r[w] = true;
      });
    }
    return readStar[i]!;
  };
  // Steps that read t* (transitively) come after it whatever their clocks say: under clock skew a
  // retry that read the error could start "before" t*, and the time check alone blamed it as a
  // dependent and lost the pair (diff review). Other steps must also start after t* by the clock.
  let after: Set<number> | undefined;
  const downstream = (i: number) => (after ??= new Set(descendants(graph, fe.index).keys())).has(i);
  // Only the steps that can be an attempt (a call of t*'s tool, a step of its agent, kind and name)
  // are looked at: blameAndRepair runs this for every independent error too, and a walk of every
  // later message per error made a long run with many failed calls quadratic (a chain of 8,000
  // steps with 2,000 repaired failures: 16 million step reads, ~0.5 s).
  for (const i of attemptCandidates(graph, fe.index, fewDescendants(graph, fe.index, 64))) {
    const s = graph.order[i]!;
    if (erroneousAt(graph, i) || (s.startTimeUnixNano < star.startTimeUnixNano && !downstream(i))) continue;
    if (buildsOn(i)) continue;
    // Once a retry or redo has repaired t*, a later call answers no error: GenAI instrumentations
    // name every LLM call `chat {model}`, and each later call of t*'s agent counted as another
    // redo, with its own preference pair against a prompt it never answered (math review: one
    // rate-limited call, its retry and three later turns made 4 repairs). Parallel attempts that
    // started before the first one ended still count.
    // With the steps in start order (no read pointed back in time: the usual case) every later one
    // starts after it too, and none is an attempt: stop.
    if (repairedBy !== undefined && repairedBy <= s.startTimeUnixNano) {
      if (inStartOrder(graph)) break;
      continue;
    }
    let found: CorrectiveAttempt | undefined;
    if (star.kind === 'tool' && s.kind === 'tool' && star.toolName !== undefined && s.toolName === star.toolName && retriesStar(i)) found = { stepId: s.stepId, reason: `successful retry of tool ${s.toolName}`, via: 'retry' };
    else if (s.agentId === star.agentId && s.kind === star.kind && s.name === star.name && (s.kind === 'tool' ? !retriesAnother(i) : !buildsOnOwnHistory(i))) found = { stepId: s.stepId, reason: `successful redo of sub-task "${s.name}" by the same agent`, via: 'redo' };
    if (found && !seen.has(s.stepId)) {
      seen.add(s.stepId);
      out.push(found);
      if (repairedBy === undefined || s.endTimeUnixNano < repairedBy) repairedBy = s.endTimeUnixNano;
    }
  }
  const ps = opts.prefixScores;
  if (ps && starPos >= 0) {
    const before = starPos === 0 ? (opts.prefixBaseline ?? 0) : ps[starPos - 1]!;
    const tol = (opts.dropThreshold ?? 0.2) / 2;
    // Only a value that fell below that level can recover to it: t* located by its status or a flag
    // while the prefix values held made the next message (a dependent that read the error) a
    // 'repair' — rewarded, unblamed, and with t*'s agent a preference pair for a step that fixed nothing.
    let dropped = starPos < ps.length && ps[starPos]! < before - tol;
    for (let pos = starPos + 1; pos < Math.min(ps.length, msgIdx.length); pos++) {
      if (!dropped) {
        dropped = ps[pos]! < before - tol;
        continue;
      }
      if (ps[pos]! >= before - tol) {
        const s = graph.order[msgIdx[pos]!]!;
        if (!seen.has(s.stepId) && !erroneousAt(graph, msgIdx[pos]!) && !buildsOn(msgIdx[pos]!)) out.push({ stepId: s.stepId, reason: `prefix value recovers to ${ps[pos]!.toFixed(2)} (before the error: ${before.toFixed(2)})`, via: 'prefix-recovery' });
        break;
      }
    }
  }
  return out;
}

/**
 * Critics of t*: succeeded messages that read t* itself and are ancestors of one of `repairs`
 * that retried or redid t*, other than the repairs themselves, in causal order. A prefix-value recovery leads to no critic: the steps before it are the ones the
 * scorer still rated low, and on a linear conversation every step would lie on the path.
 */
function criticsOf(graph: CausalGraph, fe: FirstError, repairs: readonly CorrectiveAttempt[]): CorrectiveAttempt[] {
  const fixes = repairs.filter((r) => r.via === 'retry' || r.via === 'redo');
  if (fixes.length === 0) return [];
  const repairIdx = new Set(repairs.map((r) => graph.indexOf.get(r.stepId)!));
  // The step that read the error itself (t* is one of its inputs): it noticed the error. Steps
  // between it and the fix only carried its notice on — rewarding them too made every step of a
  // long chain before a retry a 'critic' — and a step that reads only a fix read no error at all
  // (a second review round's approval of the redo).
  // A flagged (ok) non-tool t* — a bad answer — is carried on by its own agent's next steps (its
  // hand-off, the tool call it issued, the next call): they pass the answer on and notice nothing.
  // Reading t* "itself" then means reading it or such a carrier, and a carrier is no critic: the
  // coder's hand-off of the flagged answer was the critic (rewarded, not blamed), the reviewer who
  // read it and objected unrelated. The LLM call that read a tool's bad result and retried the
  // tool keeps its role (a tool t* has no continuation of its own).
  const star = graph.order[fe.index]!;
  // a set, not an array of every step: made for each independent error too
  const carrier = new Set<number>();
  if (star.status.ok && star.kind !== 'tool') {
    for (let w = fe.index + 1; w < graph.order.length; w++) {
      if (graph.order[w]!.agentId === star.agentId && graph.inputs[w]!.some((u) => u === fe.index || carrier.has(u))) carrier.add(w);
    }
  }
  const ledTo = new Map<number, string>(); // critic index → the first repair it led to
  for (const r of fixes) {
    // a critic reads t*: only steps after it (a walk of the whole history per fix made the
    // independent errors of a long run, each localized as t* is, quadratic)
    for (const i of ancestors(graph, graph.indexOf.get(r.stepId)!, fe.index)) {
      if (carrier.has(i) || !graph.inputs[i]!.some((u) => u === fe.index || carrier.has(u)) || repairIdx.has(i) || ledTo.has(i)) continue;
      const s = graph.order[i]!;
      if (isMessage(s) && !erroneousAt(graph, i)) ledTo.set(i, r.stepId);
    }
  }
  return [...ledTo]
    .sort((a, b) => a[0] - b[0])
    .map(([i, fix]) => ({ stepId: graph.order[i]!.stepId, reason: `passed the error of ${graph.order[fe.index]!.stepId} on to its fix ${fix}`, via: 'critic' as const }));
}

/**
 * Roles and raw transfers of the independent errors (see the file header) and of the steps around
 * them, by index: each erroneous message after t* that has no role of t*'s (`taken`: t*, its
 * repairs, critics and dependents) and reads no earlier independent error — one that does is that
 * one's dependent, as t*'s erroneous dependents are t*'s (the failing tests after a failed lookup) —
 * is localized as t* is, in causal order. Its corrective attempts and critics are t*'s rules run
 * with it in t*'s place (correctiveAttempts, criticsOf: a successful retry of its tool, a redo of
 * its sub-task, the step that read its error and led to the fix; no prefix-value recovery, which
 * is t*'s drop), rewarded repairWeight / criticWeight times its blame; blame does not pass through
 * them, nor through t*'s (what reads only a fix reads no error). Without them its readers would be
 * blamed as its dependents — the LLM call that read the failed call's error and retried, and the
 * retry that fixed it. Its other readers get its blame decayed (the largest when several). A step
 * t* already gave a role keeps it. Dependents of t* are returned too, with their blame from these
 * errors, for the caller to take the larger. One pass over the episode per independent error.
 */
function independentErrors(
  graph: CausalGraph,
  fe: FirstError,
  taken: ReadonlySet<number>,
  starFixes: ReadonlySet<number>,
  w: { blame: number; decay: number; repairWeight: number; criticWeight: number },
): Map<number, { role: FailureRole; raw: number; corrects: string | undefined }> {
  // one object shape for every entry (corrects set on repairs and critics only)
  const out = new Map<number, { role: FailureRole; raw: number; corrects: string | undefined }>();
  const reads = new Map<number, number>(); // message → its blame as a reader of an independent error (≤ 0)
  for (let i = fe.index + 1; i < graph.order.length; i++) {
    const s = graph.order[i]!;
    if (taken.has(i) || out.has(i) || reads.has(i) || !isMessage(s) || !erroneousAt(graph, i)) continue;
    out.set(i, { role: 'independent-error', raw: -w.blame, corrects: undefined });
    const own: FirstError = { stepId: s.stepId, agentId: s.agentId, evidence: [], ties: [], index: i };
    const repairs = correctiveAttempts(graph, own);
    const fixes = new Set(starFixes);
    for (const [list, role, weight] of [
      [repairs, 'repair', w.repairWeight],
      [criticsOf(graph, own, repairs), 'critic', w.criticWeight],
    ] as const) {
      for (const a of list) {
        const j = graph.indexOf.get(a.stepId)!;
        fixes.add(j);
        if (!taken.has(j) && !out.has(j)) out.set(j, { role, raw: weight * w.blame, corrects: s.stepId });
      }
    }
    for (const [j, d] of descendants(graph, i, fixes)) {
      if (!fixes.has(j) && isMessage(graph.order[j]!)) reads.set(j, Math.min(reads.get(j) ?? 0, -w.blame * w.decay ** d));
    }
  }
  for (const [j, b] of reads) if (!out.has(j)) out.set(j, { role: 'dependent', raw: b, corrects: undefined });
  return out;
}

export function blameAndRepair(graph: CausalGraph, fe: FirstError, opts: BlameRepairOptions = {}): BlameRepair {
  const blame0 = opts.blame0 ?? 0.5;
  const decay = opts.decay ?? 0.5;
  const repairWeight = opts.repairWeight ?? 1;
  const criticWeight = opts.criticWeight ?? 0.5;
  const repairs = correctiveAttempts(graph, fe, opts);
  const critics = criticsOf(graph, fe, repairs);
  const repairIdx = new Set(repairs.map((r) => graph.indexOf.get(r.stepId)!));
  const criticIdx = new Set(critics.map((c) => graph.indexOf.get(c.stepId)!));
  // Blame does not pass through a repair or a critic: what reads the error only through them reads the fix or the notice.
  const fixes = new Set([...repairIdx, ...criticIdx]);
  const dependent = descendants(graph, fe.index, fixes);
  const taken = new Set([fe.index, ...fixes, ...dependent.keys()]);
  const other = independentErrors(graph, fe, taken, fixes, { blame: blame0 * decay, decay, repairWeight, criticWeight });
  const raw = new Map<string, number>();
  const roles = new Map<string, FailureRole>();
  const corrects = new Map<string, string>();
  graph.order.forEach((s, i) => {
    if (!isMessage(s)) return;
    if (i === fe.index) {
      roles.set(s.stepId, 'first-error');
      raw.set(s.stepId, -blame0);
    } else if (repairIdx.has(i)) {
      roles.set(s.stepId, 'repair');
      raw.set(s.stepId, repairWeight * blame0);
      corrects.set(s.stepId, fe.stepId);
    } else if (criticIdx.has(i)) {
      roles.set(s.stepId, 'critic');
      raw.set(s.stepId, criticWeight * blame0);
      corrects.set(s.stepId, fe.stepId);
    } else if (dependent.has(i)) {
      roles.set(s.stepId, 'dependent');
      // reads t* and an independent error too: the larger of the two blames, not their sum
      raw.set(s.stepId, Math.min(-blame0 * decay ** dependent.get(i)!, other.get(i)?.raw ?? 0));
    } else if (other.has(i)) {
      const o = other.get(i)!;
      roles.set(s.stepId, o.role);
      raw.set(s.stepId, o.raw);
      if (o.corrects !== undefined) corrects.set(s.stepId, o.corrects);
    } else roles.set(s.stepId, i < fe.index ? 'before-error' : 'unrelated');
  });
  // Zero-sum within each agent.
  const byAgent = new Map<string, string[]>();
  for (const s of graph.order) {
    if (!isMessage(s)) continue;
    const l = byAgent.get(s.agentId);
    if (l) l.push(s.stepId);
    else byAgent.set(s.agentId, [s.stepId]);
  }
  const amount = new Map<string, number>();
  for (const ids of byAgent.values()) {
    const involved = ids.filter((id) => raw.has(id));
    if (involved.length === 0) continue;
    const net = involved.reduce((a, id) => a + raw.get(id)!, 0);
    // Who takes the offset. A net blame (t*'s agent) is handed back to all the agent's uninvolved
    // messages, earlier ones included: that is no blame on them, and without them a t* that is its
    // agent's last message (the failed-output fallback) would be centred to no blame at all. A net
    // repair bonus is paid only by the agent's later unrelated messages: messages before t* are
    // not blamed (method.md §3). With no such message the involved transfers are centred.
    const others = ids.filter((id) => !raw.has(id) && (net < 0 || roles.get(id) === 'unrelated'));
    for (const id of involved) amount.set(id, raw.get(id)! - (others.length === 0 ? net / involved.length : 0));
    for (const id of others) amount.set(id, -net / others.length);
  }
  const transfers = new Map<string, Transfer>();
  for (const [id, a] of amount) transfers.set(id, { blame: Math.min(0, a), repair: Math.max(0, a) });
  return { transfers, roles, repairs, critics, corrects };
}
