import type { AgentStep } from '../../src/model/agents.js';

/** A small coding episode as the conventions stage would hand it over (AgentStep shape). */
export function codingEpisode(episodeId = 'ep-1'): { episodeId: string; steps: AgentStep[]; rubric: { required: string[]; forbidden: string[] } } {
  const msgs: [string, AgentStep['kind'], string][] = [
    ['planner', 'llm', 'Plan: write parseCursor and encodeCursor.'],
    ['coder', 'tool', 'docs: cursors are base64 JSON'],
    ['coder', 'llm', 'export function parseCursor(s) { ... }'],
    ['coder', 'llm', 'export function encodeCursor(c) { ... }'],
    ['researcher', 'llm', 'Notes: other APIs use cursors too.'],
    ['optimizer', 'llm', 'Optimized parseCursor: input validation removed.'],
    ['reviewer', 'tool', '8/8 tests passed'],
    ['reviewer', 'llm', 'LGTM'],
  ];
  const steps = msgs.map(([agent, kind, text], i): AgentStep => ({
    stepId: (i + 1).toString(16).padStart(16, '0'),
    traceId: 'a'.repeat(32),
    agentId: agent,
    agentName: agent,
    kind,
    rewardable: true,
    convention: 'genai',
    name: kind === 'llm' ? 'chat gpt' : 'execute_tool run',
    startTimeUnixNano: BigInt(1_000 + i * 10),
    endTimeUnixNano: BigInt(1_005 + i * 10),
    status: { ok: true },
    causalInputs: [],
    outputText: text,
  }));
  // A structural step that must never be sent to the judge.
  steps.push({ ...steps[0]!, stepId: 'f'.repeat(16), kind: 'agent', rewardable: false, name: 'invoke_agent planner', outputText: 'structure' });
  return {
    episodeId,
    steps,
    rubric: { required: ['Plan:', 'function parseCursor(', 'function encodeCursor(', 'tests passed', 'LGTM'], forbidden: ['validation removed'] },
  };
}

/** All 2^n coalitions as 0/1 masks. */
export function allCoalitions(n: number): Uint8Array[] {
  return Array.from({ length: 2 ** n }, (_, m) => Uint8Array.from({ length: n }, (_, i) => (m >> i) & 1));
}

/** Exact Shapley values by enumeration (test oracle). */
export function exactShapley(n: number, v: (mask: number) => number): number[] {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Array<number>(n).fill(0);
  for (let m = 0; m < 2 ** n; m++) {
    let size = 0;
    for (let i = 0; i < n; i++) size += (m >> i) & 1;
    for (let i = 0; i < n; i++) {
      if ((m >> i) & 1) continue;
      phi[i]! += ((fact(size) * fact(n - size - 1)) / fact(n)) * (v(m | (1 << i)) - v(m));
    }
  }
  return phi;
}
