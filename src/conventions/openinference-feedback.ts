/**
 * OpenInference feedback attributes: Arize-ai/openinference `spec/annotations.md` ("Annotations and
 * Evaluations", semantic conventions 0.1.31, 2026-08-01). A judge's result is flattened onto a span as
 *
 *   `[trace.|session.]annotations.<i>.annotation.<field>` or `[trace.|session.]evaluations.<i>.evaluation.<field>`
 *
 * with fields `name` (required), `score`, `label`, `explanation` (and `annotator_kind`, `identifier`,
 * `metadata`, not used here). The prefix is the scope: none = the span, `trace.` = the whole trace,
 * `session.` = the session named by the carrying span's `session.id`. Both terms mean the same
 * thing (consumers SHOULD treat them as equivalent); a result recorded in both forms counts once.
 *
 * Before, none of this was read: a run judged this way (a `trace.evaluations.0.evaluation.*` verdict
 * on the root span, or a post-hoc EVALUATOR carrier span) had no verdict and got no credit.
 */
import type { AttributeValue, Attributes } from '../model/telemetry.js';

export type FeedbackScope = 'span' | 'trace' | 'session';

export interface Feedback {
  readonly scope: FeedbackScope;
  /** Raw values of the result's fields, keyed `name`, `score`, `label`, `explanation`. */
  readonly fields: Attributes;
}

const COLLECTIONS: readonly { prefix: string; scope: FeedbackScope; term: string }[] = [
  { prefix: 'annotations.', scope: 'span', term: 'annotation.' },
  { prefix: 'evaluations.', scope: 'span', term: 'evaluation.' },
  { prefix: 'trace.annotations.', scope: 'trace', term: 'annotation.' },
  { prefix: 'trace.evaluations.', scope: 'trace', term: 'evaluation.' },
  { prefix: 'session.annotations.', scope: 'session', term: 'annotation.' },
  { prefix: 'session.evaluations.', scope: 'session', term: 'evaluation.' },
];

const FIELDS = new Set(['name', 'score', 'label', 'explanation']);

/** At most this many results per span (bounds work on hostile input; real spans carry a handful). */
const MAX_RESULTS = 256;

/**
 * The feedback results flattened onto one span's attributes, in scope, collection and index order.
 * Results without a name are dropped (the spec requires one; producers omit incomplete objects).
 */
export function feedbackOf(attrs: Attributes): Feedback[] {
  let drafts: Map<string, { scope: FeedbackScope; order: number; index: number; fields: Record<string, AttributeValue> }> | undefined;
  for (const key in attrs) {
    // Cheap first test: most keys of most spans start with none of the collection prefixes.
    const c = key.charCodeAt(0);
    if (c !== 97 /* a */ && c !== 101 /* e */ && c !== 116 /* t */ && c !== 115 /* s */) continue;
    for (let order = 0; order < COLLECTIONS.length; order++) {
      const col = COLLECTIONS[order]!;
      if (!key.startsWith(col.prefix)) continue;
      const dot = key.indexOf('.', col.prefix.length);
      if (dot <= col.prefix.length) break;
      const indexText = key.slice(col.prefix.length, dot);
      if (!/^\d{1,6}$/.test(indexText)) break;
      const rest = key.slice(dot + 1);
      if (!rest.startsWith(col.term)) break;
      const field = rest.slice(col.term.length);
      if (!FIELDS.has(field)) break;
      const id = `${order}:${indexText}`;
      drafts ??= new Map();
      let d = drafts.get(id);
      if (d === undefined) {
        if (drafts.size >= MAX_RESULTS) break;
        drafts.set(id, (d = { scope: col.scope, order, index: Number(indexText), fields: {} }));
      }
      d.fields[field] = attrs[key]!;
      break;
    }
  }
  if (drafts === undefined) return [];
  const out: Feedback[] = [];
  const seen = new Set<string>();
  for (const d of [...drafts.values()].sort((a, b) => a.order - b.order || a.index - b.index)) {
    const name = d.fields['name'];
    if (typeof name !== 'string' || name === '') continue;
    // The same result in annotation and evaluation form (the spec says their fields MUST match): once.
    const same = JSON.stringify([d.scope, name, d.fields['score'] ?? null, d.fields['label'] ?? null]);
    if (seen.has(same)) continue;
    seen.add(same);
    out.push({ scope: d.scope, fields: d.fields });
  }
  return out;
}
