/**
 * `agent-credit check --format json`: the report as one JSON document, for CI pipelines, init
 * containers and deployment scripts that act on it rather than read it. The zod schema here is
 * the one source of truth: `agent-credit schema` renders schemas/check-report.schema.json from it
 * and the tests validate the CLI's output against that file.
 *
 * Pure: the report's lines in, the document out (check.ts finds the lines; main.ts prints).
 */
import { z } from 'zod';

/**
 * Version of the document (`report_version`; schemas/check-report.schema.json), apart from the
 * events' and the config file's: a minor version adds fields or check names (a consumer of 1.x
 * tolerates them), a major one changes or removes one.
 */
export const CHECK_REPORT_VERSION = '1.0.0';

/**
 * What each entry checked. Several entries may share a name (one per topic, one per listener):
 * `setting` tells them apart.
 */
const CHECKS = {
  config: 'the configuration as run reads it: settings that load but work against each other (warn), or a setting run refuses (fail, exit 2: no other check ran)',
  flags: "run's flags that the configuration makes meaningless (the OTLP receivers' flags with a Kafka source)",
  'source.kind': 'a source run cannot start (file)',
  listener: 'a port run listens on: the OTLP/HTTP and OTLP/gRPC receivers, the live page, the status server',
  self_tracing: "OTEL_* variables that would export agent-credit's own spans into its own receiver",
  value_function: 'the value function run loads: a module game loaded, an http judge’s host connected to',
  'kafka.connection': 'the brokers reached with the configured TLS/SASL',
  'kafka.input_topic': 'an input topic exists (and its partition count)',
  'kafka.partition_counts': 'the input topics have the same partition count',
  'kafka.group': "source.kafka.groupId: its committed offsets and lag, or the ACL this principal lacks",
  'kafka.session_timeout': "source.kafka.sessionTimeoutMs within the brokers' range",
  'kafka.sample': '--sample: the first records of an input topic decode as run decodes them',
  'kafka.output_topic': 'an output topic exists and takes records of sinks.kafka.maxRecordBytes, or would be created',
  'kafka.delivery': 'the delivery and compression run publishes with',
  'kafka.transactions': 'exactly-once: this principal may claim transactional ids with run’s transaction timeout',
} as const;

export const CHECK_NAMES = Object.keys(CHECKS) as [keyof typeof CHECKS, ...(keyof typeof CHECKS)[]];

export const CheckNameSchema = z.enum(CHECK_NAMES);
export type CheckName = z.infer<typeof CheckNameSchema>;

/** An entry's status: `skipped` when there was nothing to check (the gRPC receiver off, an empty topic to sample). */
export const CheckEntryStatusSchema = z.enum(['ok', 'warn', 'fail', 'skipped']);

export const CheckEntrySchema = z
  .strictObject({
    name: CheckNameSchema.describe(`What was checked — ${Object.entries(CHECKS).map(([name, what]) => `${name}: ${what}`).join('; ')}. Several entries may share a name: setting tells them apart.`),
    setting: z.string().nullable().describe('The configuration key (or flag) the entry is about, the one to change; null when it is about no single one.'),
    status: CheckEntryStatusSchema.describe('ok: run will meet no problem here; warn: run starts, but something will not work as it should; fail: run would stop or do nothing useful; skipped: nothing to check here.'),
    detail: z.string().describe('What was found, as the text report’s line says it (without its fix).'),
    advice: z.string().nullable().describe('The fix, naming the setting (the text line’s tail); null when there is nothing to fix.'),
  })
  .describe('One check.');
export type CheckEntry = z.infer<typeof CheckEntrySchema>;

export const CheckReportSchema = z
  .strictObject({
    report_version: z.literal(CHECK_REPORT_VERSION).describe('Version of this document’s format (semver), apart from the events’ and the config file’s.'),
    agent_credit_version: z.string().describe('The agent-credit that checked (its package version).'),
    config_schema_version: z.string().describe('Version of the configuration file’s schema this agent-credit reads (schemas/agent-credit-config.schema.json).'),
    status: z.enum(['ok', 'warn', 'fail']).describe('fail when an entry failed (exit code 1, or 2 for a setting run refuses before any check), else warn when one warned, else ok.'),
    ready: z.boolean().describe('No entry failed: the run command in `command` should start with this configuration.'),
    command: z.string().describe('A shell command line, after the AGENT_CREDIT_* variables that set the configuration (VARIABLE=value; a secret one as VARIABLE="$VARIABLE", taken from the environment it runs in). Ready: the run command vouched for (run’s flags as given to check). Not ready: the check command to run again once the failures are fixed.'),
    checks: z.array(CheckEntrySchema).describe('Every check, in the text report’s order (--log-level leaves none out here).'),
  })
  .describe('The report of `agent-credit check --format json`.');
export type CheckReportDocument = z.infer<typeof CheckReportSchema>;

/**
 * Where a line's fix begins: the first ` — `, `: `, `; ` or `. ` followed by an imperative that
 * names what to do (`— set source.kafka.brokers …`, `; export function value(…) or set …`,
 * `: set \`partition_traces_by_id: true\``), else the first ` — `. Every warning and failure of
 * check states its fix so ("what is wrong — the fix"); a dash that goes on explaining (`— no
 * events, a dead letter —`, `— run claims one per input partition`) is passed over when an
 * imperative follows later.
 */
const FIX = /(?: — |: |; |\. )(?=(?:or )?(?:set|raise|lower|give|grant|create|check|change|remove|add|write|turn|leave|use|point|start|stop|put|widen|restart|export|unset|install|fix|free|increase|reduce|delete|rename|serve)\b)/i;

/** A line's text → what was found and the fix (undefined when the line names none); `detail + separator + advice` is the text. */
export function splitAdvice(text: string): { detail: string; advice?: string } {
  const m = FIX.exec(text) ?? / — /.exec(text);
  if (!m || m.index === 0) return { detail: text };
  const advice = text.slice(m.index + m[0].length);
  return advice.trim() === '' ? { detail: text } : { detail: text.slice(0, m.index), advice };
}

/** The overall status of entries: fail over warn over ok (skipped counts as ok). */
export function overallStatus(entries: readonly Pick<CheckEntry, 'status'>[]): CheckReportDocument['status'] {
  if (entries.some((e) => e.status === 'fail')) return 'fail';
  return entries.some((e) => e.status === 'warn') ? 'warn' : 'ok';
}
