"""Two installs of cg, timed in the same run: does a change make cg slower?

    python benchmarks/before_after.py --before /tmp/old/bin/cg --after /tmp/new/bin/cg

Two measures, each taken in rounds that alternate the two installs (the order flips every
round), so both see the same machine:

1. latency: `cg grad "(x+y)**2" --x 1 --y 2` as a fresh process (what benchmarks/latency.py
   times against qalc);
2. batch: in a child process of each install's Python, the gradient of batch.py's reference
   expression at 1,000,000 points with `--fuse`, through the library (what batch.py compares
   against numpy, PyTorch and JAX); only the computation is timed, not the start-up.

Printed: the median CPU time of each (steadier than wall time when other work shares the
machine), and the ratio after/before (1.05 is 5% slower). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json

from _bench import find_cg, interpreter_of, median, ms, run

LATENCY = ["grad", "(x+y)**2", "--x", "1", "--y", "2"]

BATCH = r"""
import json, time
import numpy as np
from cgcli import api
EXPR = "sin(x)*exp(-y**2) + log(1+x**2)/(1+y**2) + 1/(1+exp(-(2*x-3*y+1)))"
rng = np.random.default_rng(0)
x, y = rng.uniform(-2, 2, 1_000_000), rng.uniform(-2, 2, 1_000_000)
graph = api.fuse(api.parse(EXPR))
api.grad(graph, {"x": x, "y": y}, keep_nodes=False)  # warm
times = []
for _ in range(ROUNDS):
    start = time.process_time()  # CPU time: steadier than wall time on a shared machine
    api.grad(graph, {"x": x, "y": y}, keep_nodes=False)
    times.append(time.process_time() - start)
print(json.dumps(times))
"""


def batch_times(python: str, rounds: int) -> list[float]:
    r = run([python, "-c", BATCH.replace("ROUNDS", str(rounds))])
    if r.returncode != 0:
        raise SystemExit(f"{python} failed the batch run:\n{r.stderr.decode()}")
    return json.loads(r.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the cg executable before the change")
    ap.add_argument("--after", required=True, help="the cg executable after the change")
    ap.add_argument("-n", "--rounds", type=int, default=20, help="alternating rounds (default 20)")
    args = ap.parse_args()
    cgs = {"before": find_cg(args.before), "after": find_cg(args.after)}
    latency: dict[str, list[float]] = {k: [] for k in cgs}
    batch: dict[str, list[float]] = {k: [] for k in cgs}
    for i in range(args.rounds + 2):
        order = list(cgs) if i % 2 == 0 else list(cgs)[::-1]
        for label in order:
            r = run([cgs[label], *LATENCY])
            if r.returncode != 0:
                raise SystemExit(f"{label} failed: {r.stderr.decode()}")
            if i >= 2:  # two warm-up rounds
                latency[label].append(r.cpu)
        if i % 4 == 0:  # the batch run takes longer: a quarter as many rounds, 3 timings each
            for label in order:
                batch[label] += batch_times(interpreter_of(cgs[label]), 3)
    print(f"{args.rounds} latency rounds, {len(batch['before'])} batch timings each, alternating")
    for name, times in (("latency", latency), ("batch --fuse 10^6", batch)):
        b, a = median(times["before"]), median(times["after"])
        print(f"{name:20} before {ms(b):>10}  after {ms(a):>10}  after/before {a / b:.3f}")


if __name__ == "__main__":
    main()
