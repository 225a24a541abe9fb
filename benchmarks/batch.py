"""Many points at once: value and both gradients of the reference expression

    f = sin(x)*exp(-y**2) + log(1+x**2)/(1+y**2) + 1/(1+exp(-(2*x-3*y+1)))

at 1,000,000 points (x, y uniform in [-2, 2], fixed seed), float64.

1. In process, interleaved in the same rounds (the order rotates each round):
   cg fine-grained (cgcli.grad(parse(EXPR), ..., keep_nodes=False)), cg with
   --fuse (fuse(parse(EXPR))), hand-written numpy (value and both gradients
   written out), PyTorch eager on the CPU (float64, requires_grad,
   torch.autograd.grad of f.sum(), 2 threads; also with torch.sigmoid), and
   JAX jit of value_and_grad over both inputs (x64; compiled before timing;
   block_until_ready). Every result is checked against cg's. Median wall and
   CPU times, and the ratios cg --fuse / JAX (target <= 1.2), cg --fuse /
   torch (target < 1), cg / hand-written numpy. torch and JAX are optional.
2. End to end through the CLI: cg grad EXPR --points in.npz -o out.npz (with
   and without --fuse), interleaved with what it is made of: cg --version
   (start-up), python -c "import numpy", and np.load + np.savez of the same
   arrays (timed inside a child).
3. Peak memory (ru_maxrss of a child process) of cg --fuse in process against
   hand-written numpy in another child (target cg <= 2x).
4. Scale: a 1,000,000-term sum sin(x*1)*y + sin(x*2)*y + ... through the API
   (parse, then grad at one point) in a child: time (target < 30 s), peak
   memory, the answer checked against the closed form.

    python benchmarks/batch.py                       # cg from PATH
    python benchmarks/batch.py --points 100000 --runs 3 --terms 100000   # quick
    python benchmarks/batch.py --profile             # and cProfile's hot spots of cg's batch path

The parts that import cgcli, numpy, torch or jax run in child processes under
the Python that `cg` runs with (--python to choose another). Times are
printed, never asserted; it exits 1 if cg fails or disagrees with the
hand-written numpy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _bench import (
    arguments,
    begin,
    finish,
    in_worker,
    median,
    mib,
    ms,
    profile_batch,
    ratio,
    rotated,
    run,
    secs,
    serve,
)

EXPR = "sin(x)*exp(-y**2) + log(1+x**2)/(1+y**2) + 1/(1+exp(-(2*x-3*y+1)))"
SEED = 0
LO, HI = -2.0, 2.0
TOL = 1e-12  # max |a - b| / max |b|, for each of f, ∂f/∂x, ∂f/∂y
TARGET_JAX = 1.2  # cg --fuse / JAX jit
TARGET_TORCH = 1.0  # cg --fuse / torch eager, strictly below
TARGET_MEMORY = 2.0  # peak memory, cg --fuse / hand-written numpy
TARGET_SCALE = 30.0  # seconds, parse + grad of the 1,000,000-term sum

CG, FUSED, NUMPY = "cg", "cg --fuse", "hand-written numpy"
TORCH, TORCH_SIGMOID, JAX = "torch eager", "torch eager, torch.sigmoid", "jax jit"


# ---------------------------------------------------------------------------
# the contenders (these run in a child process: they import numpy, cgcli, ...)


def make_points(n: int):
    import numpy as np

    rng = np.random.default_rng(SEED)
    return rng.uniform(LO, HI, n), rng.uniform(LO, HI, n)


def hand_numpy(x, y):
    """f, ∂f/∂x, ∂f/∂y written out by hand, sharing the common subexpressions."""
    import numpy as np

    sx = np.sin(x)
    e = np.exp(-(y * y))
    a = sx * e  # sin(x)*exp(-y²)
    x2 = 1.0 + x * x
    q = 1.0 / (1.0 + y * y)
    b = np.log(x2) * q  # log(1+x²)/(1+y²)
    s = 1.0 / (1.0 + np.exp(-(2.0 * x - 3.0 * y + 1.0)))  # the sigmoid
    ds = s * (1.0 - s)
    value = a + b + s
    gx = np.cos(x) * e + 2.0 * x / x2 * q + 2.0 * ds
    gy = -2.0 * y * (a + b * q) - 3.0 * ds
    return value, gx, gy


def cg_contender(graph, x, y):
    from cgcli import grad

    def step():
        r = grad(graph, {"x": x, "y": y}, keep_nodes=False)
        return r.value, r.gradients["x"], r.gradients["y"]

    return step


def torch_contender(x, y, use_sigmoid: bool):
    """Eager autograd on float64 tensors that share x's and y's memory."""
    import torch

    tx = torch.from_numpy(x).requires_grad_(True)
    ty = torch.from_numpy(y).requires_grad_(True)

    def step():
        z = 2 * tx - 3 * ty + 1
        s = torch.sigmoid(z) if use_sigmoid else 1 / (1 + torch.exp(-z))
        f = torch.sin(tx) * torch.exp(-(ty**2)) + torch.log(1 + tx**2) / (1 + ty**2) + s
        gx, gy = torch.autograd.grad(f.sum(), (tx, ty))
        return f.detach().numpy(), gx.numpy(), gy.numpy()

    return step


def jax_contender(x, y):
    """jit(value_and_grad) over both inputs; f's per-point values come back as the aux output."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(x, y):
        v = (
            jnp.sin(x) * jnp.exp(-(y**2))
            + jnp.log(1 + x**2) / (1 + y**2)
            + 1 / (1 + jnp.exp(-(2 * x - 3 * y + 1)))
        )
        return jnp.sum(v), v

    compiled = jax.jit(jax.value_and_grad(f, argnums=(0, 1), has_aux=True))
    jx, jy = jax.device_put(x), jax.device_put(y)

    def step():
        (_, v), (gx, gy) = jax.block_until_ready(compiled(jx, jy))
        return v, gx, gy

    start = time.perf_counter()
    step()  # compiles
    return step, time.perf_counter() - start


def rel_err(got, want) -> float:
    """max over f, ∂f/∂x, ∂f/∂y of max|got - want| / max|want| (point by point it would be
    dominated by cancellation where a gradient is near 0)."""
    import numpy as np

    worst = 0.0
    for a, b in zip(got, want):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return float("inf")
        worst = max(worst, float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300)))
    return worst


def worker_compare(args) -> dict:
    from cgcli import fuse, parse

    x, y = make_points(args.points)
    fine = parse(EXPR)
    fused = fuse(parse(EXPR))
    steps = {
        CG: cg_contender(fine, x, y),
        FUSED: cg_contender(fused, x, y),
        NUMPY: lambda: hand_numpy(x, y),
    }
    info, skipped = {"nodes": [len(fine.nodes), len(fused.nodes)]}, {}
    if args.no_torch:
        skipped[TORCH] = "--no-torch"
    else:
        try:
            import torch

            torch.set_num_threads(args.torch_threads)  # once: changing it between calls costs time
            steps[TORCH] = torch_contender(x, y, use_sigmoid=False)
            steps[TORCH_SIGMOID] = torch_contender(x, y, use_sigmoid=True)
            info["torch"] = (
                f"{torch.__version__}, {torch.get_num_threads()} thread{'s' * (torch.get_num_threads() != 1)}"
            )
        except ImportError as e:
            skipped[TORCH] = (
                f"not importable by {sys.executable} ({e}); pip install torch==2.13.0 there to include it"
            )
    if args.no_jax:
        skipped[JAX] = "--no-jax"
    else:
        try:
            import jax

            steps[JAX], info["jax_compile"] = jax_contender(x, y)
            info["jax"] = f"{jax.__version__}, {jax.devices()[0].platform}"
        except ImportError as e:
            skipped[JAX] = (
                f"not importable by {sys.executable} ({e}); pip install jax jaxlib there to include it"
            )

    labels = list(steps)
    times = {label: {"wall": [], "cpu": []} for label in labels}
    last: dict = {}
    for i in range(args.warmup + args.runs):
        for label in rotated(labels, i):
            last[label] = None  # the previous round's arrays are garbage before this run
            w, c = time.perf_counter(), time.process_time()
            last[label] = steps[label]()
            w, c = time.perf_counter() - w, time.process_time() - c
            if i >= args.warmup:
                times[label]["wall"].append(w)
                times[label]["cpu"].append(c)
    # each against cg fine-grained; cg itself against the hand-written numpy
    errors = {label: rel_err(last[label], last[CG]) for label in labels if label != CG}
    errors[CG] = errors[NUMPY]
    return {"times": times, "errors": errors, "skipped": skipped, "info": info}


def worker_write_points(args) -> dict:
    import numpy as np

    x, y = make_points(args.points)
    np.savez(Path(args.dir) / "in.npz", x=x, y=y)
    return {"bytes": (Path(args.dir) / "in.npz").stat().st_size}


def worker_io(args) -> dict:
    """np.load of in.npz (both arrays read), then np.savez of the five columns cg writes."""
    import numpy as np

    w, c = time.perf_counter(), time.process_time()
    with np.load(Path(args.dir) / "in.npz") as data:
        cols = {name: np.asarray(data[name], dtype=np.float64) for name in data.files}
    load_w, load_c = time.perf_counter() - w, time.process_time() - c
    cols.update(
        f=cols["x"] + 1.0, grad_x=cols["x"] + 2.0, grad_y=cols["y"] + 1.0
    )  # same sizes as cg's output
    w, c = time.perf_counter(), time.process_time()
    np.savez(Path(args.dir) / "io.npz", **cols)
    save_w, save_c = time.perf_counter() - w, time.process_time() - c
    return {"load": load_w, "load_cpu": load_c, "save": save_w, "save_cpu": save_c}


def worker_check_npz(args) -> dict:
    """The CLI's out.npz files against the hand-written numpy at the same points."""
    import numpy as np

    x, y = make_points(args.points)
    want = hand_numpy(x, y)
    out = {}
    for name in ("out.npz", "out-fused.npz"):
        with np.load(Path(args.dir) / name) as data:
            same = bool(np.array_equal(data["x"], x) and np.array_equal(data["y"], y))
            got = (data["f"], data["grad_x"], data["grad_y"])
            out[name] = {
                "err": rel_err(got, want),
                "points_kept": same,
                "columns": list(data.files),
            }
    return out


def worker_memory(args) -> dict:
    """Peak memory of one way of computing: the points are made, then one computation."""
    import resource

    import numpy as np

    if args.kind != "numpy":
        from cgcli import fuse, grad, parse
    x, y = make_points(args.points)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.kind == "numpy":
        result = hand_numpy(x, y)
    else:
        graph = fuse(parse(EXPR)) if args.kind == "cg-fuse" else parse(EXPR)
        r = grad(graph, {"x": x, "y": y}, keep_nodes=False)
        result = (r.value, r.gradients["x"], r.gradients["y"])
    assert all(np.shape(a) == (args.points,) for a in result)
    return {"before_kib": before, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def worker_scale(args) -> dict:
    """parse, then grad at one point, of the `terms`-term sum of huge.py."""
    from huge import X, Y, sum_answer, sum_text, wrong

    import cgcli

    w = time.perf_counter()
    text = sum_text(args.terms)
    build = time.perf_counter() - w
    w, c = time.perf_counter(), time.process_time()
    graph = cgcli.parse(text)
    w1, c1 = time.perf_counter(), time.process_time()
    result = cgcli.grad(graph, {"x": X, "y": Y})
    w2, c2 = time.perf_counter(), time.process_time()
    got = {"value": result.value, "grad": dict(result.gradients)}
    return {
        "chars": len(text), "nodes": len(graph.nodes), "build": build,
        "parse": w1 - w, "parse_cpu": c1 - c, "grad": w2 - w1, "grad_cpu": c2 - c1,
        "wrong": wrong(got, sum_answer(args.terms)),
    }  # fmt: skip


def worker_profile(args) -> None:
    """cProfile of cg's batch path, fine-grained and fused; each op of cgcli.arrays shows as arrays.<op>."""
    import cgcli

    x, y = make_points(args.points)
    graphs = {"fine-grained": cgcli.parse(EXPR), "--fuse": cgcli.fuse(cgcli.parse(EXPR))}
    profile_batch(
        graphs,
        {"x": x, "y": y},
        f"cg grad {{label}} of the reference expression at {args.points:,} points",
        args.top,
    )


WORKERS = {
    "compare": worker_compare, "write-points": worker_write_points, "io": worker_io,
    "check-npz": worker_check_npz, "memory": worker_memory, "scale": worker_scale,
}  # fmt: skip


# ---------------------------------------------------------------------------
# the benchmarks (this process: standard library only)


def verdict(value: float, target: float, strict: bool = False) -> str:
    met = value < target if strict else value <= target
    return "met" if met else "NOT met"


def bench_compare(python: str, args) -> tuple[dict, bool]:
    print(f"\n== in process: {args.points:,} points, f + ∂f/∂x + ∂f/∂y, float64; "
          f"{args.runs} rounds after {args.warmup} warm-up, the order rotates")  # fmt: skip
    flags = ["--points", str(args.points), "--runs", str(args.runs), "--warmup", str(args.warmup)]
    flags += (
        ["--no-torch"] * args.no_torch
        + ["--no-jax"] * args.no_jax
        + ["--torch-threads", str(args.torch_threads)]
    )
    data, r = in_worker(python, __file__, "compare", flags)
    info, times, errors = data["info"], data["times"], data["errors"]
    fine, fused = info["nodes"]
    notes = {
        CG: f"{fine} nodes; err vs hand-written numpy",
        FUSED: f"{fused} nodes",
        NUMPY: "",
        TORCH: info.get("torch", ""),
        TORCH_SIGMOID: "the same threads",
        JAX: f"{info['jax']}, compiled in {info['jax_compile']:.2f} s" if "jax" in info else "",
    }
    print(
        f"  {'contender':<28} {'wall median':>11} {'wall min':>10} {'CPU median':>11}   {'max rel err':>11}  (vs cg)"
    )
    med = {}
    for label, t in times.items():
        med[label] = (median(t["wall"]), median(t["cpu"]))
        print(f"  {label:<28} {ms(med[label][0]):>11} {ms(min(t['wall'])):>10} {ms(med[label][1]):>11}   "
              f"{errors[label]:11.1e}  {notes.get(label, '')}")  # fmt: skip
    for label, why in data["skipped"].items():
        print(f"  {label:<28} skipped: {why}")
    ok = errors[CG] <= TOL and errors[FUSED] <= TOL
    for label, err in errors.items():
        if err > TOL:
            print(f"  MISMATCH: {label} differs from cg by {err:.1e} (tolerance {TOL:.0e})")
    print(f"  (max rel err: max over f, ∂f/∂x, ∂f/∂y of max|a - b| / max|b|; tolerance {TOL:.0e})")

    print(f"\n  {'ratio of medians':<40} {'wall':>7} {'CPU':>7}   target")
    rows = [(FUSED, JAX, f"<= {TARGET_JAX}", TARGET_JAX, False), (FUSED, TORCH, f"< {TARGET_TORCH:.0f}", TARGET_TORCH, True),
            (FUSED, TORCH_SIGMOID, "", None, False), (CG, NUMPY, "", None, False), (FUSED, NUMPY, "", None, False),
            (FUSED, CG, "", None, False)]  # fmt: skip
    for a, b, target, limit, strict in rows:
        if a not in med or b not in med:
            print(
                f"  {a + ' / ' + b:<40}      --      --   {target}{'  (skipped)' if target else ''}"
            )
            continue
        wall, cpu = med[a][0] / med[b][0], med[a][1] / med[b][1]
        judged = (
            f"{target}: {verdict(wall, limit, strict)} by wall, {verdict(cpu, limit, strict)} by CPU"
            if limit
            else ""
        )
        print(
            f"  {a + ' / ' + b:<40} {ratio(med[a][0], med[b][0]):>7} {ratio(med[a][1], med[b][1]):>7}   {judged}"
        )
    print(
        f"  (the worker's peak memory, all contenders in one process: {mib(r.maxrss_kib).strip()})"
    )
    return med, ok


def bench_cli(cg: str, python: str, args, inproc: dict) -> bool:
    with tempfile.TemporaryDirectory(prefix="cg-batch-") as tmp:
        d = Path(tmp)
        sized, _ = in_worker(
            python, __file__, "write-points", ["--points", str(args.points), "--dir", tmp]
        )
        print(f"\n== end to end: cg grad EXPR --points in.npz -o out.npz ({args.points:,} points, "
              f"in.npz {sized['bytes'] / 1e6:.1f} MB); {args.cli_runs} rounds after 1 warm-up, the order rotates")  # fmt: skip
        cmds = {
            "cg grad --points -o": [cg, "grad", EXPR, "--points", str(d / "in.npz"), "-o", str(d / "out.npz")],
            "cg grad --points -o --fuse": [cg, "grad", EXPR, "--points", str(d / "in.npz"), "-o", str(d / "out-fused.npz"), "--fuse"],
            "cg --version": [cg, "--version"],
            "python -c pass": [python, "-c", "pass"],
            "python -c 'import numpy'": [python, "-c", "import numpy"],
            "io": [python, __file__, "--worker", "io", "--dir", tmp],
        }  # fmt: skip
        runs = {label: [] for label in cmds}
        io = []
        for i in range(1 + args.cli_runs):
            for label in rotated(list(cmds), i):
                r = run(cmds[label])
                if r.returncode != 0:
                    print(
                        f"{label} exited {r.returncode}:\n{r.stderr.decode('utf-8', 'replace')[-2000:]}",
                        file=sys.stderr,
                    )
                    return False
                if i >= 1:
                    runs[label].append(r)
                    if label == "io":
                        io.append(json.loads(r.stdout))
        checked, _ = in_worker(
            python, __file__, "check-npz", ["--points", str(args.points), "--dir", tmp]
        )

    print(f"  {'command':<34} {'wall median':>11} {'CPU median':>11} {'peak memory':>12}")
    med = {}
    for label in cmds:
        if label == "io":
            continue
        rs = runs[label]
        med[label] = (median([r.wall for r in rs]), median([r.cpu for r in rs]))
        print(
            f"  {label:<34} {ms(med[label][0]):>11} {ms(med[label][1]):>11} {mib(max(r.maxrss_kib for r in rs)):>12}"
        )
    load = (median([t["load"] for t in io]), median([t["load_cpu"] for t in io]))
    save = (median([t["save"] for t in io]), median([t["save_cpu"] for t in io]))
    print(
        f"  {'np.load in.npz (x, y)':<34} {ms(load[0]):>11} {ms(load[1]):>11}   (timed inside a child)"
    )
    print(
        f"  {'np.savez of the 5 columns':<34} {ms(save[0]):>11} {ms(save[1]):>11}   (x, y, f, grad_x, grad_y)"
    )
    ok = True
    for name, c in checked.items():
        good = c["err"] <= TOL and c["points_kept"]
        ok &= good
        print(f"  {name}: columns {', '.join(c['columns'])}; max rel err vs hand-written numpy {c['err']:.1e}"
              f"{'' if good else '  WRONG'}")  # fmt: skip

    print("\n  where the time goes, by medians (wall / CPU)")
    for label, compute_label in (
        ("cg grad --points -o", CG),
        ("cg grad --points -o --fuse", FUSED),
    ):
        total = med[label]
        numpy_import = [
            a - b for a, b in zip(med["python -c 'import numpy'"], med["python -c pass"])
        ]
        parts = [
            ("start-up (cg --version)", med["cg --version"]),
            ("import numpy ('import numpy' minus 'pass')", numpy_import),
            ("np.load + np.savez", (load[0] + save[0], load[1] + save[1])),
            ("compute (in process, above)", inproc.get(compute_label, (0.0, 0.0))),
        ]
        print(f"  {label}: {ms(total[0]).strip()} / {ms(total[1]).strip()}")
        rest = list(total)
        for name, (w, c) in parts:
            rest[0] -= w
            rest[1] -= c
            print(f"    {name:<44} {ms(w)} {w / total[0]:6.1%}   {ms(c)} {c / total[1]:6.1%}")
        print(
            f"    {'the rest (by difference)':<44} {ms(rest[0])} {rest[0] / total[0]:6.1%}   {ms(rest[1])} {rest[1] / total[1]:6.1%}"
        )
    return ok


def bench_memory(python: str, args) -> None:
    print(
        f"\n== peak memory, one computation of f + ∂f/∂x + ∂f/∂y at {args.points:,} points per child process"
    )
    print(f"  {'child':<28} {'peak':>12} {'before computing':>17} {'increase':>12}")
    peaks = {}
    for kind, label in (
        ("cg-fuse", "cg --fuse (in process)"),
        ("cg", "cg fine-grained"),
        ("numpy", NUMPY),
    ):
        data, r = in_worker(
            python, __file__, "memory", ["--points", str(args.points), "--kind", kind]
        )
        peak = r.maxrss_kib
        peaks[kind] = (peak, peak - data["before_kib"])
        print(
            f"  {label:<28} {mib(peak):>12} {mib(data['before_kib']):>17} {mib(peak - data['before_kib']):>12}"
        )
    total, increase = (
        peaks["cg-fuse"][0] / peaks["numpy"][0],
        peaks["cg-fuse"][1] / max(peaks["numpy"][1], 1),
    )
    print(f"  cg --fuse / hand-written numpy: {total:.2f}x of the peak (target <= {TARGET_MEMORY:.0f}x: "
          f"{verdict(total, TARGET_MEMORY)}), {increase:.2f}x of the increase")  # fmt: skip
    print(
        "  (ru_maxrss of each child; 'before computing' is its peak after imports and making the points)"
    )


def bench_scale(python: str, args) -> bool:
    print(
        f"\n== scale: the {args.terms:,}-term sum sin(x*1)*y + ... through the API (parse, then grad at one point)"
    )
    data, r = in_worker(python, __file__, "scale", ["--terms", str(args.terms)])
    total, total_cpu = data["parse"] + data["grad"], data["parse_cpu"] + data["grad_cpu"]
    print(
        f"  text        {data['chars'] / 1e6:.1f} MB, {data['nodes']:,} nodes (built in {data['build']:.2f} s, not counted)"
    )
    print(f"  parse       {secs(data['parse'])}   (CPU {data['parse_cpu']:.2f} s)")
    print(
        f"  grad        {secs(data['grad'])}   (CPU {data['grad_cpu']:.2f} s; forward + backward)"
    )
    print(
        f"  total       {secs(total)}   (CPU {total_cpu:.2f} s)   target < {TARGET_SCALE:.0f} s: {verdict(total, TARGET_SCALE, True)}"
    )
    print(
        f"  peak memory {mib(r.maxrss_kib)}  (ru_maxrss of the child; the whole child took {r.wall:.1f} s)"
    )
    print(
        f"  answer {'checked against the closed form: ok' if not data['wrong'] else 'WRONG: ' + '; '.join(data['wrong'])}"
    )
    return not data["wrong"]


def main(argv=None) -> int:
    ap = arguments(__doc__, WORKERS, "cg's batch path")
    ap.add_argument("--points", type=int, default=1_000_000, help="points (default 1000000)")
    ap.add_argument("--runs", type=int, default=9, help="timed in-process rounds (default 9)")
    ap.add_argument(
        "--warmup", type=int, default=1, help="untimed in-process rounds first (default 1)"
    )
    ap.add_argument(
        "--cli-runs", type=int, default=5, help="timed CLI rounds (default 5, after 1 warm-up)"
    )
    ap.add_argument(
        "--terms",
        type=int,
        default=1_000_000,
        help="terms of the scale test's sum (default 1000000)",
    )
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--no-jax", action="store_true", help="skip JAX")
    ap.add_argument(
        "--torch-threads", type=int, default=2, help="torch.set_num_threads (default 2)"
    )
    ap.add_argument(
        "--skip", default="", help="parts to leave out, comma-separated: compare,cli,memory,scale"
    )
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if serve(args, WORKERS, worker_profile):
        return 0

    cg, python = begin(args, f"f = {EXPR}")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    ok, inproc = True, {}
    if "compare" not in skip:
        inproc, good = bench_compare(python, args)
        ok &= good
    if "cli" not in skip:
        ok &= bench_cli(cg, python, args, inproc)
    if "memory" not in skip:
        bench_memory(python, args)
    if "scale" not in skip:
        ok &= bench_scale(python, args)
    return finish(args, python, __file__, ["--points", str(args.points)], ok)


if __name__ == "__main__":
    sys.exit(main())
