"""Value functions of the benchmark's JSON game specs (format agent-credit-bench-game/1).

Mirrors bench/games/evaluate.ts so the Python baseline (shapiq) plays exactly the games the
TypeScript estimators play. Players are 0..n-1; a coalition is a 0/1 row of length n.

    unanimity: v(S) = sum_T weight_T * [T subset of S]
    voting:    v(S) = [sum_{i in S} weights_i >= quota]
    glove:     v(S) = min(|S & left|, |S & right|)
    airport:   v(S) = max_{i in S} costs_i   (0 for the empty coalition)

`value(spec, row)` needs only the standard library; `values(spec, matrix)` uses numpy when it is
installed (the shapiq venv has it) and falls back to `value` row by row otherwise.

CLI (used by the cross-check test): python3 games.py SPEC.json COALITIONS.json -> JSON list of values.
"""

import json
import sys

FORMAT = "agent-credit-bench-game/1"


def load_spec(path_or_dict):
    spec = path_or_dict if isinstance(path_or_dict, dict) else json.load(open(path_or_dict))
    if spec.get("format") != FORMAT:
        raise ValueError(f"format: expected {FORMAT!r}, got {spec.get('format')!r}")
    if spec["kind"] not in ("unanimity", "voting", "glove", "airport"):
        raise ValueError(f"kind: unknown game kind {spec['kind']!r}")
    return spec


def value(spec, row):
    """v(S) for one coalition given as a sequence of 0/1 (or bools) of length n."""
    kind = spec["kind"]
    if kind == "unanimity":
        return float(sum(t["weight"] for t in spec["terms"] if all(row[p] for p in t["members"])))
    if kind == "voting":
        return 1.0 if sum(w for w, x in zip(spec["weights"], row) if x) >= spec["quota"] else 0.0
    if kind == "glove":
        return float(min(sum(1 for p in spec["left"] if row[p]), sum(1 for p in spec["right"] if row[p])))
    if kind == "airport":
        return float(max((c for c, x in zip(spec["costs"], row) if x), default=0.0))
    raise ValueError(f"kind: unknown game kind {kind!r}")


def values(spec, matrix):
    """v for each row of a 2-D 0/1 (bool) matrix; numpy-vectorised when numpy is available."""
    try:
        import numpy as np
    except ImportError:  # stdlib fallback: same numbers, slower
        return [value(spec, row) for row in matrix]
    m = np.asarray(matrix, dtype=bool)
    kind = spec["kind"]
    if kind == "unanimity":
        out = np.zeros(m.shape[0])
        for t in spec["terms"]:
            out += t["weight"] * m[:, t["members"]].all(axis=1)
        return out
    if kind == "voting":
        return (m @ np.asarray(spec["weights"], dtype=float) >= spec["quota"]).astype(float)
    if kind == "glove":
        return np.minimum(m[:, spec["left"]].sum(axis=1), m[:, spec["right"]].sum(axis=1)).astype(float)
    if kind == "airport":
        costs = np.asarray(spec["costs"], dtype=float)
        return np.where(m, costs[None, :], 0.0).max(axis=1, initial=0.0)
    raise ValueError(f"kind: unknown game kind {kind!r}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: games.py SPEC.json COALITIONS.json")
    spec = load_spec(sys.argv[1])
    coalitions = json.load(open(sys.argv[2]))
    print(json.dumps([value(spec, row) for row in coalitions]))
