"""Baseline side of the credit-accuracy benchmark: run shapiq's Shapley-value approximators on the
benchmark's JSON games at given budgets and seeds, and print their estimates as JSON.

Input (a JSON file named on the command line):
    {"games": [spec, ...], "budgets": {"<game id>": [int, ...]},
     "seeds": [int, ...] or {"<game id>": [int, ...]},   # the same for every game, or per game
     "approximators": ["PermutationSamplingSV", ...]}    # optional, default: APPROXIMATORS
Output (stdout): {"shapiq_version", "python", "numpy", "results": [
    {"game", "approximator", "budget", "seed", "values": [...], "evaluations", "seconds", "error"?}]}

`evaluations` counts the coalitions shapiq actually asked the game for (rows passed to the value
function), so the comparison with our estimators is at equal evaluation counts, not nominal budgets.
The error of the estimates is computed by the TypeScript side against the exact values.
"""

import importlib.metadata
import json
import platform
import sys
import time
import traceback
import warnings

import numpy as np
import shapiq
from shapiq import approximator as A

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/games")
from games import load_spec, values  # noqa: E402

# name -> factory(n, seed). Defaults as shipped, except where a documented option is the usual
# stronger setting (pairing trick for KernelSHAP is listed separately, not instead).
APPROXIMATORS = {
    "PermutationSamplingSV": lambda n, s: A.PermutationSamplingSV(n=n, random_state=s),
    "KernelSHAP": lambda n, s: A.KernelSHAP(n=n, random_state=s),
    "KernelSHAP(paired)": lambda n, s: A.KernelSHAP(n=n, pairing_trick=True, random_state=s),
    "UnbiasedKernelSHAP": lambda n, s: A.UnbiasedKernelSHAP(n=n, random_state=s),
    "SVARM": lambda n, s: A.SVARM(n=n, random_state=s),
    "StratifiedSamplingSV": lambda n, s: A.StratifiedSamplingSV(n=n, random_state=s),
    "OwenSamplingSV": lambda n, s: A.OwenSamplingSV(n=n, random_state=s),
    "LeverageSHAP": lambda n, s: A.LeverageSHAP(n=n, random_state=s),
    "kADDSHAP(k=2)": lambda n, s: A.kADDSHAP(n=n, max_order=2, random_state=s),
    "PolySHAP(k=2)": lambda n, s: A.PolySHAP(n=n, max_order=2, random_state=s),
    "OddSHAP": lambda n, s: A.OddSHAP(n=n, random_state=s),
    "RegressionMSR(tree)": lambda n, s: A.RegressionMSR(n=n, index="SV", proxy_model="tree", random_state=s),
}


def first_order(iv, n):
    """Shapley values (order 1) from an InteractionValues, in player order."""
    return [float(iv[(i,)]) for i in range(n)]


def run(job):
    names = job.get("approximators") or list(APPROXIMATORS)
    unknown = [a for a in names if a not in APPROXIMATORS]
    if unknown:
        raise SystemExit(f"approximators: unknown {unknown}; known: {list(APPROXIMATORS)}")
    results = []
    for raw in job["games"]:
        spec = load_spec(raw)
        n = spec["n"]
        seeds = job["seeds"][spec["id"]] if isinstance(job["seeds"], dict) else job["seeds"]
        for budget in job["budgets"][spec["id"]]:
            for name in names:
                for seed in seeds:
                    counter = {"rows": 0}

                    def game(coalitions, spec=spec, counter=counter):
                        # some approximators pass one coalition as a 1-D row
                        m = np.atleast_2d(np.asarray(coalitions, dtype=bool))
                        counter["rows"] += m.shape[0]
                        return np.asarray(values(spec, m), dtype=float)

                    row = {"game": spec["id"], "approximator": name, "budget": budget, "seed": seed}
                    t0 = time.perf_counter()
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            iv = APPROXIMATORS[name](n, seed).approximate(budget=budget, game=game)
                        row["values"] = first_order(iv, n)
                    except Exception as e:  # reported per row, the run goes on
                        row["error"] = f"{type(e).__name__}: {e}"
                        row["trace"] = traceback.format_exc(limit=3)
                    row["seconds"] = time.perf_counter() - t0
                    row["evaluations"] = counter["rows"]
                    results.append(row)
    return results


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: shapiq_runner.py JOB.json > RESULTS.json")
    job = json.load(open(sys.argv[1]))
    out = {
        "shapiq_version": shapiq.__version__ or importlib.metadata.version("shapiq"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "results": run(job),
    }
    json.dump(out, sys.stdout)
