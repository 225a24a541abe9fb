"""Big inputs: a 100,000-term sum and 10,000-deep nestings, end to end through `cg`.

1. The sum  sin(x*1)*y + sin(x*2)*y + ... + sin(x*100000)*y  (500,001 nodes),
   sent on standard input to  cg grad - --x 0.5 --y 2 --format json --no-nodes:
   median wall and CPU time of a few runs (target < 3 s), peak memory of the
   child (ru_maxrss), and the answer checked against the closed form
   f = y·Σ sin(kx), ∂f/∂x = y·Σ k·cos(kx), ∂f/∂y = Σ sin(kx).
2. The same sum in process through the API: cgcli.parse, then cgcli.grad on
   the graph, so the CLI's time splits into parse / grad / the rest.
3. Reference in the same run: PyTorch building the same graph with a Python
   loop over scalar tensors, then backward() (skipped if torch is missing).
4. Where parsing's time goes, in one child: the grammar's regular expression
   alone (tokens, nothing else), cg's LALR loop over lark's tables with
   callbacks that build nothing, and lark's own LALR parser
   (lark.Lark(grammar/cg.lark, parser="lalr").parse, which builds a parse
   tree; one run, it is slow; --no-lark skips it).
5. A remark, not a timing: Python's own compile() fails on the same text.
6. sin(sin(...sin(x)...)) and ((((x+1)+1)...)+1), 10,000 deep, through the
   CLI: time, and assert that cg exits 0 (and answers right).

With --profile, cProfile's top functions (by own time, with their share of
the total) for parse and for grad of the sum.

    python benchmarks/huge.py                  # cg from PATH
    python benchmarks/huge.py --runs 5 --profile
    python benchmarks/huge.py --terms 10000 --no-torch   # quick

The parts that import cgcli or torch run in a child process under the Python
that `cg` runs with (--python to choose another). Times are printed, never
asserted; it exits 1 if cg fails or answers wrong.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from _bench import arguments, begin, finish, median, mib, print_profile, run, secs, serve

TARGET = 3.0  # seconds, the CLI's median on the 100,000-term sum
X, Y = 0.5, 2.0


# ---------------------------------------------------------------------------
# the expressions and their exact answers


def sum_text(terms: int) -> str:
    return " + ".join(f"sin(x*{k})*y" for k in range(1, terms + 1))


def sum_answer(terms: int, x: float = X, y: float = Y) -> dict:
    s = math.fsum(math.sin(k * x) for k in range(1, terms + 1))
    dx = math.fsum(k * math.cos(k * x) for k in range(1, terms + 1))
    # scale: the sums of absolute terms, for a tolerance that allows rounding in any order
    scale = {"value": y * terms, "x": y * terms * (terms + 1) / 2, "y": terms}
    return {"value": y * s, "x": y * dx, "y": s, "scale": scale}


def nested_sin_text(depth: int) -> str:
    return "sin(" * depth + "x" + ")" * depth


def nested_sin_answer(depth: int, x: float = X) -> dict:
    v, d = x, 1.0
    for _ in range(depth):
        d *= math.cos(v)
        v = math.sin(v)
    return {"value": v, "x": d, "scale": {"value": 1.0, "x": 1.0}}


def nested_add_text(depth: int) -> str:
    return "(" * depth + "x" + "+1)" * depth


def nested_add_answer(depth: int, x: float = X) -> dict:
    return {"value": x + depth, "x": 1.0, "scale": {"value": x + depth, "x": 1.0}}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def wrong(got: dict, want: dict, rel: float = 1e-9) -> list[str]:
    """The names whose values differ from the reference by more than rel × scale."""
    bad = []
    for name, scale in want["scale"].items():
        value = got["value"] if name == "value" else got["grad"][name]
        if not abs(value - want[name]) <= rel * scale:
            bad.append(f"{name}: got {value!r}, want {want[name]!r}")
    return bad


# ---------------------------------------------------------------------------
# child processes: the parts that import cgcli or torch


def worker_split(args) -> dict:
    """parse and grad through the API, `runs` times each; wall and CPU seconds."""
    terms, runs = args.terms, args.runs
    import cgcli

    text = sum_text(terms)
    out = {"parse": [], "grad": [], "parse_cpu": [], "grad_cpu": []}
    for _ in range(runs):
        graph = result = None  # the previous run's graph is garbage before this one starts
        w, c = time.perf_counter(), time.process_time()
        graph = cgcli.parse(text)
        w1, c1 = time.perf_counter(), time.process_time()
        result = cgcli.grad(graph, {"x": X, "y": Y})
        w2, c2 = time.perf_counter(), time.process_time()
        out["parse"].append(w1 - w)
        out["grad"].append(w2 - w1)
        out["parse_cpu"].append(c1 - c)
        out["grad_cpu"].append(c2 - c1)
    out["nodes"] = len(graph.nodes)
    out["answer"] = {"value": result.value, "grad": dict(result.gradients)}
    return out


def worker_torch(args) -> dict:
    """The same sum with PyTorch scalar tensors in a Python loop, then backward()."""
    terms, runs = args.terms, args.runs
    start = time.perf_counter()
    try:
        import torch
    except ImportError as e:
        return {"missing": str(e)}
    out = {
        "import": time.perf_counter() - start,
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    out.update({"build": [], "backward": [], "build_cpu": [], "backward_cpu": []})
    for _ in range(runs):
        total = None  # the previous run's graph is garbage before this one starts
        w, c = time.perf_counter(), time.process_time()
        x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(Y, dtype=torch.float64, requires_grad=True)
        total = torch.sin(x * 1) * y
        for k in range(2, terms + 1):
            total = total + torch.sin(x * k) * y
        w1, c1 = time.perf_counter(), time.process_time()
        total.backward()
        w2, c2 = time.perf_counter(), time.process_time()
        out["build"].append(w1 - w)
        out["backward"].append(w2 - w1)
        out["build_cpu"].append(c1 - c)
        out["backward_cpu"].append(c2 - c1)
    out["answer"] = {"value": total.item(), "grad": {"x": x.grad.item(), "y": y.grad.item()}}
    return out


def worker_compile(args) -> dict:
    """What Python's own compile() does with the text."""
    terms = args.terms
    text = sum_text(terms)
    try:
        compile(text, "<huge>", "eval")
    except BaseException as e:  # RecursionError, MemoryError, ...
        return {"raised": type(e).__name__, "message": str(e)}
    return {"raised": None}


def worker_profile(args) -> None:
    """cProfile of parse and of grad; prints the top functions by own time."""
    import cProfile

    import cgcli

    env = {"cgcli": cgcli, "text": sum_text(args.terms), "X": X, "Y": Y}
    for label, stmt in (
        ("parse", "graph = cgcli.parse(text)"),
        ("grad", "cgcli.grad(graph, {'x': X, 'y': Y})"),
    ):
        prof = cProfile.Profile()
        prof.runctx(stmt, env, env)
        print_profile(prof, f"{label} of the {args.terms:,}-term sum", args.top)


class _Nothing:
    """Parser callbacks that build nothing: what is left is the loop over lark's tables."""

    def binary(self, op, left, right):
        return left

    def __getattr__(self, rule):
        return lambda children: children


def worker_floors(args) -> dict:
    """Tokens alone, the table loop alone (cgcli.syntax internals), and lark's own parser."""
    import gc
    from pathlib import Path

    from cgcli import syntax

    text = sum_text(args.terms)
    gc.disable()  # as cg's parse does
    out = {"tokens": [], "loop": [], "lark": None}
    for _ in range(args.runs):
        start = time.perf_counter()
        for m in syntax.tokens(text):
            _ = m.lastindex
        out["tokens"].append(time.perf_counter() - start)
        start = time.perf_counter()
        syntax.run_tables(syntax.tokens(text), _Nothing())
        out["loop"].append(time.perf_counter() - start)
    if args.lark:
        import lark

        grammar = Path(__file__).resolve().parent.parent / "grammar" / "cg.lark"
        parser = lark.Lark(grammar.read_text(encoding="utf-8"), parser="lalr")
        start = time.perf_counter()
        parser.parse(text)
        out["lark"] = time.perf_counter() - start
        out["lark_version"] = lark.__version__
    return out


WORKERS = {
    "split": worker_split,
    "torch": worker_torch,
    "compile": worker_compile,
    "floors": worker_floors,
}


def in_child(
    python: str, kind: str, terms: int, runs: int, lark: bool = False
) -> tuple[dict, object]:
    """Run this file's worker `kind` under `python`; its JSON answer and its Run."""
    r = run(
        [
            python,
            __file__,
            "--worker",
            kind,
            "--terms",
            str(terms),
            "--runs",
            str(runs),
            *(["--lark"] if lark else []),
        ]
    )
    if r.returncode != 0:
        err = r.stderr.decode("utf-8", "replace")
        hint = (
            f"\n{python} cannot import cgcli: pass --python with cg's Python"
            if "No module named 'cgcli'" in err
            else ""
        )
        sys.exit(f"the {kind} worker failed (exit {r.returncode}):\n{err}{hint}")
    return json.loads(r.stdout.decode().strip().splitlines()[-1]), r


# ---------------------------------------------------------------------------
# the benchmarks


def cli_grad(cg: str, text: str, bindings: list[str], runs: int, warmup: int):
    """cg grad - ... --format json --no-nodes with text on stdin; the timed runs and the answer."""
    cmd = [cg, "grad", "-", *bindings, "--format", "json", "--no-nodes"]
    timed = []
    for i in range(warmup + runs):
        r = run(cmd, stdin=text)
        if r.returncode != 0:
            print(
                f"cg exited {r.returncode}:\n{r.stderr.decode('utf-8', 'replace')[-2000:]}",
                file=sys.stderr,
            )
            raise SystemExit(1)
        if i >= warmup:
            timed.append(r)
    return timed, json.loads(timed[-1].stdout)


def check(got: dict, want: dict) -> bool:
    bad = wrong(got, want)
    print(
        f"  answer {'checked against the closed form: ok' if not bad else 'WRONG: ' + '; '.join(bad)}"
    )
    return not bad


def bench_sum(cg: str, terms: int, runs: int, warmup: int) -> tuple[dict, bool]:
    text = sum_text(terms)
    print(
        f"\n== {terms:,}-term sum through the CLI ({len(text) / 1e6:.1f} MB on stdin), {plural(runs, 'run')} after {warmup} warm-up"
    )
    timed, answer = cli_grad(cg, text, ["--x", str(X), "--y", str(Y)], runs, warmup)
    wall = median([r.wall for r in timed])
    cpu = median([r.cpu for r in timed])
    peak = max(r.maxrss_kib for r in timed)
    verdict = "within target" if wall < TARGET else "OVER target"
    print(
        f"  median wall {secs(wall)}   (runs: {', '.join(f'{r.wall:.2f}' for r in timed)} s)   target < {TARGET:.0f} s: {verdict}"
    )
    print(f"  median CPU  {secs(cpu)}")
    print(f"  peak memory {mib(peak)}  (ru_maxrss of the cg process)")
    print(f"  output      {len(timed[-1].stdout):,} bytes of JSON")
    ok = check(answer, sum_answer(terms))
    return {"wall": wall, "cpu": cpu, "peak": peak, "answer": answer}, ok


def bench_split(python: str, terms: int, runs: int, cli: dict) -> dict:
    print(
        f"\n== the same sum in process (cgcli.parse, then cgcli.grad on the graph), {plural(runs, 'run')}"
    )
    data, r = in_child(python, "split", terms, runs)
    parse, grad = median(data["parse"]), median(data["grad"])
    print(f"  nodes       {data['nodes']:,}")
    print(f"  parse       {secs(parse)}   (CPU {median(data['parse_cpu']):.2f} s)")
    print(
        f"  grad        {secs(grad)}   (CPU {median(data['grad_cpu']):.2f} s; forward + backward)"
    )
    rest = cli["cpu"] - median(data["parse_cpu"]) - median(data["grad_cpu"])
    print(
        f"  the rest    {secs(rest)}   (CLI's CPU median minus parse's and grad's: start-up, reading, JSON)"
    )
    print(f"  peak memory {mib(r.maxrss_kib)}  (the worker process, {plural(runs, 'run')})")
    return {
        "parse": parse,
        "grad": grad,
        "parse_cpu": median(data["parse_cpu"]),
        "grad_cpu": median(data["grad_cpu"]),
    }


def bench_torch(python: str, terms: int, runs: int, split: dict | None) -> None:
    print(
        f"\n== reference: PyTorch, the same sum built with a Python loop over scalar tensors, {plural(runs, 'run')}"
    )
    data, r = in_child(python, "torch", terms, runs)
    if "missing" in data:
        print(f"  skipped: torch is not importable by {python} ({data['missing']})")
        print("  (pip install torch into cg's environment to include it)")
        return
    build, backward = median(data["build"]), median(data["backward"])
    build_cpu, backward_cpu = median(data["build_cpu"]), median(data["backward_cpu"])
    print(f"  torch {data['version']} ({data['threads']} threads): import {secs(data['import'])}")
    print(
        f"  build       {secs(build)}   (CPU {build_cpu:.2f} s; the Python loop: forward ops and graph recording)"
    )
    print(f"  backward    {secs(backward)}   (CPU {backward_cpu:.2f} s)")
    print(f"  total       {secs(build + backward)}   (CPU {build_cpu + backward_cpu:.2f} s)")
    print(f"  peak memory {mib(r.maxrss_kib)}  (the worker process, with torch imported)")
    check(data["answer"], sum_answer(terms))
    if split:
        torch_wall, torch_cpu = build + backward, build_cpu + backward_cpu
        cg_wall, cg_cpu = split["parse"] + split["grad"], split["parse_cpu"] + split["grad_cpu"]
        print("  ratios, cg / torch (build + backward):      wall    CPU")
        print(
            f"    cg parse + grad                        {cg_wall / torch_wall:6.2f}x {cg_cpu / torch_cpu:6.2f}x"
        )
        print(
            f"    cg grad alone                          {split['grad'] / torch_wall:6.2f}x {split['grad_cpu'] / torch_cpu:6.2f}x"
        )
        # the target: "a PyTorch scalar loop that builds the same graph takes about 4.8 s here" against
        # a target of 3 s, that is 0.63x if its 4.8 s is the build alone
        print("  ratio, cg / torch's build alone:             wall    CPU")
        print(
            f"    cg parse + grad                        {cg_wall / build:6.2f}x {cg_cpu / build_cpu:6.2f}x"
            f"   (the target, 3 s against its 4.8 s: {TARGET / 4.8:.2f}x)"
        )


def bench_floors(python: str, terms: int, runs: int, split: dict, lark: bool) -> None:
    print(f"\n== where parsing's time goes, {plural(runs, 'run')} (lark's own parser: 1 run)")
    data, _ = in_child(python, "floors", terms, runs, lark)
    tokens, loop = median(data["tokens"]), median(data["loop"])
    print(
        f"  tokens alone          {secs(tokens)}   (the grammar's regular expression, re.finditer)"
    )
    print(
        f"  + the table loop      {secs(loop)}   (cg's LALR loop over lark's tables, callbacks that build nothing)"
    )
    print(
        f"  + building the graph  {secs(split['parse'])}   (cg's parse, from the in-process part above)"
    )
    if data["lark"] is not None:
        print(
            f"  lark {data['lark_version']}'s own LALR parser  {secs(data['lark'])}   (a parse tree only, no graph; "
            f"{data['lark'] / split['parse']:.1f}x cg's whole parse)"
        )


def remark_compile(python: str, terms: int) -> None:
    data, r = in_child(python, "compile", terms, 1)
    if data["raised"]:
        print(
            f"\nremark: Python's own compile() of the same text raises {data['raised']}: {data['message']}"
        )
    else:
        print("\nremark: Python's own compile() of the same text succeeded with this Python")


def bench_nested(cg: str, depth: int, runs: int, warmup: int) -> bool:
    ok = True
    cases = [
        (
            f"sin(sin(...sin(x)...)) {depth:,} deep",
            nested_sin_text(depth),
            nested_sin_answer(depth),
        ),
        (f"((((x+1)+1)...)+1) {depth:,} deep", nested_add_text(depth), nested_add_answer(depth)),
    ]
    for label, text, want in cases:
        print(f"\n== {label} through the CLI, {plural(runs, 'run')}")
        timed, answer = cli_grad(cg, text, ["--x", str(X)], runs, warmup)
        assert all(r.returncode == 0 for r in timed), f"cg failed on {label}"
        print(
            f"  exit 0 on every run; median wall {secs(median([r.wall for r in timed]))}, "
            f"CPU {median([r.cpu for r in timed]):.2f} s, peak memory {mib(max(r.maxrss_kib for r in timed))}"
        )
        ok &= check(answer, want)
    return ok


def main(argv=None) -> int:
    ap = arguments(__doc__, WORKERS, "parse and grad")
    ap.add_argument("--terms", type=int, default=100_000, help="terms of the sum (default 100000)")
    ap.add_argument(
        "--depth", type=int, default=10_000, help="depth of the nestings (default 10000)"
    )
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed CLI runs first (default 1)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    ap.add_argument(
        "--no-lark", dest="lark", action="store_false", help="skip lark's own parser (about 20 s)"
    )
    ap.add_argument("--lark", action="store_true", help=argparse.SUPPRESS)  # a floors worker's
    args = ap.parse_args(argv)
    if serve(args, WORKERS, worker_profile):
        return 0

    cg, python = begin(args)
    cli, ok = bench_sum(cg, args.terms, args.runs, args.warmup)
    split = bench_split(python, args.terms, args.runs, cli)
    if args.no_torch:
        print("\n== reference: PyTorch skipped (--no-torch)")
    else:
        bench_torch(python, args.terms, args.runs, split)
    bench_floors(python, args.terms, args.runs, split, args.lark)
    remark_compile(python, args.terms)
    ok &= bench_nested(cg, args.depth, args.runs, args.warmup)
    return finish(args, python, __file__, ["--terms", str(args.terms)], ok)


if __name__ == "__main__":
    sys.exit(main())
