/**
 * Causal inputs of each step: which earlier steps' output it consumed. Rules, in order:
 *
 * - C1 parent: the parent span (structure carries causality: an LLM call depends on the turn that
 *   started it).
 * - C2 span links to spans of the same episode.
 * - C3 tool calls: the LLM step that issued call X → the tool (or hand-off) step that executed X
 *   → the first later LLM step whose input holds the result of X. When the executing span has no
 *   call id (all three fixture instrumentations omit it), X is recovered by matching tool name and
 *   canonical arguments against the calls LLM steps issued (output messages) or, when outputs are
 *   not recorded (openllmetry quirk: `openai.response` spans have input messages only), against the
 *   calls in later LLM steps' input history. A hand-off matches the OpenAI Agents SDK hand-off tool
 *   `transfer_to_<agent>` (named as the SDK names it: `handoffToolName`), or its own tool name when
 *   its span is a `transfer_to_*` tool. A call X with no executing span links issuer → consumer directly.
 * - C4 turn order: the previous rewardable step of the same agent invocation (nearest agent span)
 *   that ended before this step started.
 * - C5 hand-off: the hand-off step → the first rewardable step of the target agent that starts
 *   after it. A missing target (openllmetry quirk `triage → unknown.handoff`) is inferred from the
 *   matched `transfer_to_<agent>` call, else from the first other agent invoked after the hand-off
 *   (reported as a warning).
 *
 * - C11 workflow messages (Microsoft Agent Framework): the first rewardable step under an
 *   `executor.process` span reads, per span link to a `message.send`, the last rewardable step under the
 *   sending executor that ended before the send (a sender without one passes on what it read, through
 *   its own links). Before, a hand-off workflow's routing agent (its `handoff_to_<id>` call has no span,
 *   each agent runs under its own executor span) reached no output and got 0 credit.
 *
 * - C6 agent graph (OpenInference `graph.node.parent_id`): when an agent span names a parent node
 *   and the agent's first rewardable step has no input from another agent yet (no hand-off span),
 *   that step gets the parent node's latest rewardable step that ended before the agent started.
 *
 * - C8 text passed on in code: the first rewardable step of an agent invocation that has no input
 *   from another agent yet reads the latest step of another agent, ended before it started, whose
 *   output text (its first 200 characters, at least 20) its input holds — an app that runs one
 *   agent on another's answer without a hand-off span, link or graph edge (a research → write
 *   pipeline under OpenInference's OpenAI instrumentor); also found JSON-escaped in a prompt
 *   recorded as JSON. Not when that step's own input already held the text (it copied it: both
 *   agents may have read it at the source). Before, the upstream agent got no credit.
 * - C9 hand-off seen only in the finish reason (opentelemetry-instrumentation-genai-openai-agents
 *   1.x without message content: no hand-off span, no `transfer_to_*` tool span, no call ids): an
 *   agent invocation whose last rewardable step is an LLM call that ended asking for tool calls
 *   (`gen_ai.response.finish_reasons` `tool_calls`) none of which ran, and that did not fail, handed
 *   the run on — the OpenAI Agents SDK runs a hand-off call without a tool span and starts the
 *   target's invocation next, under the same parent. The first rewardable step of the next agent
 *   invocation under that parent, started after it ended, reads that LLM call, when it has no other
 *   agent's input yet. Before, the routing agent reached no output and got 0 credit.
 * - L2 a LangGraph agent's result passes on to the next node of its graph (langgraph.ts): the first
 *   rewardable step of the next LangGraph agent invocation under the same parent (a supervisor after its
 *   worker, which returns by a fixed edge with no tool span) reads the last one of an invocation that did
 *   not end on a hand-off, when it has no other agent's input yet.
 * - C10 an agent run from its caller's code (smolagents managed agents: the manager's step runs it, no
 *   tool span between): the caller's first rewardable step after it ended reads its last rewardable
 *   step. Before, the managed agent's answer reached nothing and it got 0 credit.
 * - C7 results of nested work (agents as tools): a step that reads a step T whose span holds
 *   rewardable steps below it (a tool that runs a sub-agent — OpenAI Agents SDK `as_tool`, a
 *   LangGraph supervisor's worker — or calls an LLM itself) also reads, under each of T's direct
 *   children (each nested agent or call, parallel ones too), the rewardable step that ended last
 *   before it started: T's result is made of their outputs. T itself comes
 *   before its descendants in the order, so the edge cannot go into T; before, the nested agent's
 *   steps reached no output and got no credit (nor blame for an error relayed up).
 *
 * Invariant: inputs only point to steps earlier in the episode order (start time, then depth, then
 * end time, then span id), so the causal graph is a DAG even with forward links, clock skew or
 * parent cycles; an input that would point forward is dropped and counted.
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import type { ToolCallRef } from './messages.js';
import type { SpanFacts } from './span-facts.js';
import type { SpanTree } from './span-tree.js';

export interface CausalStepInput {
  readonly span: Span;
  readonly facts: SpanFacts;
  readonly kind: StepKind;
  readonly rewardable: boolean;
  readonly agentId: string;
  readonly agentName: string;
  readonly invocationId?: string;
}

export interface CausalLinks {
  /**
   * Inputs per step by its position in the episode order (`SpanTree.position`, the index of its
   * draft), every step's list its own: `stepsFromTree` hands it to the step without a copy.
   */
  readonly inputs: readonly string[][];
  /** Tool-call ids recovered for tool/hand-off steps that did not record one. */
  readonly inferredCallIds: ReadonlyMap<string, string>;
  /** Hand-off targets recovered for hand-off steps that did not record one. */
  readonly inferredHandoffTo: ReadonlyMap<string, string>;
  readonly warnings: readonly string[];
}

/**
 * OpenAI Agents SDK default hand-off tool name (`Handoff.default_tool_name`,
 * `transform_string_function_style(f"transfer_to_{agent.name}")` in `util/_transforms.py`): each
 * code point other than an ASCII letter, digit or `_` — a space, `-`, `.`, `(`, `é`, an emoji — is
 * one `_`, then lower case: `Flights-EU` is `transfer_to_flights_eu`, `Vols (EU)`
 * `transfer_to_vols__eu_`. Dropping those characters and collapsing whitespace instead named no
 * call the SDK makes: the hand-off was not bound to its call and, without a recorded target,
 * was inferred with a warning on the episode.
 */
function handoffToolName(agentName: string): string {
  return `transfer_to_${agentName.replace(/[^a-zA-Z0-9_]/gu, '_').toLowerCase()}`;
}

const HANDOFF_TOOL_PREFIX = 'transfer_to_';

/**
 * @param steps every span of the episode as a step draft, in `tree.ordered` order.
 */
export function linkCausalInputs(tree: SpanTree, steps: readonly CausalStepInput[], agentNames: ReadonlySet<string>): CausalLinks {
  const links = new StepInputs(tree, steps);
  const warnings: string[] = [];

  // C1, C2
  for (const s of steps) {
    const parent = tree.parentOf(s.span.spanId);
    if (parent !== undefined) links.add(s.span.spanId, parent);
    // by index: most spans hold the decoder's shared frozen empty list (see renderTranscript in messages.ts)
    const spanLinks = s.span.links;
    for (let k = 0; k < spanLinks.length; k++) {
      const link = spanLinks[k]!;
      const target = tree.byId.get(link.spanId);
      if (target && target.traceId === link.traceId) links.add(s.span.spanId, link.spanId);
    }
  }

  // C3: tool calls. Indexed so that an episode of n spans costs O(n log n) plus the size of the
  // recorded message histories; candidate scans are capped at SCAN_LIMIT entries.
  const llms = steps.filter((s) => s.kind === 'llm');
  const issuerOf = new Map<string, CausalStepInput>();
  const issued = new Map<string, { call: ToolCallRef; end: bigint; issuer: CausalStepInput }[]>();
  const history = new Map<string, { call: ToolCallRef; start: bigint; reader: CausalStepInput }[]>();
  const consumers = new Map<string, CausalStepInput[]>();
  const seenInHistory = new Set<string>();
  // by index: a facts list is its own array or a shared frozen empty one (messages.ts, renderTranscript)
  for (const l of llms) {
    const calls = l.facts.issuedCalls;
    for (let k = 0; k < calls.length; k++) {
      const c = calls[k]!;
      if (c.id !== undefined && !issuerOf.has(c.id)) issuerOf.set(c.id, l);
      pushByCallKeys(issued, c, { call: c, end: l.span.endTimeUnixNano, issuer: l });
    }
    const consumed = l.facts.consumedCallIds;
    for (let k = 0; k < consumed.length; k++) push(consumers, consumed[k]!, l);
  }
  // The issuers come in causal order, so a list is usually in end order already: sorted only when
  // it is not (Array#sort copies even a sorted list into a work array: ~3 KB an episode).
  for (const list of issued.values()) if (!endsAscending(list)) list.sort(byIssuedEnd);
  for (const st of steps) {
    const recalled = st.facts.historyCalls;
    for (let k = 0; k < recalled.length; k++) {
      const c = recalled[k]!;
      if (c.id === undefined || seenInHistory.has(c.id)) continue; // first appearance only
      seenInHistory.add(c.id);
      pushByCallKeys(history, c, { call: c, start: st.span.startTimeUnixNano, reader: st });
    }
  }

  const bound = new Set<string>();
  // Bound ids whose every execution so far failed (span status error): a later execution of the
  // same call is a retry under the same id, and may bind it again — if it starts before the step
  // that reads the failed result (the value: that step's start). A framework retries before the
  // model sees the error; a matching call after it is another call (another agent's, or the
  // model's own with a new id), whose issuer the failed call's is not.
  const retryable = new Map<string, bigint>();
  // Executions per call id, in causal order: the consumer reads the result of one of them.
  const executions = new Map<string, CausalStepInput[]>();
  const inferredCallIds = new Map<string, string>();
  const inferredHandoffTo = new Map<string, string>();
  // Built on first use: only hand-offs that name no target need it.
  let byNormalisedName: Map<string, string> | undefined;

  for (const s of steps) {
    if (s.kind !== 'tool' && s.kind !== 'handoff') continue;
    let callId = s.facts.toolCallId;
    let call: ToolCallRef | undefined;
    if (callId === undefined) {
      const key = stepCallKey(s);
      // Issued calls: the latest issuer that ended by the time this step started — of the
      // step's own agent invocation first, then of its agent, then any. Agents running side by
      // side call the same tools: by time alone each tool took the other agent's call (whichever
      // LLM call ended last), and credit and blame crossed between the agents (third review).
      const cands = key === undefined ? undefined : issued.get(key);
      if (cands) {
        const upto = firstKeyFrom(cands, issuedEnd, s.span.startTimeUnixNano, true);
        let bestRank = -1;
        for (let i = upto - 1; i >= Math.max(0, upto - SCAN_LIMIT) && bestRank < 2; i--) {
          const c = cands[i]!;
          const rank = s.invocationId !== undefined && c.issuer.invocationId === s.invocationId ? 2 : c.issuer.agentId === s.agentId ? 1 : 0;
          if (rank > bestRank && isUnboundMatch(s, c.call, bound, retryable)) {
            call = c.call;
            bestRank = rank;
          }
        }
      }
      // Input history of later steps, when the issuing output was not recorded: the earliest
      // later step that recalls the call — of the step's own agent invocation first, then of its
      // agent, then any, as for issued calls (agents side by side recall their own calls).
      const hist = call === undefined && key !== undefined ? history.get(key) : undefined;
      if (hist) {
        const from = firstKeyFrom(hist, recalledStart, s.span.startTimeUnixNano, false);
        let bestRank = -1;
        for (let i = from; i < Math.min(hist.length, from + SCAN_LIMIT) && bestRank < 2; i++) {
          const h = hist[i]!;
          const rank = s.invocationId !== undefined && h.reader.invocationId === s.invocationId ? 2 : h.reader.agentId === s.agentId ? 1 : 0;
          if (rank > bestRank && isUnboundMatch(s, h.call, bound, retryable)) {
            call = h.call;
            bestRank = rank;
          }
        }
      }
      callId = call?.id;
      if (callId !== undefined) inferredCallIds.set(s.span.spanId, callId);
    }
    if (s.kind === 'handoff' && s.facts.handoffTo === undefined) {
      const target = call?.name !== undefined ? (byNormalisedName ??= new Map([...agentNames].map((n) => [handoffToolName(n), n]))).get(call.name) : undefined;
      if (target !== undefined) inferredHandoffTo.set(s.span.spanId, target);
    }
    if (callId === undefined) continue;
    const failed = s.span.status.code === STATUS_ERROR;
    if (!bound.has(callId) && failed) retryable.set(callId, firstConsumer(consumers, callId, s.span)?.span.startTimeUnixNano ?? NEVER);
    else if (!failed) retryable.delete(callId);
    bound.add(callId);
    const issuer = issuerOf.get(callId);
    if (issuer) links.add(s.span.spanId, issuer.span.spanId);
    push(executions, callId, s);
  }
  // The consumer of a call reads one execution's result: the last that ended before it started
  // (else the last that started before it). A call retried under the same id linked the next
  // step to the failed attempt too, which then counted as depending on the error.
  // keys, then get: iterating the entries made a [key, value] array per entry
  for (const callId of executions.keys()) {
    const runs = executions.get(callId)!;
    if (runs.length === 1) {
      // the common case, one execution: its consumer reads it (no grouping map per call)
      const consumer = firstConsumer(consumers, callId, runs[0]!.span);
      if (consumer) links.add(consumer.span.spanId, runs[0]!.span.spanId);
      continue;
    }
    const byConsumer = new Map<CausalStepInput, CausalStepInput[]>();
    for (const run of runs) {
      const consumer = firstConsumer(consumers, callId, run.span);
      if (consumer) push(byConsumer, consumer, run);
    }
    for (const consumer of byConsumer.keys()) {
      const read = byConsumer.get(consumer)!;
      const start = consumer.span.startTimeUnixNano;
      let chosen: CausalStepInput | undefined;
      for (const r of read) if (r.span.endTimeUnixNano <= start && (chosen === undefined || r.span.endTimeUnixNano >= chosen.span.endTimeUnixNano)) chosen = r;
      links.add(consumer.span.spanId, (chosen ?? read[read.length - 1]!).span.spanId);
    }
  }
  // Calls with no executing span: the consumer read what the issuer asked for.
  for (const callId of issuerOf.keys()) {
    if (bound.has(callId)) continue;
    const issuer = issuerOf.get(callId)!;
    const consumer = firstConsumer(consumers, callId, issuer.span);
    if (consumer) links.add(consumer.span.spanId, issuer.span.spanId);
  }

  // C4: previous rewardable step of the same agent invocation. Only the last RECENT_STEPS steps of
  // a group are searched, which keeps long single-agent runs linear.
  const RECENT_STEPS = 64;
  const byGroup = new Map<string, CausalStepInput[]>();
  for (const s of steps) {
    if (!s.rewardable) continue;
    const group = s.invocationId ?? `agent:${s.agentId}`;
    const earlier = byGroup.get(group) ?? [];
    let prev: CausalStepInput | undefined;
    for (let i = earlier.length - 1; i >= Math.max(0, earlier.length - RECENT_STEPS); i--) {
      const e = earlier[i]!;
      if (e.span.endTimeUnixNano <= s.span.startTimeUnixNano && (prev === undefined || e.span.endTimeUnixNano > prev.span.endTimeUnixNano)) prev = e;
    }
    if (prev) links.add(s.span.spanId, prev.span.spanId);
    earlier.push(s);
    byGroup.set(group, earlier);
  }

  // C5: hand-off → first rewardable step of the target agent.
  const agentSpans = steps.filter((s) => s.kind === 'agent');
  const rewardableByAgent = new Map<string, CausalStepInput[]>();
  for (const s of steps) if (s.rewardable) push(rewardableByAgent, s.agentName, s);
  for (const h of steps) {
    if (h.kind !== 'handoff') continue;
    const hStart = h.span.startTimeUnixNano;
    let target = h.facts.handoffTo ?? inferredHandoffTo.get(h.span.spanId);
    if (target === undefined) {
      const from = firstKeyFrom(agentSpans, stepStart, hStart, false);
      let next: CausalStepInput | undefined;
      for (let i = from; i < Math.min(agentSpans.length, from + SCAN_LIMIT) && next === undefined; i++) if (agentSpans[i]!.agentName !== h.agentName) next = agentSpans[i];
      if (next) {
        target = next.agentName;
        inferredHandoffTo.set(h.span.spanId, target);
        warnings.push(`hand-off ${h.span.spanId} (${h.span.name}) names no target; inferred "${target}", the next agent invoked`);
      } else {
        warnings.push(`hand-off ${h.span.spanId} (${h.span.name}) names no target and no later agent was invoked`);
        continue;
      }
    }
    const list = rewardableByAgent.get(target);
    const first = list?.[firstKeyFrom(list, stepStart, hStart, false)];
    if (first) links.add(first.span.spanId, h.span.spanId);
  }

  // C11: messages between workflow executors (Microsoft Agent Framework, python `agent_framework` and .NET
  // `Microsoft.Agents.AI.Workflows`). Each delivered message is processed under an `executor.process <id>` span
  // (`executor.id`), a child of the run span, LINKED (not nested) to the `message.send` span that sent it, itself a
  // child of the sender's `executor.process` (`observability.py` `create_processing_span`, `_workflow_context.py`
  // `send_message`; .NET `Executor.ExecuteCoreAsync` `CreateSourceLinks`, `InProcessRunnerContext.SendMessageAsync`).
  // An agent executor runs its agent on what it received: the first rewardable step under a receiving executor span
  // reads, for each linked send, the last rewardable step under the sending executor that ended before the send
  // started; a sender with none (a dispatcher, a round-robin group chat manager, an adapter) passes on what it read
  // itself, through its own links. The hand-off orchestration (`_handoff.py`) sends `AgentExecutorRequest` to the
  // target after the routing call, whose `handoff_to_<id>` call middleware short-circuits (no tool span), and each
  // agent runs under its own executor span: C5 and C9 saw no hand-off and the routing agent got 0.
  const executorSpans = steps.filter((s) => isWorkflowExecutor(s.span));
  if (executorSpans.length > 1) {
    const executorIds = new Set(executorSpans.map((s) => s.span.spanId));
    const executorById = new Map(executorSpans.map((s) => [s.span.spanId, s]));
    const nearestExecutor = (spanId: string): string | undefined => {
      for (let p: string | undefined = spanId, hops = 0; p !== undefined && hops < 64; p = tree.parentOf(p), hops++) if (executorIds.has(p)) return p;
      return undefined;
    };
    const rewardableIn = new Map<string, CausalStepInput[]>(); // executor span → its rewardable steps, in order
    for (const s of steps) {
      if (!s.rewardable) continue;
      const e = nearestExecutor(s.span.spanId);
      if (e !== undefined) push(rewardableIn, e, s);
    }
    const linked = (link: Span['links'][number]): Span | undefined => {
      const target = tree.byId.get(link.spanId);
      return target !== undefined && target.traceId === link.traceId ? target : undefined;
    };
    const producers = (send: Span, seen: Set<string>, out: CausalStepInput[]): void => {
      const x = nearestExecutor(send.spanId);
      if (x === undefined || seen.has(x) || seen.size > SCAN_LIMIT) return;
      seen.add(x);
      let last: CausalStepInput | undefined;
      for (const s of rewardableIn.get(x) ?? []) if (s.span.endTimeUnixNano <= send.startTimeUnixNano && (last === undefined || s.span.endTimeUnixNano >= last.span.endTimeUnixNano)) last = s;
      if (last !== undefined) {
        out.push(last);
        return;
      }
      for (const l of executorById.get(x)!.span.links) {
        const from = linked(l);
        if (from !== undefined) producers(from, seen, out);
      }
    };
    for (const e of executorSpans) {
      const first = rewardableIn.get(e.span.spanId)?.[0];
      if (first === undefined || e.span.links.length === 0) continue;
      const read: CausalStepInput[] = [];
      const seen = new Set([e.span.spanId]);
      for (const l of e.span.links) {
        const from = linked(l);
        if (from !== undefined) producers(from, seen, read);
      }
      for (const p of read) links.add(first.span.spanId, p.span.spanId);
    }
  }

  // C6: agent graph edges without a hand-off span.
  const agentByNode = new Map<string, string>();
  for (const a of agentSpans) if (a.facts.graphNodeId !== undefined && !agentByNode.has(a.facts.graphNodeId)) agentByNode.set(a.facts.graphNodeId, a.agentName);
  for (const a of agentSpans) {
    const parentNode = a.facts.graphParentNodeId;
    const parentAgent = parentNode === undefined ? undefined : agentByNode.get(parentNode);
    if (parentAgent === undefined || parentAgent === a.agentName) continue;
    const own = rewardableByAgent.get(a.agentName);
    const first = own?.[lowerBound(own, (s) => s.span.startTimeUnixNano >= a.span.startTimeUnixNano)];
    if (!first) continue;
    if (links.inputsOf(first.span.spanId).some((id) => links.stepOf(id)?.agentName !== a.agentName)) continue;
    const theirs = rewardableByAgent.get(parentAgent);
    if (!theirs) continue;
    let prev: CausalStepInput | undefined;
    const upto = lowerBound(theirs, (s) => s.span.startTimeUnixNano > a.span.startTimeUnixNano);
    for (let i = upto - 1; i >= Math.max(0, upto - SCAN_LIMIT); i--) {
      const c = theirs[i]!;
      if (c.span.endTimeUnixNano <= a.span.startTimeUnixNano && (prev === undefined || c.span.endTimeUnixNano > prev.span.endTimeUnixNano)) prev = c;
    }
    if (prev) links.add(first.span.spanId, prev.span.spanId);
  }

  // First and last rewardable step of each agent invocation (L2 and C9), built on first use.
  let ends: InvocationEnds | undefined;

  // L2: a LangGraph agent's result passes on to the next node (langgraph.ts, L1). LangGraph nodes share the
  // graph's state: the node that runs after an agent's node reads the messages it wrote — a supervisor's worker
  // returns to the supervisor by a fixed edge (langgraph-supervisor `supervisor.py` `add_edge(agent.name,
  // supervisor)`), with only the `transfer_back_to_<supervisor>` messages, no tool span. An agent invocation
  // that did not end on a hand-off (that one is C5's): the first rewardable step of the next LangGraph agent
  // invocation of another agent under the same parent span, started after it ended, reads its last rewardable
  // step — when it has no other agent's input yet. Parallel nodes (started before it ended) are not linked.
  const graphAgents = agentSpans.filter((s) => s.facts.langGraphAgent === true);
  if (graphAgents.length > 1) {
    const { firstOf, lastOf } = (ends ??= firstAndLastOfInvocations(steps));
    const siblings = new Map<string, CausalStepInput[]>();
    for (const a of graphAgents) {
      const p = tree.parentOf(a.span.spanId);
      if (p !== undefined) push(siblings, p, a);
    }
    for (const a of graphAgents) {
      const last = lastOf.get(a.span.spanId);
      if (last === undefined || last.kind === 'handoff') continue;
      const parent = tree.parentOf(a.span.spanId);
      const sibs = parent === undefined ? undefined : siblings.get(parent);
      if (sibs === undefined) continue;
      const next = firstStartedAfter(sibs, a);
      if (next === undefined || next.agentName === a.agentName) continue;
      const first = firstOf.get(next.span.spanId);
      if (first === undefined || links.readsOtherAgent(first.span.spanId, next.agentName)) continue;
      links.add(first.span.spanId, last.span.spanId);
    }
  }

  // C9: a hand-off only the finish reason shows. opentelemetry-instrumentation-genai-openai-agents
  // 1.x records no hand-off span (HandoffSpanData is ignored), the OpenAI Agents SDK runs the
  // `transfer_to_<agent>` call without a tool span, and without message content nothing names the
  // call: what remains is the triage agent's last chat span, whose response asked for tool calls
  // (`gen_ai.response.finish_reasons`), none of which ran in its invocation, and the target's
  // `invoke_agent` span, started under the same parent (the run's workflow or turn span) after the
  // triage invocation ended. Such an agent invocation — its last rewardable step an LLM call that
  // ended on a call nothing executed, not failed — handed the run on: the first rewardable step of
  // the next agent invocation under its parent that started after it ended reads that LLM call,
  // when that step has no other agent's input yet (with contents, C3 already linked it). Agents
  // merely one after another are not linked: the last answer of an agent that finished is `stop`.
  const enders = agentSpans.length > 1 ? steps.filter((s) => s.kind === 'llm' && s.facts.endedOnToolCall === true && s.invocationId !== undefined) : [];
  if (enders.length > 0) {
    const { firstOf, lastOf } = (ends ??= firstAndLastOfInvocations(steps));
    const siblings = new Map<string, CausalStepInput[]>(); // agent invocations by parent span, by start
    for (const a of agentSpans) {
      const p = tree.parentOf(a.span.spanId);
      if (p !== undefined) push(siblings, p, a);
    }
    const handedOn = new Set(enders.map((s) => s.invocationId!));
    for (const a of agentSpans) {
      if (!handedOn.has(a.span.spanId) || a.span.status.code === STATUS_ERROR) continue;
      const last = lastOf.get(a.span.spanId);
      if (last === undefined || last.kind !== 'llm' || last.facts.endedOnToolCall !== true) continue;
      const parent = tree.parentOf(a.span.spanId);
      const sibs = parent === undefined ? undefined : siblings.get(parent);
      if (sibs === undefined) continue;
      const next = firstStartedAfter(sibs, a);
      const first = next === undefined ? undefined : firstOf.get(next.span.spanId);
      if (first === undefined) continue;
      if (links.readsOtherAgent(first.span.spanId, next!.agentName)) continue;
      links.add(first.span.spanId, last.span.spanId);
    }
  }

  // C8: text passed on in code, for agents whose first step still has no other agent's input.
  const withOutput = steps.filter((s) => s.rewardable && s.facts.outputText !== undefined && longEnoughToPass(s.facts.outputText));
  if (withOutput.length > 0) {
    if (!stepEndsAscending(withOutput)) withOutput.sort(byEnd);
    // per output (by its index in withOutput), made on first use: its probe, and the probe
    // JSON-escaped ('' when it reads the same escaped) — made once, not once per reader tried
    const probes: (string | undefined)[] = [];
    const escapedProbes: (string | undefined)[] = [];
    const seenGroups = new Set<string>();
    for (const b of steps) {
      if (!b.rewardable) continue;
      const group = b.invocationId ?? `agent:${b.agentId}`;
      if (seenGroups.has(group)) continue;
      seenGroups.add(group);
      const input = b.facts.inputText;
      if (input === undefined || input.length < MIN_PASSED_TEXT) continue;
      if (links.readsOtherAgent(b.span.spanId, b.agentName)) continue;
      const startedBy = readerStart(b.span.startTimeUnixNano);
      const upto = firstKeyFrom(withOutput, stepEnd, startedBy, true);
      for (let i = upto - 1; i >= Math.max(0, upto - PASSED_TEXT_SCAN); i--) {
        const a = withOutput[i]!;
        if (a.agentName === b.agentName) continue;
        let probe = probes[i];
        let escaped = escapedProbes[i];
        if (probe === undefined || escaped === undefined) {
          probes[i] = probe = a.facts.outputText!.trim().slice(0, PASSED_TEXT_PROBE);
          escapedProbes[i] = escaped = probe.includes('"') || probe.includes('\\') || /[\n\r\t]/.test(probe) ? JSON.stringify(probe).slice(1, -1) : '';
        }
        // as written, or JSON-escaped (a prompt recorded as a JSON document: OpenInference input.value)
        if (!input.includes(probe) && (escaped === '' || !input.includes(escaped))) continue;
        // text the upstream step copied from its own input (a quote of the user's message) is not
        // its contribution: both agents may have read it at the source
        if (a.facts.inputText?.includes(probe)) continue;
        links.add(b.span.spanId, a.span.spanId);
        break;
      }
    }
  }

  // C7: results of nested work. A container's rewardable descendants are grouped by the direct
  // child they sit under (one group per nested agent or call, so parallel ones all count), each
  // sorted by end time; a reader takes, from every group, the latest that ended before it started.
  // C10: an agent run from its caller's code (smolagents: a manager calls its managed agent inside its
  // step, no tool span between them). Its result goes back to the caller: the caller's first rewardable
  // step that starts after it ended reads its last rewardable step, unless it already reads one of its
  // steps. Only where nothing rewardable lies between the two agent spans (an agent used through a tool
  // is C7's), so runs whose agents are siblings or tools are unchanged.
  if (agentSpans.length > 1) {
    let byInvocation: Map<string, CausalStepInput[]> | undefined;
    for (const j of agentSpans) {
      let caller: CausalStepInput | undefined;
      for (let p = tree.parentOf(j.span.spanId), hops = 0; p !== undefined && hops < 64; p = tree.parentOf(p), hops++) {
        const st = links.stepOf(p);
        if (st === undefined) break;
        if (st.kind === 'agent') { caller = st; break; }
        if (st.rewardable) break;
      }
      if (caller === undefined || caller.agentName === j.agentName) continue;
      if (byInvocation === undefined) {
        byInvocation = new Map();
        for (const s of steps) if (s.rewardable && s.invocationId !== undefined) push(byInvocation, s.invocationId, s);
      }
      const own = byInvocation.get(j.span.spanId);
      const theirs = byInvocation.get(caller.span.spanId);
      if (own === undefined || theirs === undefined) continue;
      let last = own[0]!;
      for (const s of own) if (s.span.endTimeUnixNano >= last.span.endTimeUnixNano) last = s;
      const next = theirs.find((s) => s.span.startTimeUnixNano >= j.span.endTimeUnixNano);
      if (next === undefined) continue;
      const ownIds = new Set(own.map((s) => s.span.spanId));
      if (links.inputsOf(next.span.spanId).some((id) => ownIds.has(id))) continue;
      links.add(next.span.spanId, last.span.spanId);
    }
  }

  const nested = new NestedWork(tree, steps, links);
  for (let xi = 0; xi < steps.length; xi++) {
    const x = steps[xi]!;
    // the inputs x had before this rule; read again after each add, which may replace x's list
    for (let k = 0, n = links.inputsAt(xi).length; k < n; k++) {
      const container = links.inputsAt(xi)[k]!;
      if (tree.childCount(container) === 0 || tree.isAncestor(container, x.span.spanId)) continue;
      const startedBy = readerStart(x.span.startTimeUnixNano);
      for (const child of nested.childrenUnder(container)) {
        // usually all the nested work had ended when x started: its latest step, without a search
        const latest = nested.latestUnder(child);
        if (latest === undefined) continue;
        let read: CausalStepInput | undefined = latest;
        if (latest.span.endTimeUnixNano > startedBy) {
          const group = nested.groupUnder(child);
          read = group[firstKeyFrom(group, stepEnd, startedBy, true) - 1];
        }
        if (read !== undefined && read !== x) links.add(x.span.spanId, read.span.spanId);
      }
    }
  }

  if (links.forward > 0) warnings.push(`${links.forward} causal input(s) pointing to later steps dropped (forward links, clock skew or parent cycles)`);
  return { inputs: links.done(), inferredCallIds, inferredHandoffTo, warnings };
}

/**
 * The inputs being collected for one episode's steps, and the look-up of steps by span id the
 * rules go through (`stepOf`) instead of each building its own span id → step map. Steps are
 * found by their position in the tree's order (`SpanTree.position`, built once per episode and
 * shared with the other passes), so no map of their own is built here.
 * Methods rather than closures over linkCausalInputs' locals: the benchmarks and dev runs execute
 * the TypeScript through tsx, whose esbuild `keepNames` wraps every named closure in an
 * `Object.defineProperty` call each time it is created, i.e. per episode.
 */
class StepInputs {
  /**
   * Inputs per step, by position; undefined while a step has none. A step gets one to three inputs
   * as a rule (bench fleet: two for two thirds of the steps), and an array's first push reserves
   * 16 slots: a step's list is made at its length for its first and second input (replaced, not
   * grown: read it again after an add) and grows by push from the third.
   */
  private readonly lists: (string[] | undefined)[];
  /** Inputs dropped because they pointed to a later step. */
  forward = 0;
  private readonly tree: SpanTree;
  private readonly steps: readonly CausalStepInput[];

  /** `steps`: one draft per span of `tree`, in `tree.ordered` order (a draft's index is its span's position). */
  constructor(tree: SpanTree, steps: readonly CausalStepInput[]) {
    this.tree = tree;
    this.steps = steps;
    this.lists = new Array<string[] | undefined>(steps.length).fill(undefined);
  }

  /** Every step's inputs by position, each list its own (an empty one for a step without inputs): what the steps keep. */
  done(): string[][] {
    const lists = this.lists;
    for (let i = 0; i < lists.length; i++) if (lists[i] === undefined) lists[i] = [];
    return lists as string[][];
  }

  /** The inputs collected so far for the step at `position` (read only: it may be a shared empty list). */
  inputsAt(position: number): readonly string[] {
    return this.lists[position] ?? NO_INPUTS;
  }

  stepOf(spanId: string): CausalStepInput | undefined {
    const i = this.tree.position(spanId);
    return i === undefined ? undefined : this.steps[i];
  }

  /** The inputs collected so far for the step of `spanId` (a span of the episode; read only, as `inputsAt`). */
  inputsOf(spanId: string): readonly string[] {
    return this.inputsAt(this.tree.position(spanId)!);
  }

  /** `from` as an input of `to`, once; dropped (and counted) when it does not come earlier in the order. */
  add(to: string, from: string): void {
    if (to === from) return;
    const oTo = this.tree.position(to);
    const oFrom = this.tree.position(from);
    if (oTo === undefined || oFrom === undefined) return;
    if (oFrom >= oTo) {
      this.forward++;
      return;
    }
    const list = this.lists[oTo];
    if (list === undefined) this.lists[oTo] = [from];
    else if (list.includes(from)) return;
    else if (list.length === 1) this.lists[oTo] = [list[0]!, from];
    else list.push(from);
  }

  /**
   * Whether a step already reads another agent's rewardable step (C9 and C8 link only those that
   * do not): an enclosing span of another agent (a workflow root) is structure, not its output.
   */
  readsOtherAgent(spanId: string, agentName: string): boolean {
    const inputs = this.inputsOf(spanId);
    for (let i = 0; i < inputs.length; i++) {
      const st = this.stepOf(inputs[i]!);
      if (st !== undefined && st.rewardable && st.agentName !== agentName) return true;
    }
    return false;
  }
}

/** The inputs of a step that has none yet (StepInputs.inputsAt): shared, never changed. */
const NO_INPUTS: readonly string[] = Object.freeze([]);

/**
 * C7: the rewardable descendants of a container span, one group per direct child (each nested
 * agent or call). Per child, the one that ended last (`latestUnder`, found for every span in one
 * bottom-up pass) answers a reader that started after all of them ended — the usual case; only a
 * reader that overlaps the nested work needs the child's group sorted by end time (`groupUnder`,
 * memoised per child). Building every container's groups read each nested span once per container
 * above it: agents calling agents through tools 1,000 deep (8,000 spans) took 4 s to map. The
 * children index is built on first use: most episodes nest nothing under a step read from outside.
 */
class NestedWork {
  private childrenOf: Map<string, string[]> | undefined;
  private latest: Map<string, CausalStepInput> | undefined;
  private readonly groups = new Map<string, CausalStepInput[]>();
  private readonly tree: SpanTree;
  private readonly steps: readonly CausalStepInput[];
  private readonly links: StepInputs;

  constructor(tree: SpanTree, steps: readonly CausalStepInput[], links: StepInputs) {
    this.tree = tree;
    this.steps = steps;
    this.links = links;
  }

  /** The direct children of a span, in causal order. */
  childrenUnder(container: string): readonly string[] {
    let childrenOf = this.childrenOf;
    if (childrenOf === undefined) {
      childrenOf = this.childrenOf = new Map();
      for (const s of this.steps) {
        const p = this.tree.parentOf(s.span.spanId);
        if (p !== undefined) push(childrenOf, p, s.span.spanId);
      }
    }
    return childrenOf.get(container) ?? NO_CHILDREN;
  }

  /**
   * The rewardable step at or below `spanId` that ended last; on equal ends the one `groupUnder`
   * puts last (its walk visits a span, then its children's subtrees last child first).
   */
  latestUnder(spanId: string): CausalStepInput | undefined {
    if (this.latest === undefined) {
      const latest = (this.latest = new Map());
      // children before their parents: deepest first (parent cycles are broken in the tree)
      const byDepth = this.steps.map((s) => s.span.spanId).sort((a, b) => this.tree.depth(b) - this.tree.depth(a));
      for (const id of byDepth) {
        const own = this.links.stepOf(id);
        let best = own?.rewardable === true ? own : undefined;
        const children = this.childrenUnder(id);
        for (let c = children.length - 1; c >= 0; c--) {
          const b = latest.get(children[c]!);
          if (b !== undefined && (best === undefined || b.span.endTimeUnixNano >= best.span.endTimeUnixNano)) best = b;
        }
        if (best !== undefined) latest.set(id, best);
      }
    }
    return this.latest.get(spanId);
  }

  /** The rewardable steps at or below `child`, sorted by end time (memoised). */
  groupUnder(child: string): CausalStepInput[] {
    let group = this.groups.get(child);
    if (group !== undefined) return group;
    group = [];
    const seen = new Set<string>();
    const stack = [child];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue; // parent cycles
      seen.add(id);
      const st = this.links.stepOf(id);
      if (st?.rewardable) group.push(st);
      for (const c of this.childrenUnder(id)) stack.push(c);
    }
    group.sort(byEnd);
    this.groups.set(child, group);
    return group;
  }
}

const NO_CHILDREN: readonly string[] = [];

/** The first step that consumed the call's result and started at or after `after` started. */
function firstConsumer(consumers: ReadonlyMap<string, CausalStepInput[]>, callId: string, after: Span): CausalStepInput | undefined {
  const list = consumers.get(callId);
  if (!list) return undefined;
  const i = lowerBound(list, (l) => l.span.startTimeUnixNano >= after.startTimeUnixNano);
  return list[i];
}

/** A Microsoft Agent Framework workflow executor's span (`executor.process <executor id>`, with `executor.id`). */
function isWorkflowExecutor(span: Span): boolean {
  return span.name.startsWith('executor.process') && typeof span.attributes['executor.id'] === 'string';
}

const MS = 1_000_000n;

/**
 * The latest time (ns) a step may have ended at to have been read by a step whose recorded start is
 * `start`: that start — or, when it is a whole millisecond, the end of that millisecond. The OTel
 * JS SDK stamps every start with Date.now() (whole ms) and every end as that start plus the
 * measured duration, so a step that ended just before its reader began is recorded as ending up to
 * 1 ms after the reader's recorded start. C7 then found no nested step that ended before the reader
 * started (an agent used as a tool lost all its credit in about a third of such Node runs, real SDK
 * clock), and C8 no earlier step whose output the reader's prompt holds (an agent chained in app
 * code, 12 of 30). Only for rules whose edge needs more than time (a container the reader read, text
 * it holds): C4, by time alone, would chain parallel tool calls started in one millisecond. Other
 * SDKs record sub-millisecond starts.
 */
function readerStart(start: bigint): bigint {
  return start % MS === 0n ? start + MS - 1n : start;
}

/**
 * Of agent invocations sorted by start, the first other than `a` that started after `a` ended
 * (a whole-millisecond start counting to the end of its millisecond, `readerStart`): L2 and C9 pass
 * an agent's result to the next agent invoked under the same parent, which a Node app's graph
 * starts in the millisecond the previous one ended — recorded, it started before that one ended.
 */
function firstStartedAfter(sorted: readonly CausalStepInput[], a: CausalStepInput): CausalStepInput | undefined {
  const end = a.span.endTimeUnixNano;
  for (let i = lowerBound(sorted, (b) => b.span.startTimeUnixNano > end - MS); i < sorted.length; i++) {
    const b = sorted[i]!;
    if (b !== a && readerStart(b.span.startTimeUnixNano) >= end) return b;
  }
  return undefined;
}

/** Whether issued calls are in ascending end order (stable sort would leave them as they are). */
function endsAscending(list: readonly { end: bigint }[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i]!.end < list[i - 1]!.end) return false;
  return true;
}

/** Issued calls by the end of their issuer. */
function byIssuedEnd(a: { end: bigint }, b: { end: bigint }): number {
  return a.end < b.end ? -1 : a.end > b.end ? 1 : 0;
}

/** Whether steps are in ascending end order (a stable sort by end would leave them as they are). */
function stepEndsAscending(list: readonly CausalStepInput[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i]!.span.endTimeUnixNano < list[i - 1]!.span.endTimeUnixNano) return false;
  return true;
}

/**
 * `text.trim().length >= MIN_PASSED_TEXT` without trimming a text that starts and ends with no
 * whitespace (the usual output): trim() of a long text made from parts copies it whole.
 */
function longEnoughToPass(text: string): boolean {
  if (text.length < MIN_PASSED_TEXT) return false;
  if (!trimmedByTrim(text.charCodeAt(0)) && !trimmedByTrim(text.charCodeAt(text.length - 1))) return true;
  return text.trim().length >= MIN_PASSED_TEXT;
}

/** Whether String#trim removes this UTF-16 unit (WhiteSpace or LineTerminator: the set `\s` matches). */
function trimmedByTrim(unit: number): boolean {
  if (unit < 0x80) return unit === 0x20 || (unit >= 0x09 && unit <= 0x0d);
  return WHITESPACE.test(String.fromCharCode(unit));
}

const WHITESPACE = /^\s$/;

/** Steps by end time. */
function byEnd(a: CausalStepInput, b: CausalStepInput): number {
  return a.span.endTimeUnixNano < b.span.endTimeUnixNano ? -1 : a.span.endTimeUnixNano > b.span.endTimeUnixNano ? 1 : 0;
}

/** C8: shortest output text taken as passed on when found in another agent's input, and the length of the probe. */
const MIN_PASSED_TEXT = 20;
const PASSED_TEXT_PROBE = 200;
/** C8: outputs examined per agent invocation, latest first (the text an agent is run on is recent). */
const PASSED_TEXT_SCAN = 64;

/** Max candidates examined per tool step when recovering a missing call id. */
const SCAN_LIMIT = 256;
const HANDOFF_KEY = '\u0000handoff';

/** Indexes `entry` under the call's keys: its tool name, plus the hand-off bucket for `transfer_to_*` calls (no key array per call). */
function pushByCallKeys<V>(map: Map<string, V[]>, c: ToolCallRef, entry: V): void {
  if (c.name === undefined) return;
  push(map, c.name, entry);
  if (c.name.startsWith(HANDOFF_TOOL_PREFIX)) push(map, HANDOFF_KEY, entry);
}

/** Index key a tool/hand-off step looks up (undefined: nothing to match by). */
function stepCallKey(s: CausalStepInput): string | undefined {
  if (s.kind === 'handoff') return handoffCallName(s) ?? HANDOFF_KEY;
  return s.facts.toolName;
}

/**
 * The name of the call a hand-off step ran: its own tool name when its span is a `transfer_to_*`
 * tool (LangGraph, AutoGen, the GenAI transfer refinement: the name as the model called it, which
 * their frameworks form their own way — LangGraph keeps `-`), else the OpenAI Agents SDK's for its
 * target (its hand-off spans record no tool name); undefined when neither is known.
 */
function handoffCallName(s: CausalStepInput): string | undefined {
  const own = s.facts.toolName;
  if (own !== undefined && own.startsWith(HANDOFF_TOOL_PREFIX)) return own;
  return s.facts.handoffTo === undefined ? undefined : handoffToolName(s.facts.handoffTo);
}

interface InvocationEnds {
  /** Invocation (agent span id) → its first rewardable step in causal order. */
  readonly firstOf: ReadonlyMap<string, CausalStepInput>;
  /** Invocation → its rewardable step that ended last (the later one on a tie). */
  readonly lastOf: ReadonlyMap<string, CausalStepInput>;
}

function firstAndLastOfInvocations(steps: readonly CausalStepInput[]): InvocationEnds {
  const firstOf = new Map<string, CausalStepInput>();
  const lastOf = new Map<string, CausalStepInput>();
  for (const s of steps) {
    if (!s.rewardable || s.invocationId === undefined) continue;
    if (!firstOf.has(s.invocationId)) firstOf.set(s.invocationId, s);
    const last = lastOf.get(s.invocationId);
    if (last === undefined || s.span.endTimeUnixNano >= last.span.endTimeUnixNano) lastOf.set(s.invocationId, s);
  }
  return { firstOf, lastOf };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * `lowerBound` of a list in ascending key order, for the key at or after `t` (after it when
 * `strictly`), with the key read by a module function: the rules' loops over every step (C3, C5,
 * C8) passed lowerBound a closure over the loop's step or time, and a closure over a loop's own
 * binding makes V8 allocate that binding's context on every iteration, the steps the rule skips
 * included (~2 kB an episode in the heap profile).
 */
function firstKeyFrom<T>(list: readonly T[], key: (x: T) => bigint, t: bigint, strictly: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = key(list[mid]!);
    if (strictly ? k > t : k >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const issuedEnd = (e: { end: bigint }): bigint => e.end;
const recalledStart = (e: { start: bigint }): bigint => e.start;
const stepStart = (s: CausalStepInput): bigint => s.span.startTimeUnixNano;
const stepEnd = (s: CausalStepInput): bigint => s.span.endTimeUnixNano;

/** First index whose element satisfies `pred` (pred monotone: false… then true…); `list.length` if none. */
function lowerBound<T>(list: readonly T[], pred: (x: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(list[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A call with an id not yet bound to an executing step, matching the step by name (and arguments). */
function isUnboundMatch(s: CausalStepInput, c: ToolCallRef, bound: ReadonlySet<string>, retryable: ReadonlyMap<string, bigint>): boolean {
  if (c.id === undefined || !callMatches(s, c)) return false;
  if (!bound.has(c.id)) return true;
  const readAt = retryable.get(c.id);
  return readAt !== undefined && s.span.startTimeUnixNano < readAt;
}

/** Later than any span start: a failed call whose result nobody read stays retryable. */
const NEVER = 2n ** 64n;

/** OTLP status code ERROR. */
const STATUS_ERROR = 2;

function callMatches(s: CausalStepInput, c: ToolCallRef): boolean {
  if (s.kind === 'handoff') {
    if (c.name === undefined || !c.name.startsWith(HANDOFF_TOOL_PREFIX)) return false;
    const name = handoffCallName(s);
    return name === undefined || c.name === name;
  }
  if (s.facts.toolName === undefined || c.name !== s.facts.toolName) return false;
  return s.facts.toolArgs === undefined || c.args === undefined || c.args === s.facts.toolArgs;
}
