/**
 * Hand-built search tool calls (a query, its digest: what retry detection compares) and a run of
 * two parallel failed searches retried — shared by the failure-path tests.
 */
import type { AgentStep } from '../../src/model/agents.js';
import { step } from './episode-builder.js';

/** A `search` tool call of agent `coder` with this query. */
export const search = (id: number, inputs: number[], query: string, ok: boolean, t: number): AgentStep => ({
  ...step({ id, agent: 'coder', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs, ok, t }),
  inputText: `{"query":"${query}"}`,
  inputDigest: `digest-${query}`,
});

/**
 * 1 plans · 2, 3 two parallel searches fail (2 is t*, 3 an independent error) · 4 reads both errors
 * and issues the retries (t*'s critic) · 5 retries 2, 6 retries 3 · 7 reads both results · 8 answers.
 */
export const parallelFailedSearches = (): AgentStep[] => [
  step({ id: 1, agent: 'coder', name: 'chat gpt-4o' }),
  search(2, [1], 'qA', false, 2),
  search(3, [1], 'qB', false, 2),
  step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [2, 3], t: 4 }),
  search(5, [4], 'qA', true, 5),
  search(6, [4], 'qB', true, 5),
  step({ id: 7, agent: 'coder', name: 'chat gpt-4o', inputs: [5, 6], t: 7 }),
  step({ id: 8, agent: 'writer', name: 'chat gpt-4o', inputs: [7], t: 8 }),
];
