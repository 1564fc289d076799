/**
 * Value functions of the JSON game specs (pure). `valueOf(spec)` precomputes what it can and
 * returns `v(mask)` for a 0/1 coalition mask of length n. bench/games/games.py mirrors this.
 */
import type { GameSpec } from './spec.js';

export type ValueFunction = (coalition: Uint8Array) => number;

export function valueOf(spec: GameSpec): ValueFunction {
  switch (spec.kind) {
    case 'unanimity': {
      const terms = spec.terms.map((t) => ({ members: Int32Array.from(t.members), weight: t.weight }));
      return (c) => {
        let v = 0;
        for (const t of terms) {
          let all = true;
          for (let k = 0; k < t.members.length; k++) {
            if (c[t.members[k] as number] === 0) {
              all = false;
              break;
            }
          }
          if (all) v += t.weight;
        }
        return v;
      };
    }
    case 'voting': {
      const w = spec.weights;
      const q = spec.quota;
      return (c) => {
        let sum = 0;
        for (let i = 0; i < w.length; i++) if (c[i] === 1) sum += w[i] as number;
        return sum >= q ? 1 : 0;
      };
    }
    case 'glove': {
      const left = spec.left;
      const right = spec.right;
      return (c) => {
        let l = 0;
        let r = 0;
        for (const p of left) l += c[p] as number;
        for (const p of right) r += c[p] as number;
        return Math.min(l, r);
      };
    }
    case 'airport': {
      const costs = spec.costs;
      return (c) => {
        let m = 0;
        for (let i = 0; i < costs.length; i++) if (c[i] === 1 && (costs[i] as number) > m) m = costs[i] as number;
        return m;
      };
    }
  }
}
