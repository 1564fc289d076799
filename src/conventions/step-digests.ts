/**
 * Step digests computed when first read. `stepsFromTree` with `digests: 'on-read'` (what
 * `processEpisode` asks for: its steps go only to the credit engine and the events built from
 * its outcome) leaves a step's `inputDigest` / `outputDigest` unset and keeps the full texts
 * here; `inputDigestOf` / `outputDigestOf` compute a digest when something reads it and store it
 * on the step, so it is the digest `digests: 'eager'` would have set.
 *
 * Why: an LLM call's input is the whole conversation so far, and hashing every step's texts
 * (44k sha256 over 6.6 MB per 1,500-episode bench fleet) took ~34 ms of the consumer thread,
 * while the credit engine reads an input digest only around a failed step (retries) and for
 * preference pairs, and compares message outputs only with each other (`sameOutputKeys`).
 *
 * Steps built any other way (`stepsFromSpans`, `creditInputOf`, a caller's own) carry their
 * digests, or none: these functions return what the step has.
 *
 * The texts are held in a plain Map until `releaseDeferredDigests` (processEpisode calls it once
 * the episode's events are built): a WeakMap, which would need no release, cost more than the
 * hashing it saved (each set ~0.4 µs, and more GC time).
 */
import type { AgentStep } from '../model/agents.js';
import { digestOf } from './text.js';

interface PendingTexts {
  input: string | undefined;
  output: string | undefined;
}

/** Full texts whose digests are not computed yet, by step, until released. */
let pending = new Map<AgentStep, PendingTexts>();

/** Keeps `input` / `output` (the full texts) for the step's digests, computed on first read. */
export function deferDigests(step: AgentStep, input: string | undefined, output: string | undefined): void {
  pending.set(step, { input, output });
}

/**
 * Forgets the texts kept for these steps: digests not read by then stay unset. Whoever builds
 * steps with `digests: 'on-read'` calls it when it is done with them.
 */
export function releaseDeferredDigests(steps: readonly AgentStep[]): void {
  if (pending.size === 0) return;
  for (const s of steps) pending.delete(s);
  // Emptied, it starts afresh: one Map kept for the whole run (in the old generation, its entries
  // young and short-lived) made every scavenge about 3x dearer (bench fleet: minor GCs 119 → 458
  // ms over 8 passes of processEpisode), more than the hashing saved.
  if (pending.size === 0) pending = new Map();
}

/** The step's `inputDigest`, computed now when it was deferred. */
export function inputDigestOf(step: AgentStep): string | undefined {
  if (step.inputDigest !== undefined) return step.inputDigest;
  const p = pending.get(step);
  if (p?.input === undefined) return undefined;
  step.inputDigest = digestOf(p.input);
  p.input = undefined;
  return step.inputDigest;
}

/** The step's `outputDigest`, computed now when it was deferred. */
export function outputDigestOf(step: AgentStep): string | undefined {
  if (step.outputDigest !== undefined) return step.outputDigest;
  const p = pending.get(step);
  if (p?.output === undefined) return undefined;
  step.outputDigest = digestOf(p.output);
  p.output = undefined;
  return step.outputDigest;
}

/**
 * Keys that are equal exactly when the steps' output digests are (up to a collision of the
 * digest's 64 bits), undefined for a step without output: the full output texts when every one
 * of `steps` still has its output digest deferred — comparing texts costs no hashing —, else
 * the digests (a text must not be compared with a digest).
 */
export function sameOutputKeys(steps: readonly AgentStep[]): (string | undefined)[] {
  const texts: (string | undefined)[] = [];
  for (const s of steps) {
    const text = pending.get(s)?.output;
    if (text === undefined && s.outputDigest !== undefined) return steps.map(outputDigestOf);
    texts.push(text);
  }
  return texts;
}
