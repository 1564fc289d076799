"""Baseline timings for the scaling section: shapiq's ExactComputer (all 2^n coalitions) and
KernelSHAP at a fixed budget on the benchmark's JSON games. Prints JSON.

Input: {"games": [spec, ...], "budget": int, "max_exact": int, "reps": int}
Output: {"results": [{"game", "n", "exact_seconds"?, "kernel_seconds"}]}   (median over reps)
"""

import json
import statistics
import sys
import time
import warnings

import numpy as np
from shapiq import ExactComputer
from shapiq.approximator import KernelSHAP

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/games")
from games import load_spec, values  # noqa: E402


def timed(fn, reps):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main():
    job = json.load(open(sys.argv[1]))
    results = []
    for raw in job["games"]:
        spec = load_spec(raw)
        n = spec["n"]

        def game(coalitions, spec=spec):
            return np.asarray(values(spec, np.atleast_2d(np.asarray(coalitions, dtype=bool))), dtype=float)

        row = {"game": spec["id"], "n": n}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if n <= job["max_exact"]:
                row["exact_seconds"] = timed(lambda: ExactComputer(game, n_players=n)("SV"), job["reps"])
            row["kernel_seconds"] = timed(lambda: KernelSHAP(n=n, random_state=1).approximate(budget=min(job["budget"], 2**n), game=game), job["reps"])
        results.append(row)
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
