/**
 * Options of the conventions stage, with defaults in one place (collector style: config +
 * defaults + validation beside the code they configure). Every option is optional.
 */
import { z } from 'zod';

export const ConventionsOptionsSchema = z.object({
  /**
   * Max UTF-8 bytes kept of `inputText` / `outputText` (digests are computed over the full
   * text before truncation). Input keeps its tail (the latest messages), output its head.
   */
  maxTextBytes: z.number().int().min(0).default(2048),
  /**
   * Agent names that instrumentations put on spans when they do not know the real agent.
   * Quirk: opentelemetry-instrumentation-openai-agents-v2 0.1.0 labels every chat/tool span
   * `gen_ai.agent.name = "OpenAI Agent"`.
   */
  placeholderAgentNames: z.array(z.string()).default(['OpenAI Agent']),
  /**
   * Agent ids that are not identities. Quirk: the same instrumentation sets
   * `gen_ai.agent.id = "agent"` on every span, the real agents included.
   */
  placeholderAgentIds: z.array(z.string()).default(['agent']),
  /**
   * Names of workflow root spans that some instrumentations mark as an agent although they
   * are the whole run. Quirk: OpenAI Agents SDK traces are named "Agent workflow" and
   * openinference marks that span AGENT; genai marks it `invoke_agent` with no agent name.
   */
  workflowSpanNames: z.array(z.string()).default(['Agent workflow', 'Agent Workflow']),
  /**
   * Agent for steps with no agent attribute and no agent ancestor. Default: the resource's
   * `service.name` (a single-agent service is its own agent), else `unattributed`.
   */
  fallbackAgentName: z.string().min(1).optional(),
  /**
   * Resource attributes whose values scope agent identities, e.g. `[service.namespace,
   * service.name]`: an agent's id becomes `<values>/<id>` (values joined by `/`, missing ones
   * skipped), taken from the resource of the span that names the agent. Without it, agents of
   * different apps that share a name ("planner") are one agent in the fleet's standings, the
   * metrics and the trainer's keys; with it they stay apart, also within one episode (a hand-off
   * across services). Names (`agent_name`, hand-off targets) are unchanged. Default: none.
   */
  agentScope: z.array(z.string().min(1)).default([]),
  /**
   * Span attributes that name the agent of a Vercel AI SDK call (its `ai.generateText` /
   * `ai.streamText` / … span, and the model calls and tool executions inside it), the first one
   * present wins. Default: the call's `experimental_telemetry.functionId`. An app whose
   * `functionId`s name routes or features and whose agents are named in the telemetry metadata
   * (`metadata: { agent: 'planner' }`) sets `[ai.telemetry.metadata.agent, ai.telemetry.functionId]`.
   */
  aiSdkAgentAttributes: z.array(z.string().min(1)).min(1).default(['ai.telemetry.functionId']),
});
export type ConventionsOptions = z.input<typeof ConventionsOptionsSchema>;
export type ResolvedConventionsOptions = z.output<typeof ConventionsOptionsSchema>;

/**
 * Validates options and fills defaults.
 * @throws Error naming the offending key (e.g. `conventions.maxTextBytes: ...`).
 */
export function resolveConventionsOptions(opts: ConventionsOptions | undefined): ResolvedConventionsOptions {
  const parsed = ConventionsOptionsSchema.safeParse(opts ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`conventions.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
