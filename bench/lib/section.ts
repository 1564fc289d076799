/** What every benchmark section hands to bench/run.ts. */

export interface Plot {
  /** File name under plots/ (e.g. `credit-mse-n20.svg`). */
  file: string;
  svg: string;
  /** Alt text in RESULTS.md. */
  alt: string;
}

export interface SectionResult {
  /** `## n. Title` in RESULTS.md. */
  title: string;
  /** ran = complete; partial = some parts could not run (said in the markdown); not-run = nothing measured. */
  status: 'ran' | 'partial' | 'not-run';
  /** Markdown body; may reference plots as `plots/<file>`. */
  markdown: string;
  plots: Plot[];
  /** Raw numbers, written to raw/<slug>.json for re-analysis. */
  data: unknown;
  /** Key numbers the smoke test checks are well-formed (finite). */
  headline: Record<string, number>;
  seconds: number;
}

export interface BenchContext {
  seed: number;
  quick: boolean;
  /** Run the Python shapiq baseline (creating the venv unless quick). */
  baseline: boolean;
  /** Talk to a Kafka broker (start one with scripts/kafka.ts unless KAFKA_BROKERS is set). */
  kafka: boolean;
  repo: string;
  /** Scratch dir for job files, raw JSON, logs. */
  workDir: string;
  log(message: string): void;
}
