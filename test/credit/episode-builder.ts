/**
 * Builds AgentStep lists for constructed episodes (the model after convention mapping; the OTLP
 * path is covered by the fixture test). Ids are deterministic hex.
 */
import type { AgentStep, StepKind } from '../../src/model/agents.js';
import type { CreditInput } from '../../src/credit/index.js';

const TRACE = 'a'.repeat(32);

export function sid(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export interface StepSpec {
  id: number;
  agent: string;
  kind?: StepKind;
  name?: string;
  inputs?: number[];
  parent?: number;
  ok?: boolean;
  flagged?: boolean;
  tool?: string;
  digest?: string;
  /** start time (ms); default = id */
  t?: number;
  rewardable?: boolean;
}

export function step(s: StepSpec): AgentStep {
  const t = BigInt(s.t ?? s.id) * 1_000_000n;
  const kind = s.kind ?? 'llm';
  return {
    stepId: sid(s.id),
    traceId: TRACE,
    agentId: s.agent,
    agentName: s.agent,
    kind,
    rewardable: s.rewardable ?? (kind === 'llm' || kind === 'tool' || kind === 'handoff'),
    convention: 'genai',
    name: s.name ?? `${kind} ${s.id}`,
    startTimeUnixNano: t,
    endTimeUnixNano: t + 500_000n,
    status: s.ok === false ? { ok: false, message: 'boom' } : { ok: true },
    ...(s.parent !== undefined ? { parentStepId: sid(s.parent) } : {}),
    causalInputs: (s.inputs ?? []).map(sid),
    ...(s.tool !== undefined ? { toolName: s.tool } : {}),
    ...(s.digest !== undefined ? { outputDigest: s.digest } : {}),
    ...(s.flagged ? { flaggedErroneous: true } : {}),
    outputText: `output of ${s.id}`,
    inputText: `input of ${s.id}`,
  };
}

export function episode(steps: AgentStep[], score: number | undefined, extra: Partial<CreditInput> = {}): CreditInput {
  const agents = [...new Map(steps.map((s) => [s.agentId, { agentId: s.agentId, agentName: s.agentName }])).values()];
  return {
    episodeId: TRACE,
    revision: 0,
    traceIds: [TRACE],
    steps,
    agents,
    ...(score !== undefined ? { evaluation: { name: 'task_success', score, source: 'log-event' as const, timeUnixNano: 0n } } : {}),
    closeReason: 'root-ended',
    lateSpans: 0,
    duplicateSpans: 0,
    ...extra,
  };
}

/**
 * Planner → researcher (tool) → writer: the three-agent example of docs/credit.md.
 * 1 planner llm plans; 2 researcher llm; 3 researcher search tool (fails); 4 researcher retries the
 * search (ok); 5 researcher summary (duplicates an earlier digest? no); 6 a dead-end note by the
 * planner that nothing consumes; 7 writer drafts the answer from 5.
 */
export function threeAgentSteps(opts: { toolFails?: boolean; sabotage?: boolean } = {}): AgentStep[] {
  return [
    step({ id: 1, agent: 'planner', name: 'plan' }),
    step({ id: 2, agent: 'researcher', name: 'decide search', inputs: [1] }),
    step({ id: 3, agent: 'researcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [2], ok: !opts.toolFails }),
    step({ id: 4, agent: 'researcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [2, 3] }),
    step({ id: 5, agent: 'researcher', name: 'summarize', inputs: [4], ...(opts.sabotage ? { flagged: true } : {}) }),
    step({ id: 6, agent: 'planner', name: 'side note', inputs: [1] }),
    step({ id: 7, agent: 'writer', name: 'answer', inputs: [5, 1] }),
  ];
}
