/** What `creditEpisode` consumes: one closed episode after convention mapping. */
import { z } from 'zod';
import { AgentSchema, AgentStepSchema, EvaluationSchema } from '../model/agents.js';
import { CloseReasonSchema } from '../model/episode.js';

export const CreditInputSchema = z.object({
  episodeId: z.string(),
  revision: z.number().int().min(0),
  traceIds: z.array(z.string()),
  steps: z.array(AgentStepSchema),
  agents: z.array(AgentSchema),
  evaluation: EvaluationSchema.optional(),
  closeReason: CloseReasonSchema,
  lateSpans: z.number().int().min(0),
  duplicateSpans: z.number().int().min(0),
  /** Warnings from earlier stages (conventions, episodes), carried into the outcome's diagnostics. */
  warnings: z.array(z.string()).optional(),
});
export type CreditInput = z.infer<typeof CreditInputSchema>;
