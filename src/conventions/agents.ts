/**
 * Who authored each step. Rule (architecture.md): a step's agent is its own real agent
 * attribute, else the nearest ancestor agent span, else a fallback agent. What counts as "real"
 * and as an "agent span" is where real instrumentation needs care; each quirk has a rule here:
 *
 * - R1 placeholder names (genai quirk): opentelemetry-instrumentation-openai-agents-v2 0.1.0 puts
 *   `gen_ai.agent.name = "OpenAI Agent"` on chat/tool/"unknown" spans. A name is a placeholder
 *   when configured (`placeholderAgentNames`) or when the data shows it: non-agent spans carrying
 *   it sit under two or more different real agents.
 * - R2 placeholder ids (genai quirk): the same instrumentation sets `gen_ai.agent.id = "agent"` on
 *   every span, real agents included. An id is ignored when configured (`placeholderAgentIds`) or
 *   when it is used with two or more different agent names; the identity is then the name.
 * - R3 workflow roots (openinference quirk): "Agent workflow" is marked AGENT with no `agent.name`
 *   (and genai marks it `invoke_agent` without a name, handled in genai.ts). An agent span named
 *   only by its span name is demoted to structure (`chain`) when that name is a configured workflow
 *   name or when it contains another agent span.
 * - R4 agent-less LLM spans (openllmetry quirk): `openai.response` spans carry no agent at all;
 *   they get the nearest ancestor agent span (`<name>.agent`).
 * - R5 hand-offs belong to their source agent (`gen_ai.handoff.from_agent`, openinference
 *   `input.value`), else follow the general rule.
 */
import type { Agent, StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { str } from './attributes.js';
import { capName } from './text.js';
import type { ResolvedConventionsOptions } from './options.js';
import type { FactsByPosition } from './span-facts.js';
import type { SpanTree } from './span-tree.js';

export interface AgentAssignment {
  readonly agent: Agent;
  /** Kind after R3 (workflow roots demoted). */
  readonly kind: StepKind;
  /** Span id of the nearest agent span at or above this span (its agent invocation), if any. */
  readonly invocationId?: string;
  /** True when no agent attribute or agent ancestor was found and the fallback agent was used. */
  readonly fallback: boolean;
}

export interface AgentResolution {
  /** Each span's assignment, by its position in the episode order (`SpanTree.position`). */
  readonly bySpan: readonly AgentAssignment[];
  /** Agents in order of first appearance: those with an agent span or a rewardable step. */
  readonly agents: readonly Agent[];
  /** Real agent names known in the episode (for resolving hand-off targets). */
  readonly agentNames: ReadonlySet<string>;
}

export function resolveAgents(
  tree: SpanTree,
  facts: FactsByPosition,
  opts: ResolvedConventionsOptions,
  isRewardable: (kind: StepKind) => boolean,
): AgentResolution {
  const workflowNames = new Set(opts.workflowSpanNames);
  // The passes below walk the spans in order: their facts and kinds are held by position, looked
  // up once per span rather than once per pass (the walks up the tree look kinds up by id).
  const spans = tree.ordered;
  const factsAt = facts.at;
  // kinds by position (SpanTree.position finds a span's): no span id → kind map of its own
  const kindAt = factsAt.map((f) => f.kind);

  // R3: demote weakly named agent spans that are workflow roots or contain other agent spans.
  // Every agent span marks its nearest agent ancestor, so containment propagates upwards.
  const nearestAgentBefore = tree.nearestWhere((s) => facts.get(s.spanId)!.kind === 'agent');
  const containers = new Set<string>();
  for (let i = 0; i < spans.length; i++) {
    if (factsAt[i]!.kind !== 'agent') continue;
    const above = nearestAgentBefore(tree.parentOf(spans[i]!.spanId));
    if (above && facts.get(above.spanId)!.agentNameFromSpanName) containers.add(above.spanId);
  }
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const f = factsAt[i]!;
    if (f.kind === 'agent' && f.agentNameFromSpanName && (workflowNames.has(s.name) || containers.has(s.spanId))) kindAt[i] = 'chain';
  }

  const nearestAgentSpan = tree.nearestWhere((s) => kindAt[tree.position(s.spanId)!] === 'agent');

  // R1 (data part): names on non-agent spans that sit under 2+ different real agent spans.
  const placeholderNames = new Set(opts.placeholderAgentNames);
  const underAgents = new Map<string, Set<string>>();
  for (let i = 0; i < spans.length; i++) {
    const f = factsAt[i]!;
    if (kindAt[i] === 'agent' || f.agentName === undefined) continue;
    const inv = nearestAgentSpan(spans[i]!.spanId);
    const invName = inv ? facts.get(inv.spanId)!.agentName : undefined;
    if (invName === undefined || invName === f.agentName) continue;
    const set = underAgents.get(f.agentName) ?? new Set<string>();
    set.add(invName);
    underAgents.set(f.agentName, set);
  }
  for (const [name, set] of underAgents) if (set.size >= 2) placeholderNames.add(name);
  // (Helpers below are module functions, not closures: under tsx — the benchmarks, dev runs — esbuild's
  // keepNames wraps every named closure in an Object.defineProperty call each time it is created.)

  // agentScope: the resource values that tell apart same-named agents of different apps
  const scopeOf = scopeFrom(opts.agentScope);
  // R2: ids that are configured placeholders or shared by several real names are not identities —
  // shared within a scope: apps told apart by agentScope may well reuse each other's ids, and an
  // id that names one agent in its own app's traces must name it in a trace that crosses apps too
  // Keys are ids and names told apart by scope (`inScope`). Without agentScope (the default) every
  // scope is '': the id or name is its own key, not a new string per span and lookup.
  const scopes = opts.agentScope.length === 0 ? undefined : scopeOf;
  const namesById = new Map<string, Set<string>>();
  for (let i = 0; i < spans.length; i++) {
    const f = factsAt[i]!;
    const n = realName(placeholderNames, f.agentName);
    if (f.agentId === undefined || n === undefined) continue;
    const key = inScope(scopes, f.agentId, spans[i]!);
    const set = namesById.get(key) ?? new Set<string>();
    set.add(n);
    namesById.set(key, set);
  }
  const configuredPlaceholderIds = new Set(opts.placeholderAgentIds);
  const sharedIds = new Set<string>();
  for (const [key, names] of namesById) if (names.size >= 2) sharedIds.add(key);
  // One identity per name (per scope): the first real id seen with it, else the name itself.
  const idByName = new Map<string, string>();
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const f = factsAt[i]!;
    const n = realName(placeholderNames, f.agentName);
    if (n !== undefined && f.agentId !== undefined && !configuredPlaceholderIds.has(f.agentId) && !sharedIds.has(inScope(scopes, f.agentId, s)) && !idByName.has(inScope(scopes, n, s))) {
      idByName.set(inScope(scopes, n, s), f.agentId);
    }
  }

  // Agent spans that name a real agent (an agent span with a placeholder name is attributed to
  // the real agent around it), and tool spans whose work below them is another agent's (CrewAI
  // delegation, crewai.ts W1: the span is its caller's step, what runs under it the coworker's).
  const nearestScope = tree.nearestWhere((x) => {
    const f = facts.get(x.spanId)!;
    return f.delegatesTo !== undefined || (kindAt[tree.position(x.spanId)!] === 'agent' && realName(placeholderNames, f.agentName) !== undefined);
  });

  const bySpan: AgentAssignment[] = [];
  const agentNames = new Set<string>();
  for (let i = 0; i < spans.length; i++) {
    const f = factsAt[i]!;
    if (kindAt[i] === 'agent' && realName(placeholderNames, f.agentName) !== undefined) agentNames.add(f.agentName!);
  }
  const firstSeen = new Map<string, Agent>();
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const f = factsAt[i]!;
    const kind = kindAt[i]!;
    // a delegating tool's own step is its caller's: its scope starts above it
    const inv = f.delegatesTo !== undefined ? nearestScope(tree.parentOf(s.spanId)) : nearestScope(s.spanId);
    const invFacts = inv ? facts.get(inv.spanId)! : undefined;
    const invName = invFacts ? invFacts.delegatesTo ?? invFacts.agentName : undefined;
    // A name taken only from the span name is no agent attribute once R3 demoted the span.
    const ownName = f.agentNameFromSpanName && kind !== 'agent' ? undefined : realName(placeholderNames, f.agentName);
    const own = kind === 'handoff' ? realName(placeholderNames, f.handoffFrom) ?? ownName : ownName;
    const name = own ?? invName;
    let assignment: AgentAssignment;
    if (name !== undefined) {
      // the agent called `name` where the span that names it runs
      const namer = own !== undefined || !inv ? s : inv;
      assignment = { agent: { agentId: scoped(scopeOf, idByName.get(inScope(scopes, name, namer)) ?? name, namer), agentName: name }, kind, fallback: false, invocationId: inv?.spanId };
    } else {
      const fb = capName(opts.fallbackAgentName ?? str(s.resource.attributes, 'service.name') ?? 'unattributed');
      assignment = { agent: { agentId: scoped(scopeOf, fb, s), agentName: fb }, kind, fallback: true };
    }
    bySpan.push(assignment);
    const counts = kind === 'agent' || isRewardable(kind);
    if (counts && !firstSeen.has(assignment.agent.agentId)) firstSeen.set(assignment.agent.agentId, assignment.agent);
  }
  return { bySpan, agents: [...firstSeen.values()], agentNames };
}

/** `n` unless it is a placeholder name (R1). */
function realName(placeholderNames: ReadonlySet<string>, n: string | undefined): string | undefined {
  return n !== undefined && !placeholderNames.has(n) ? n : undefined;
}

/** An agent id in its span's scope (`scope/id`; the id itself without a scope). */
function scoped(scopeOf: (span: Span) => string, id: string, span: Span): string {
  const scope = scopeOf(span);
  return scope === '' ? id : `${scope}/${id}`;
}

/** An id or name as told apart within the scope of `span` (the same text in two scopes: two keys); itself without agentScope. */
function inScope(scopeOf: ((span: Span) => string) | undefined, idOrName: string, span: Span): string {
  return scopeOf === undefined ? idOrName : `${scopeOf(span)}\u0000${idOrName}`;
}

/**
 * The scope of a span's agent: the values of `keys` on its resource, each cut to MAX_NAME_BYTES as
 * names and ids are (capName: a resource attribute is the sender's, and a scoped id is every
 * event's agent_id and a label of every per-agent series on /metrics), joined by `/` ('' when none).
 */
function scopeFrom(keys: readonly string[]): (span: Span) => string {
  if (keys.length === 0) return () => '';
  return (span) =>
    keys
      .map((k) => str(span.resource.attributes, k))
      .filter((v): v is string => v !== undefined && v !== '')
      .map(capName)
      .join('/');
}
