/**
 * W1 — CrewAI delegation under OpenInference's CrewAI instrumentor.
 *
 * Sources (checked): Arize-ai/openinference `openinference-instrumentation-crewai` 1.1.12 `_wrappers.py`
 * (`_BaseToolRunWrapper`: a tool run is a TOOL span `<tool name>.run` with `tool.name`, `input.value` the JSON of
 * its keyword arguments and CrewAI's own `tool.result_as_answer` / `tool.description_updated`;
 * `_ExecuteCoreWrapper`: a task is an AGENT span `<role>.<task>._execute_core` with `graph.node.id` = the role;
 * `_CrewKickoffWrapper`: the crew's CHAIN span holds `crew_agents`, JSON `[{role, …}]`). crewAIInc/crewAI 1.15
 * `tools/agent_tools/base_agent_tools.py`: the delegation tools `Delegate work to coworker` and `Ask question to
 * coworker` (`delegate_work_tool.py`, `ask_question_tool.py`; arguments `task` / `question`, `context`,
 * `coworker`) run the coworker named by `coworker` (whitespace collapsed, `"` removed, case-folded, matched to
 * an agent's role; a `[a, b]` list names its first) with `selected_agent.execute_task(...)` — not through
 * `Task._execute_core` nor `Agent.kickoff`, so no AGENT span names it: its model and tool calls are children
 * of the TOOL span. A hierarchical crew runs every task as its manager (`crew.py` `_create_manager_agent`),
 * so all of its coworkers' work is recorded so.
 *
 * Rule: such a TOOL span (CrewAI's tool attributes, a delegation tool name, a `coworker` argument) stays its
 * caller's tool step, and the steps below it belong to the coworker — the role it names as `crew_agents` or a
 * task span's `graph.node.id` spells it, else as the model wrote it (agents.ts, `delegatesTo`). Before, they
 * were the manager's (R4), and a hierarchical crew's whole credit went to its manager.
 *
 * W2 — the name the model called a CrewAI tool by. The TOOL span's `tool.name` is the tool's display name
 * (`Search the internet with Serper`) and it has no `tool.id`, while the model calls it by
 * `sanitize_tool_name(name)` (crewAIInc/crewAI 1.15.17 `utilities/string_utils.py`; `utilities/agent_utils.py`
 * `convert_tools_to_openai_schema` names the function so, `crew_agent_executor.py` `_parse_native_tool_call`
 * and `ToolUsageStartedEvent` use it): C3 matched no CrewAI tool to its call. Sequential calls were still
 * chained by C4 (order), but the tools of one response run side by side (`_handle_native_tool_calls`,
 * `ThreadPoolExecutor`) and C4 gave the next model call only the one that ended last: the others reached no
 * output (a coworker asked in parallel got 0 credit). Rule: a tool step of CrewAI's (its tool attributes) is
 * named as the model called it, so C3 matches it by name and arguments (`input.value` the keyword arguments).
 */
import { createHash } from 'node:crypto';
import type { Span } from '../model/telemetry.js';
import { isRecord, str, structured } from './attributes.js';
import type { SpanFactsLookup, SpanFactsTable } from './span-facts.js';
import type { SpanTree } from './span-tree.js';
import { capName } from './text.js';

/** crewai `utilities/agent_utils.py` DELEGATION_TOOL_NAMES, as `sanitize_tool_name` writes them. */
const DELEGATION_TOOLS: ReadonlySet<string> = new Set(['delegate_work_to_coworker', 'ask_question_to_coworker']);

/** crewai 1.15.17 `utilities/string_utils.py` `sanitize_tool_name`: the name the model calls a tool by. */
export function crewaiToolName(name: string): string {
  let n = name
    .normalize('NFKD')
    .replace(/[^\x00-\x7f]/g, '') // encode("ascii", "ignore")
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/['"]+/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (n.length > MAX_TOOL_NAME) {
    const suffix = `_${createHash('sha256').update(n).digest('hex').slice(0, 8)}`;
    n = n.slice(0, MAX_TOOL_NAME - suffix.length).replace(/_+$/, '') + suffix;
  }
  return n;
}

/** crewai `_MAX_TOOL_NAME_LENGTH` (OpenAI's limit on function names). */
const MAX_TOOL_NAME = 64;

/** A tool span written by the CrewAI instrumentor (wrapper mode: `_BaseToolRunWrapper`'s own attributes). */
export function isCrewAITool(span: Span): boolean {
  return span.attributes['tool.result_as_answer'] !== undefined || span.attributes['tool.description_updated'] !== undefined;
}

/** crewai `BaseAgentTool.sanitize_agent_name`. */
const agentKey = (name: string): string => name.split(/\s+/).filter((w) => w !== '').join(' ').replace(/"/g, '').toLowerCase();

/** The coworker a delegation tool span names (crewai `BaseAgentTool._get_coworker`), as written. */
function coworkerOf(span: Span): string | undefined {
  const args = structured(span.attributes, 'input.value');
  if (!isRecord(args)) return undefined;
  let c = [args['coworker'], args['co_worker']].find((v): v is string => typeof v === 'string' && v.trim() !== '');
  if (c === undefined) return undefined;
  if (c.startsWith('[') && c.endsWith(']')) c = c.slice(1, -1).split(',')[0]!;
  const name = c.split(/\s+/).filter((w) => w !== '').join(' ').replace(/"/g, '');
  return name === '' ? undefined : name;
}

/** Roles of the crew's agents as written: `crew_agents` on the kickoff spans, `graph.node.id` of the task spans. */
function crewRoles(tree: SpanTree, facts: SpanFactsLookup): Map<string, string> {
  const roles = new Map<string, string>();
  for (const s of tree.ordered) {
    const f = facts.get(s.spanId)!;
    if (f.convention !== 'openinference') continue;
    if (f.kind === 'agent' && f.graphNodeId !== undefined && !roles.has(agentKey(f.graphNodeId))) roles.set(agentKey(f.graphNodeId), f.graphNodeId);
    if (str(s.attributes, 'crew_agents') === undefined) continue;
    const agents = structured(s.attributes, 'crew_agents');
    if (!Array.isArray(agents)) continue;
    for (const a of agents) {
      const role = isRecord(a) && typeof a['role'] === 'string' ? a['role'].trim() : '';
      if (role !== '' && !roles.has(agentKey(role))) roles.set(agentKey(role), role);
    }
  }
  return roles;
}

/**
 * W2: names CrewAI tool steps as the model called them; W1: marks CrewAI delegation tool spans with the coworker
 * whose work is below them. Returns whether any delegation was found.
 */
export function refineCrewAIDelegations(tree: SpanTree, facts: SpanFactsTable): boolean {
  let roles: Map<string, string> | undefined;
  let found = false;
  for (const s of tree.ordered) {
    let f = facts.get(s.spanId)!;
    if (f.convention !== 'openinference' || f.kind !== 'tool' || f.toolName === undefined || !isCrewAITool(s)) continue;
    const called = crewaiToolName(f.toolName);
    if (called !== '' && called !== f.toolName) facts.set(s.spanId, (f = { ...f, toolName: called, recordedToolName: f.toolName }));
    if (!DELEGATION_TOOLS.has(called)) continue;
    const coworker = coworkerOf(s);
    if (coworker === undefined) continue;
    roles ??= crewRoles(tree, facts);
    facts.set(s.spanId, { ...f, delegatesTo: capName(roles.get(agentKey(coworker)) ?? coworker) });
    found = true;
  }
  return found;
}
