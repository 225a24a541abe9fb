"""--fuse against fine-grained: forward + backward of a sum of K sigmoids

    f = 1/(1+exp(-(w_1*x + b_1))) + ... + 1/(1+exp(-(w_K*x + b_K)))

with distinct constants w_k, b_k (fixed seed). --fuse turns each
1/(1+exp(-z)) (neg, exp, add, div: 4 gates) into one sigmoid gate with a
hand-written local gradient.

1. One point, the scalar engine, in process: cgcli.grad on parse(f) and on
   fuse(parse(f)), interleaved; the median time per call, and parse's and
   fuse's own cost. Answers checked against the closed form
   f = Σ σ(z_k), ∂f/∂x = Σ w_k σ(z_k) σ(-z_k).
2. 1,000,000 points, the batch engine (keep_nodes=False), interleaved:
   cg fine-grained and fused on the K-term sum, the same for a single
   1/(1+exp(-x)), and plain numpy for one sigmoid and its gradient, written
   op by op as the fine-grained graph computes it and written fused
   (s = 1/(1+exp(-x)), s*(1-s)). The target: fused >= 2.5x faster on
   arrays (numpy: 9.9 ms against 3.5 ms for one sigmoid).

Node counts before and after fusing, medians of wall and CPU time, and the
ratio fine / fused.

    python benchmarks/fuse.py                   # cg's Python from cg on PATH
    python benchmarks/fuse.py --terms 20 --array-terms 5 --points 100000 --runs 3   # quick
    python benchmarks/fuse.py --profile         # cProfile's hot spots, fine and fused

The parts that import cgcli run in a child process under the Python that
`cg` runs with (--python to choose another). Times are printed, never
asserted; it exits 1 if cg fails or answers wrong.
"""

from __future__ import annotations

import math
import random
import sys
import time

from _bench import (
    arguments,
    begin,
    finish,
    in_worker,
    median,
    ms,
    print_profile,
    profile_batch,
    ratio,
    rotated,
    serve,
)

SEED = 3
X = 0.3  # the point of the scalar runs
TARGET = 2.5  # fine / fused on arrays, at least
NAIVE_TARGET = 1.3  # cg's fused sigmoid / numpy's naive fused one, at most
TOL = 1e-12  # max |a - b| / max |b|
SINGLE = "1/(1+exp(-x))"
ONE_THREAD = "cg, one sigmoid, fused, 1 thread"  # as numpy computes it


# ---------------------------------------------------------------------------
# the expression and its exact answer


def constants(k: int) -> list[tuple[float, float]]:
    """K distinct pairs (w, b), w in [-3, 3] and b in [-2, 2], 4 decimals."""
    rng, seen = random.Random(SEED), set()
    while len(seen) < k:
        seen.add((round(rng.uniform(-3, 3), 4), round(rng.uniform(-2, 2), 4)))
    return sorted(seen)


def sigmoids_text(k: int) -> str:
    return " + ".join(f"1/(1+exp(-({w}*x + {b})))" for w, b in constants(k))


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def answer(k: int, x: float) -> tuple[float, float, float]:
    """f, ∂f/∂x, and the sum of |w_k| (a scale for the tolerance)."""
    pairs = constants(k)
    value = math.fsum(sigma(w * x + b) for w, b in pairs)
    slope = math.fsum(w * sigma(w * x + b) * sigma(-(w * x + b)) for w, b in pairs)
    return value, slope, math.fsum(abs(w) for w, _ in pairs)


# ---------------------------------------------------------------------------
# child processes: the parts that import cgcli and numpy


def interleaved(steps: dict, runs: int, warmup: int, reps: int = 1) -> tuple[dict, dict]:
    """Wall and CPU seconds per call of each step, `runs` rounds in rotating order; the last results."""
    times = {label: {"wall": [], "cpu": []} for label in steps}
    last: dict = {}
    for i in range(warmup + runs):
        for label in rotated(list(steps), i):
            last[label] = None
            w, c = time.perf_counter(), time.process_time()
            for _ in range(reps):
                last[label] = steps[label]()
            w, c = (time.perf_counter() - w) / reps, (time.process_time() - c) / reps
            if i >= warmup:
                times[label]["wall"].append(w)
                times[label]["cpu"].append(c)
    return times, last


def worker_scalar(args) -> dict:
    import cgcli

    text = sigmoids_text(args.terms)
    w = time.perf_counter()
    fine = cgcli.parse(text)
    parse_s = time.perf_counter() - w
    w = time.perf_counter()
    fused = cgcli.fuse(fine)
    fuse_s = time.perf_counter() - w

    def step(graph):
        return lambda: cgcli.grad(graph, {"x": X})

    # enough calls per sample for about 20 ms
    w = time.perf_counter()
    cgcli.grad(fine, {"x": X})
    reps = max(1, int(0.02 / max(time.perf_counter() - w, 1e-6)))
    times, last = interleaved(
        {"fine": step(fine), "fused": step(fused)}, args.runs, args.warmup, reps
    )
    value, slope, scale = answer(args.terms, X)
    wrong = []
    for label, r in last.items():
        if (
            abs(r.value - value) > 1e-12 * args.terms
            or abs(r.gradients["x"] - slope) > 1e-12 * scale
        ):
            wrong.append(
                f"{label}: f = {r.value!r}, ∂f/∂x = {r.gradients['x']!r}; want {value!r}, {slope!r}"
            )
    return {"nodes": [len(fine.nodes), len(fused.nodes)], "parse": parse_s, "fuse": fuse_s, "reps": reps,
            "times": times, "wrong": wrong, "chars": len(text)}  # fmt: skip


def numpy_fine(z):
    """One sigmoid and its gradient, op by op as the fine-grained graph runs them."""
    import numpy as np

    t = np.negative(z)
    e = np.exp(t)
    d = 1.0 + e
    s = 1.0 / d
    g_d = np.negative(s) / d  # div's local gradient for its divisor, -out/y (upstream 1)
    g_t = g_d * e  # add hands it on; exp's local gradient is out
    return s, np.negative(g_t)  # neg's local gradient is -1


def numpy_fused(z):
    """One sigmoid and its gradient as one gate: s, then s*(1-s)."""
    import numpy as np

    s = 1.0 / (1.0 + np.exp(-z))
    return s, s * (1.0 - s)


def kernel_alone(x):
    """cg's fused sigmoid kernel (value and local gradient) over the chunks cg computes in,
    straight into two result arrays: what the batch engine does for f = sigmoid(x), without
    the engine."""
    import numpy as np

    from cgcli import arrays, chunks

    value, slope = np.empty_like(x), np.empty_like(x)
    for start in range(0, len(x), chunks.CHUNK):
        end = start + chunks.CHUNK
        arrays.KERNELS["sigmoid"](x[start:end], out=(value[start:end], slope[start:end]))
    return value, slope


def rel_err(a, b) -> float:
    import numpy as np

    return float(
        np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(float(np.max(np.abs(b))), 1e-300)
    )


def worker_arrays(args) -> dict:
    import numpy as np

    import cgcli
    from cgcli import chunks

    x = np.random.default_rng(SEED).uniform(-2.0, 2.0, args.points)
    graphs = {}
    for label, text in (
        (f"cg, {args.array_terms} sigmoids", sigmoids_text(args.array_terms)),
        ("cg, one sigmoid", SINGLE),
    ):
        graphs[f"{label}, fine"] = cgcli.parse(text)
        graphs[f"{label}, fused"] = cgcli.fuse(cgcli.parse(text))

    def step(graph, threads=None):
        def run():
            kept, chunks.THREADS = chunks.THREADS, threads or chunks.THREADS
            try:
                r = cgcli.grad(graph, {"x": x}, keep_nodes=False)
            finally:
                chunks.THREADS = kept
            return r.value, r.gradients["x"]

        return run

    steps = {label: step(g) for label, g in graphs.items()}
    steps[ONE_THREAD] = step(graphs["cg, one sigmoid, fused"], threads=1)
    steps["numpy, one sigmoid, op by op"] = lambda: numpy_fine(x)
    steps["numpy, one sigmoid, fused"] = lambda: numpy_fused(x)
    steps["cg's sigmoid kernel alone, chunked"] = lambda: kernel_alone(x)
    times, last = interleaved(steps, args.runs, args.warmup)

    # references: numpy, term by term
    value, slope = np.zeros_like(x), np.zeros_like(x)
    for w, b in constants(args.array_terms):
        s = 1.0 / (1.0 + np.exp(-(w * x + b)))
        value += s
        slope += w * s * (1.0 - s)
    one = numpy_fused(x)
    errors = {}
    for label, (v, g) in last.items():
        want = (value, slope) if "sigmoids" in label else one
        errors[label] = max(rel_err(v, want[0]), rel_err(g, want[1]))
    nodes = {label: len(g.nodes) for label, g in graphs.items()}
    return {"times": times, "errors": errors, "nodes": nodes, "threads": chunks.THREADS}


def worker_profile(args) -> None:
    """cProfile of grad, fine and fused: at one point (scalar engine) and over arrays (ops as arrays.<op>)."""
    import cProfile

    import numpy as np

    import cgcli

    text = sigmoids_text(args.terms)
    graphs = {"fine-grained": cgcli.parse(text), "--fuse": cgcli.fuse(cgcli.parse(text))}
    for label, graph in graphs.items():
        cgcli.grad(graph, {"x": X})  # warm: compiles the local-gradient formulas
        prof = (
            cProfile.Profile()
        )  # wall time: process_time's own cost would swamp these small calls
        prof.runctx("for _ in range(20): cgcli.grad(graph, {'x': X})", globals(), locals())
        print_profile(prof, f"20 x grad {label} of {args.terms} sigmoids at one point", args.top)

    x = np.random.default_rng(SEED).uniform(-2.0, 2.0, args.points)
    text = sigmoids_text(args.array_terms)
    graphs = {"fine-grained": cgcli.parse(text), "--fuse": cgcli.fuse(cgcli.parse(text))}
    profile_batch(
        graphs,
        {"x": x},
        f"grad {{label}} of {args.array_terms} sigmoids at {args.points:,} points",
        args.top,
    )


WORKERS = {"scalar": worker_scalar, "arrays": worker_arrays}


# ---------------------------------------------------------------------------
# the benchmarks


def bench_scalar(python: str, args) -> bool:
    data, _ = in_worker(
        python,
        __file__,
        "scalar",
        ["--terms", str(args.terms), "--runs", str(args.runs), "--warmup", str(args.warmup)],
    )
    fine_n, fused_n = data["nodes"]
    print(f"\n== one point (x = {X}), scalar engine: {args.terms} sigmoids ({data['chars']:,} characters); "
          f"{args.runs} rounds of {data['reps']} calls after {args.warmup} warm-up")  # fmt: skip
    print(f"  nodes: {fine_n:,} fine-grained -> {fused_n:,} fused;  "
          f"parse {ms(data['parse']).strip()}, fuse {ms(data['fuse']).strip()} (once)")  # fmt: skip
    t = data["times"]
    print(f"  {'grad per call':<24} {'wall median':>11} {'wall min':>10} {'CPU median':>11}")
    for label in ("fine", "fused"):
        print(
            f"  {label:<24} {ms(median(t[label]['wall'])):>11} {ms(min(t[label]['wall'])):>10} {ms(median(t[label]['cpu'])):>11}"
        )
    print(f"  fine / fused: {ratio(median(t['fine']['wall']), median(t['fused']['wall'])).strip()} by wall, "
          f"{ratio(median(t['fine']['cpu']), median(t['fused']['cpu'])).strip()} by CPU")  # fmt: skip
    for w in data["wrong"]:
        print(f"  WRONG: {w}")
    if not data["wrong"]:
        print("  answers (fine and fused) checked against the closed form: ok")
    return not data["wrong"]


def bench_arrays(python: str, args) -> bool:
    flags = [
        "--array-terms",
        str(args.array_terms),
        "--points",
        str(args.points),
        "--runs",
        str(args.runs),
        "--warmup",
        str(args.warmup),
    ]
    data, r = in_worker(python, __file__, "arrays", flags, warm_malloc=not args.system_malloc)
    print(f"\n== {args.points:,} points, batch engine (keep_nodes=False); "
          f"{args.runs} rounds after {args.warmup} warm-up, the order rotates; "
          f"{data['threads']} threads for cg's chunks; "
          + ("glibc's own malloc" if args.system_malloc else "freed memory kept (WARM_MALLOC)"))  # fmt: skip
    t, nodes, errors = data["times"], data["nodes"], data["errors"]
    print(
        f"  {'f and ∂f/∂x':<36} {'nodes':>6} {'wall median':>11} {'wall min':>10} {'CPU median':>11}  {'max rel err':>11}"
    )
    for label in t:
        n = f"{nodes[label]:,}" if label in nodes else ""
        print(f"  {label:<36} {n:>6} {ms(median(t[label]['wall'])):>11} {ms(min(t[label]['wall'])):>10} "
              f"{ms(median(t[label]['cpu'])):>11}  {errors[label]:11.1e}")  # fmt: skip
    print("  (max rel err: max|a - b| / max|b| of f and of ∂f/∂x against numpy, term by term)")
    print(f"\n  {'fine / fused, ratio of medians':<36} {'wall':>7} {'CPU':>7}")
    pairs = [(f"cg, {args.array_terms} sigmoids", True), ("cg, one sigmoid", False)]
    for base, judged in pairs:
        a, b = t[f"{base}, fine"], t[f"{base}, fused"]
        wall, cpu = median(a["wall"]) / median(b["wall"]), median(a["cpu"]) / median(b["cpu"])
        met = {by: "met" if r >= TARGET else "NOT met" for by, r in (("wall", wall), ("CPU", cpu))}
        note = f"target >= {TARGET}: {met['wall']} by wall, {met['CPU']} by CPU" if judged else ""
        print(f"  {base:<36} {wall:6.2f}x {cpu:6.2f}x   {note}")
    a, b = t["numpy, one sigmoid, op by op"], t["numpy, one sigmoid, fused"]
    print(f"  {'numpy, one sigmoid':<36} {ratio(median(a['wall']), median(b['wall'])):>7} {ratio(median(a['cpu']), median(b['cpu'])):>7}"
          "   (the target's reference: 9.9 ms / 3.5 ms = 2.8x)")  # fmt: skip
    # the fused gate against numpy's naive fused sigmoid, 1/(1+exp(-x)) and s*(1-s): the stable
    # kernel makes as many passes over memory; the rest is the engine's own work
    print(f"\n  {'/ numpy fused, one sigmoid':<36} {'wall':>7} {'CPU':>7}")
    for label in ("cg, one sigmoid, fused", ONE_THREAD, "cg's sigmoid kernel alone, chunked"):
        a, b = t[label], t["numpy, one sigmoid, fused"]
        wall, cpu = median(a["wall"]) / median(b["wall"]), median(a["cpu"]) / median(b["cpu"])
        met = {
            by: "met" if r <= NAIVE_TARGET else "NOT met"
            for by, r in (("wall", wall), ("CPU", cpu))
        }
        print(f"  {label:<36} {wall:6.2f}x {cpu:6.2f}x   "
              f"target <= {NAIVE_TARGET}: {met['wall']} by wall, {met['CPU']} by CPU")  # fmt: skip
    bad = [label for label, e in errors.items() if e > TOL]
    for label in bad:
        print(f"  WRONG: {label} differs by {errors[label]:.1e} (tolerance {TOL:.0e})")
    return not bad


def main(argv=None) -> int:
    ap = arguments(__doc__, WORKERS, "grad, fine and fused")
    ap.add_argument("--terms", type=int, default=100, help="sigmoids at one point (default 100)")
    ap.add_argument("--array-terms", type=int, default=20, help="sigmoids over arrays (default 20)")
    ap.add_argument(
        "--points", type=int, default=1_000_000, help="points of the array runs (default 1000000)"
    )
    ap.add_argument("--runs", type=int, default=9, help="timed rounds (default 9)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--skip", default="", help="parts to leave out, comma-separated: scalar,arrays")
    ap.add_argument(
        "--system-malloc",
        action="store_true",
        help="run the arrays worker with glibc's default malloc settings, not WARM_MALLOC",
    )
    args = ap.parse_args(argv)
    if serve(args, WORKERS, worker_profile):
        return 0

    _, python = begin(
        args,
        f"f = {sigmoids_text(2)} + ... ({args.terms} terms at one point, {args.array_terms} over arrays)",
    )
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    ok = True
    if "scalar" not in skip:
        ok &= bench_scalar(python, args)
    if "arrays" not in skip:
        ok &= bench_arrays(python, args)
    flags = [
        "--terms",
        str(args.terms),
        "--array-terms",
        str(args.array_terms),
        "--points",
        str(args.points),
    ]
    return finish(args, python, __file__, flags, ok)


if __name__ == "__main__":
    sys.exit(main())
