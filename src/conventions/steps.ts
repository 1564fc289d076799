/**
 * `stepsFromSpans`: one whole episode's spans → agent steps, agents and warnings.
 *
 * Every span becomes a step (unknown spans as kind `other`, structure they carry is kept for
 * causality); only `llm`, `tool` and `handoff` steps are rewardable. Mappers are tried in a fixed
 * order, first match wins: OpenInference (explicit `openinference.span.kind`), OpenLLMetry
 * (`traceloop.span.kind`, legacy `llm.request.type`), Vercel AI SDK (`ai.operationId`), GenAI
 * (`gen_ai.operation.name`).
 * OpenInference goes first because its kind attribute is unambiguous; OpenLLMetry before GenAI
 * because it writes `gen_ai.*` beside its own kind, which is the more specific one.
 */
import type { Agent, AgentStep, Evaluation, StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { str } from './attributes.js';
import { resolveAgents } from './agents.js';
import { linkCausalInputs, type CausalStepInput } from './causality.js';
import { AI_SDK_AGENT_ATTRIBUTE, aiSdkMapper, aiSdkMapperFor } from './ai-sdk.js';
import { refineLangGraphAgents } from './langgraph.js';
import { refineCrewAIDelegations } from './crewai.js';
import { refineMastraSteps } from './mastra.js';
import { refineLlamaIndexAgents } from './llamaindex.js';
import { evaluationsFromTree, isFailingEvaluation, isRunLevelSpan, WEB_FRAMEWORK_ATTRIBUTES, type EvaluationScoreRange, type EvaluationThresholds } from './evaluations.js';
import { genaiMapper } from './genai.js';
import { DEFAULT_LABEL_SCORES } from './labels.js';
import { openinferenceMapper } from './openinference.js';
import { openllmetryMapper } from './openllmetry.js';
import { ConventionsOptionsSchema, resolveConventionsOptions, type ConventionsOptions, type ResolvedConventionsOptions } from './options.js';
import { collapseRerecordedCalls } from './rerecorded-calls.js';
import { FactsByPosition, NO_CALLS, NO_IDS, type ConventionMapper, type SpanFacts } from './span-facts.js';
import { SpanTree } from './span-tree.js';
import { deferDigests } from './step-digests.js';
import { capName, digestOf, truncateUtf8 } from './text.js';

/**
 * The AI SDK goes before GenAI: its model-call spans carry `gen_ai.*` beside its own `ai.*`
 * (`gen_ai.system`, `gen_ai.request.model`, `gen_ai.usage.*`, …), so a GenAI reading of them —
 * today they lack `gen_ai.operation.name`, a later SDK may add it — would lose the prompt, the
 * tool calls and the agent, which only the `ai.*` attributes hold. It goes after OpenInference
 * and OpenLLMetry: a span processor that appends its convention's attributes to AI SDK spans
 * (`@arizeai/openinference-vercel` appends OpenInference ones; the Traceloop SDK writes
 * `llm.request.type` and flattened `gen_ai.prompt.N.*` on the model calls) was installed to have
 * them read that way, and they are read as before.
 */
export const MAPPERS: readonly ConventionMapper[] = [openinferenceMapper, openllmetryMapper, aiSdkMapper, genaiMapper];

const REWARDABLE: ReadonlySet<StepKind> = new Set(['llm', 'tool', 'handoff']);
export const isRewardableKind = (kind: StepKind): boolean => REWARDABLE.has(kind);

const UNKNOWN_FACTS: SpanFacts = Object.freeze(canonicalFacts({ convention: 'unknown', kind: 'other', issuedCalls: NO_CALLS, historyCalls: NO_CALLS, consumedCallIds: NO_IDS }));

const MAX_WARNINGS = 50;

/** Longest warning text of an episode (a warning may quote span names). */
const MAX_WARNING_BYTES = 1024;

/**
 * `f` as every step draft holds it: its names and ids cut to MAX_NAME_BYTES, and every member
 * declared, in one order (undefined when absent). The mappers' facts had 16 member sets (V8 maps)
 * over the bench fleet, so each read of a fact in the episode passes (agents, causal links, steps)
 * was megamorphic; one object shape now, built in one literal instead of dropping undefined
 * members key by key (`compact`) and copying again to cut a name.
 */
function canonicalFacts(f: SpanFacts): SpanFacts {
  return {
    convention: f.convention,
    kind: f.kind,
    agentName: capName(f.agentName),
    agentId: capName(f.agentId),
    agentNameFromSpanName: f.agentNameFromSpanName,
    langGraphAgent: f.langGraphAgent,
    toolName: capName(f.toolName),
    recordedToolName: f.recordedToolName,
    toolCallId: capName(f.toolCallId),
    toolArgs: f.toolArgs,
    graphNodeId: capName(f.graphNodeId),
    graphParentNodeId: capName(f.graphParentNodeId),
    delegatesTo: f.delegatesTo,
    handoffFrom: capName(f.handoffFrom),
    handoffTo: capName(f.handoffTo),
    inputText: f.inputText,
    outputText: f.outputText,
    usage: f.usage,
    issuedCalls: f.issuedCalls,
    historyCalls: f.historyCalls,
    consumedCallIds: f.consumedCallIds,
    endedOnToolCall: f.endedOnToolCall,
  };
}

/** `MAPPERS` with the AI SDK mapper naming agents by `aiSdkAgentAttributes` (the same array for the default). */
const mappersByAgentAttributes = new Map<string, readonly ConventionMapper[]>();
function mappersFor(aiSdkAgentAttributes: readonly string[]): readonly ConventionMapper[] {
  if (aiSdkAgentAttributes.length === 1 && aiSdkAgentAttributes[0] === AI_SDK_AGENT_ATTRIBUTE) return MAPPERS;
  const key = aiSdkAgentAttributes.join('\u0000');
  let mappers = mappersByAgentAttributes.get(key);
  if (mappers === undefined) {
    if (mappersByAgentAttributes.size >= 16) mappersByAgentAttributes.clear(); // a config has one; bound odd callers
    const aiSdk = aiSdkMapperFor(aiSdkAgentAttributes);
    mappersByAgentAttributes.set(key, (mappers = MAPPERS.map((m) => (m === aiSdkMapper ? aiSdk : m))));
  }
  return mappers;
}

/**
 * Facts of one span by the first mapper that recognises it; a mapper that throws counts as no match.
 * `mappers`: default `MAPPERS` (what `stepsFromSpans` uses with the default options).
 */
export function factsOf(span: Span, mappers: readonly ConventionMapper[] = MAPPERS): SpanFacts {
  for (const mapper of mappers) {
    try {
      const f = mapper(span);
      if (f) return canonicalFacts(f);
    } catch {
      // A mapper bug on odd input must not lose the span: fall through to the next convention.
    }
  }
  return UNKNOWN_FACTS;
}

/** The conventions options' keys: what `resolveConventionsOptions` reads of a `StepsFromSpansOptions`. */
const CONVENTIONS_KEYS = Object.keys(ConventionsOptionsSchema.shape) as (keyof ConventionsOptions)[];

/** The option values (by CONVENTIONS_KEYS) `lastResolved` was made from. */
let lastOptionValues: unknown[] | undefined;
let lastResolved: ResolvedConventionsOptions | undefined;

/**
 * `resolveConventionsOptions(options)`, the last answer kept (one entry): processEpisode passes
 * the same configured values for every episode (its `conventions` spread into a new object with
 * the episode's evaluations), and validating them again with zod per episode cost ~1 % of
 * processEpisode. Values are compared by identity: option arrays are a configuration's, not
 * changed in place. Invalid options are never kept: they throw on every call.
 */
function resolvedOptionsOf(options: StepsFromSpansOptions | undefined): ResolvedConventionsOptions {
  const last = lastOptionValues;
  if (last !== undefined) {
    let same = true;
    for (let i = 0; i < CONVENTIONS_KEYS.length && same; i++) same = options?.[CONVENTIONS_KEYS[i]!] === last[i];
    if (same) return lastResolved!;
  }
  const resolved = resolveConventionsOptions(options);
  lastOptionValues = CONVENTIONS_KEYS.map((k) => options?.[k]);
  lastResolved = resolved;
  return resolved;
}

export interface StepsFromSpansOptions extends ConventionsOptions {
  /**
   * Evaluations already known for this episode (e.g. from logs). Span-level ones that fail their
   * target (evaluations.ts `isFailingEvaluation`) set `flaggedErroneous` on that step; evaluations of
   * a root span are system-level and flag nothing. Span events and EVALUATOR spans are read anyway.
   */
  evaluations?: readonly Evaluation[];
  labelScores?: Readonly<Record<string, number>>;
  /**
   * Score range per evaluation name (the credit stage's `normalization`): a span-level score is
   * read the right way up (`higherIsBetter: false`) and mapped from its range before it is
   * compared with τ (`stepThresholds`).
   */
  scoreRanges?: Readonly<Record<string, EvaluationScoreRange>>;
  /**
   * The credit stage's `successThreshold`, `defaultSuccessThreshold` and `normalize`: a span-level
   * evaluation of a name listed there (or in `scoreRanges`) flags its step when its R is below τ,
   * as the run verdict fails the run; other names' scores flag only at ≤ 0. Default τ 0.5.
   */
  stepThresholds?: EvaluationThresholds;
  /**
   * What `evaluationsFromTree` (or `evaluationsFromSpans`) already read from these same spans with
   * the default label table, when the caller has it: used instead of reading span events and
   * EVALUATOR spans a second time. Ignored when `labelScores` is given (another table).
   */
  spanEvaluations?: readonly Evaluation[];
  /**
   * `'eager'` (default): every step carries its `inputDigest` / `outputDigest`. `'on-read'`: they
   * are computed when read through `inputDigestOf` / `outputDigestOf` (./step-digests.ts), for a
   * caller that hands the steps only to code that reads them so (processEpisode: the credit
   * engine and the events). The full texts are held until the caller passes the steps to
   * `releaseDeferredDigests` (exported with them): steps never released are never collected.
   */
  digests?: 'eager' | 'on-read';
}

export interface StepsFromSpansResult {
  steps: AgentStep[];
  agents: Agent[];
  warnings: string[];
}

/**
 * Maps all spans of one episode (a trace or a conversation) to steps, in causal order (start
 * time, then depth, then end time, then span id: SpanTree). Pure and total: never throws on any
 * span content, except for invalid options (an Error naming the key).
 */
export function stepsFromSpans(spans: readonly Span[], options?: StepsFromSpansOptions): StepsFromSpansResult {
  return stepsFromTree(new SpanTree(spans), options);
}

/** `stepsFromSpans` over an already built tree of the episode's spans (built once per episode). */
export function stepsFromTree(tree: SpanTree, options?: StepsFromSpansOptions): StepsFromSpansResult {
  const opts = resolvedOptionsOf(options);
  const warnings: string[] = [];
  if (tree.duplicates > 0) warnings.push(`${tree.duplicates} duplicate span(s) ignored (same span id; first kept)`);
  if (tree.contentOrphans > 0) warnings.push(`${tree.contentOrphans} GenAI content event(s) (log records with message contents) name a span this episode does not hold: ignored`);
  if (tree.cyclesBroken > 0) warnings.push(`${tree.cyclesBroken} parent cycle(s) in the span ids: each broken at its earliest span, which is treated as a root`);

  const mappers = mappersFor(opts.aiSdkAgentAttributes);
  const facts = new FactsByPosition(tree, tree.ordered.map((s) => factsOf(s, mappers)));
  // L1: LangGraph agents under OpenInference's LangChain instrumentor (agent graphs, hand-off tools)
  refineLangGraphAgents(tree, facts);
  // W1: CrewAI delegation tools run a coworker agent below them
  refineCrewAIDelegations(tree, facts);
  // M1: Mastra's model steps record the calls their chat span issued and read
  refineMastraSteps(tree, facts);
  // X1: LlamaIndex workflow agents name themselves only inside their steps' event reprs
  refineLlamaIndexAgents(tree, facts);
  // D1: a call recorded twice (framework span + provider SDK span inside it) is one step
  const rerecorded = collapseRerecordedCalls(tree, facts);
  const resolution = resolveAgents(tree, facts, opts, isRewardableKind);

  // Causal rules compare times: they read each span on its parent's clock (SpanTree.clockOffset),
  // so a remote agent whose host's clock is off is not read as running before its caller or
  // after the step that read its result.
  let fallbackRewardable = 0;
  const drafts: CausalStepInput[] = tree.ordered.map((span, i) => {
    const a = resolution.bySpan[i]!;
    const rewardable = isRewardableKind(a.kind);
    if (rewardable && a.fallback) fallbackRewardable++;
    return {
      span: tree.adjusted(span),
      facts: facts.at[i]!,
      kind: a.kind,
      rewardable,
      agentId: a.agent.agentId,
      agentName: a.agent.agentName,
      invocationId: a.invocationId,
    };
  });
  const links = linkCausalInputs(tree, drafts, resolution.agentNames);
  warnings.push(...links.warnings);

  if (fallbackRewardable > 0) {
    warnings.push(`${fallbackRewardable} rewardable step(s) have no agent attribute and no agent ancestor: attributed to the fallback agent`);
  }

  // Span-level evaluations flag the step they evaluate.
  const labelScores = options?.labelScores ?? DEFAULT_LABEL_SCORES;
  const flagged = new Set<string>();
  const fromSpans =
    options?.spanEvaluations !== undefined && options.labelScores === undefined ? options.spanEvaluations : evaluationsFromTree(tree, { labelScores });
  for (const evals of [fromSpans, options?.evaluations ?? []]) {
    for (const ev of evals) {
      if (ev.spanId === undefined || !tree.byId.has(ev.spanId) || isRunLevelSpan(tree, ev.spanId)) continue; // a run-level verdict scores the run, not a step
      // a verdict joined to the inner copy of a re-recorded call (by its response id) flags the call's step
      if (isFailingEvaluation(ev, labelScores, options?.scoreRanges, options?.stepThresholds)) flagged.add(rerecorded.into.get(ev.spanId) ?? ev.spanId);
    }
  }

  const deferDigests = options?.digests === 'on-read';
  const steps = drafts.map((d, i) => buildStep(d, links.inputs[i]!, tree, links, flagged, opts.maxTextBytes, deferDigests));
  // A span that matches no convention but holds recognised spans below it is the application's own
  // structure (a request or workflow span around the agents): expected, and warned about on every
  // episode it would only teach operators to ignore the warning. So is the app's web, DB and RPC
  // instrumentation outside the agents (`isInstrumentationSpan` with no recognised span above it:
  // Express's middleware, the handler's SQL query, its call to another service), one set per
  // request, and the request a recorded model call sends. The others may be steps an
  // instrumentation missed — an unknown agent framework's spans, or an HTTP call inside an agent
  // but outside a model call (a model call no instrumentation recorded).
  const holders = new Set<string>();
  for (const d of drafts) {
    if (d.facts.convention === 'unknown') continue;
    for (let p = tree.parentOf(d.span.spanId); p !== undefined && !holders.has(p); p = tree.parentOf(p)) holders.add(p);
  }
  const recognisedAbove = (id: string): SpanFacts | undefined => {
    for (let p = tree.parentOf(id); p !== undefined; p = tree.parentOf(p)) if (facts.get(p)!.convention !== 'unknown') return facts.get(p);
    return undefined;
  };
  // Under a recorded model call such a span is that call's own request (Node's undici or http
  // instrumentation below the chat span of an LLM SDK): no model call is missing, and counting it
  // warned on every episode of an app with the auto-instrumentations on.
  const appOrTransport = (d: CausalStepInput): boolean => {
    if (!isInstrumentationSpan(d.span)) return false;
    const above = recognisedAbove(d.span.spanId);
    return above === undefined || above.kind === 'llm';
  };
  const unknown = drafts.filter((d) => d.facts.convention === 'unknown' && !holders.has(d.span.spanId) && !appOrTransport(d)).length;
  if (unknown > 0) warnings.push(`${unknown} span(s) match no known convention and hold no recognised span: kept as structure (kind other)`);
  return {
    steps,
    agents: [...resolution.agents],
    warnings: (warnings.length > MAX_WARNINGS ? [...warnings.slice(0, MAX_WARNINGS), `… ${warnings.length - MAX_WARNINGS} more warnings`] : warnings).map((w) => truncateUtf8(w, MAX_WARNING_BYTES)),
  };
}

/** OTLP SpanKind SERVER, CLIENT, PRODUCER and CONSUMER: a request or message crossing a process. */
const REMOTE_KINDS: ReadonlySet<number> = new Set([2, 3, 4, 5]);

/**
 * Attribute prefixes of the web, database, RPC, messaging and network semantic conventions, and
 * of the ASGI instrumentation (FastAPI, Starlette: `POST /chat http receive` / `http send`, whose
 * body chunks carry only `asgi.event.type`).
 */
const INSTRUMENTATION_PREFIXES = ['http.', 'url.', 'db.', 'rpc.', 'messaging.', 'net.', 'network.', 'asgi.'];

/**
 * A span of web, database or infrastructure instrumentation: a SERVER, CLIENT, PRODUCER or
 * CONSUMER span, one carrying an attribute of those conventions, or a web framework's middleware
 * or handler span (`WEB_FRAMEWORK_ATTRIBUTES`: `express.type`, `fastify.type`, …).
 */
function isInstrumentationSpan(span: Span): boolean {
  if (REMOTE_KINDS.has(span.kind)) return true;
  for (const key of Object.keys(span.attributes)) if (INSTRUMENTATION_PREFIXES.some((p) => key.startsWith(p)) || WEB_FRAMEWORK_ATTRIBUTES.includes(key)) return true;
  return false;
}

function statusOf(span: Span, maxTextBytes: number): AgentStep['status'] {
  // a loop, not find(): a callback closure per step built
  let exception: Span['events'][number] | undefined;
  for (let i = 0; i < span.events.length && exception === undefined; i++) if (span.events[i]!.name === 'exception') exception = span.events[i];
  if (span.status.code !== 2 && exception === undefined) return { ok: true };
  let message = span.status.message;
  if (message === undefined || message === '') {
    const type = exception ? str(exception.attributes, 'exception.type') : undefined;
    const msg = exception ? str(exception.attributes, 'exception.message') : undefined;
    message = [type, msg].filter((x) => x !== undefined).join(': ') || undefined;
  }
  return message !== undefined ? { ok: false, message: truncateUtf8(message, maxTextBytes) } : { ok: false };
}

function buildStep(
  d: CausalStepInput,
  causalInputs: string[],
  tree: SpanTree,
  links: ReturnType<typeof linkCausalInputs>,
  flagged: ReadonlySet<string>,
  maxTextBytes: number,
  deferredDigests: boolean,
): AgentStep {
  const { span, facts } = d;
  const step: AgentStep = {
    stepId: span.spanId,
    traceId: span.traceId,
    agentId: d.agentId,
    agentName: d.agentName,
    kind: d.kind,
    rewardable: d.rewardable,
    convention: facts.convention,
    name: capName(span.name)!,
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    status: statusOf(span, maxTextBytes),
    causalInputs, // the linker's list, made for this step
    // Every optional member declared up front (set below when it applies), in the order they were
    // added one by one before: adding only the present ones gave steps 9 V8 maps over the bench
    // fleet, so every step read in the credit engine was megamorphic; one map now. JSON unchanged
    // (undefined members are omitted), as are the present members' order.
    clockOffsetNano: undefined,
    parentStepId: undefined,
    toolName: undefined,
    toolCallId: undefined,
    handoffTo: undefined,
    inputDigest: undefined,
    inputText: undefined,
    outputDigest: undefined,
    outputText: undefined,
    usage: undefined,
    flaggedErroneous: undefined,
  };
  const offset = tree.clockOffset(span.spanId);
  if (offset !== 0n) step.clockOffsetNano = offset;
  const parent = tree.parentOf(span.spanId);
  if (parent !== undefined) step.parentStepId = parent;
  if (facts.toolName !== undefined && (d.kind === 'tool' || d.kind === 'handoff')) step.toolName = facts.toolName;
  const callId = facts.toolCallId ?? links.inferredCallIds.get(span.spanId);
  if (callId !== undefined) step.toolCallId = callId;
  if (d.kind === 'handoff') {
    const to = facts.handoffTo ?? links.inferredHandoffTo.get(span.spanId);
    if (to !== undefined) step.handoffTo = to;
  }
  if (facts.inputText !== undefined) {
    if (!deferredDigests) step.inputDigest = digestOf(facts.inputText);
    step.inputText = truncateUtf8(facts.inputText, maxTextBytes, 'tail');
  }
  if (facts.outputText !== undefined) {
    if (!deferredDigests) step.outputDigest = digestOf(facts.outputText);
    step.outputText = truncateUtf8(facts.outputText, maxTextBytes, 'head');
  }
  if (deferredDigests && (facts.inputText !== undefined || facts.outputText !== undefined)) deferDigests(step, facts.inputText, facts.outputText);
  if (facts.usage !== undefined) step.usage = { ...facts.usage };
  if (flagged.has(span.spanId)) step.flaggedErroneous = true;
  return step;
}
