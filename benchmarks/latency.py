"""One-shot latency: `cg grad "(x+y)**2" --x 1 --y 2` against `qalc -t "diff((x+y)^2, x)"`.

Each command is a fresh process, as a person at a shell runs it. The commands
run interleaved in the same rounds (the order rotates each round), after a few
warm-up rounds, so that both see the same machine. Printed per command: the
median wall time (with min and the middle half), the median CPU time (user +
system of the child), and the ratio of medians cg/qalc against the target 1.6.

For information it also times `cg grad ... --format plain` (no Rich tree)
and, with the Python that cg runs with, `python -c pass` (interpreter start),
`python -c "import typer"` (the CLI framework) and
`python -c "import cgcli.cli"` (all of cg's imports), so a reader sees where
cg's time goes.

    python benchmarks/latency.py                # cg from PATH, 30 runs each
    python benchmarks/latency.py --cg /tmp/bench/bin/cg -n 50

Nothing here asserts a time: it prints numbers. It exits 1 only when a command
fails or prints a wrong answer.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _bench import find_cg, interpreter_of, load_note, median, ms, run

TARGET = 1.6  # cg's median within this factor of qalc's

CG_ARGS = ["grad", "(x+y)**2", "--x", "1", "--y", "2"]
QALC_ARGS = ["-t", "diff((x+y)^2, x)"]


def commands(cg: str, qalc: str | None, python: str) -> dict[str, list[str]]:
    """The commands to time, by label."""
    cmds = {"cg grad": [cg, *CG_ARGS]}
    if qalc:
        cmds["qalc diff"] = [qalc, *QALC_ARGS]
    cmds["cg grad --format plain"] = [cg, *CG_ARGS, "--format", "plain"]
    cmds["python -c pass"] = [python, "-c", "pass"]
    cmds["python -c 'import typer'"] = [python, "-c", "import typer"]
    cmds["python -c 'import cgcli.cli'"] = [python, "-c", "import cgcli.cli"]
    return cmds


def check_outputs(cmds: dict[str, list[str]]) -> None:
    """Run each command once and check that it works and, for cg and qalc, answers right."""
    expect = {
        "cg grad": ["∂f/∂x = 6", "∂f/∂y = 6", "= 9"],
        "cg grad --format plain": ["9\nx 6\ny 6"],
        "qalc diff": ["2x + 2y"],
    }
    for label, cmd in cmds.items():
        r = run(cmd)
        out = r.stdout.decode("utf-8", "replace")
        missing = [e for e in expect.get(label, []) if e not in out]
        if r.returncode != 0 or missing:
            print(
                f"{label} failed (exit {r.returncode}); expected {missing} in its output:",
                file=sys.stderr,
            )
            print(out + r.stderr.decode("utf-8", "replace"), file=sys.stderr)
            sys.exit(1)


def measure(cmds: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list]:
    """Wall and CPU times of every command over `runs` interleaved rounds, after `warmup` rounds."""
    labels = list(cmds)
    times: dict[str, list] = {label: [] for label in labels}
    for i in range(warmup + runs):
        shift = i % len(labels)
        for label in labels[shift:] + labels[:shift]:
            r = run(cmds[label], capture=False)
            if r.returncode != 0:
                sys.exit(f"{label} exited {r.returncode} during the timing runs")
            if i >= warmup:
                times[label].append(r)
    return times


def med(times: dict[str, list], label: str) -> tuple[float, float]:
    """Median wall and median CPU seconds of one command."""
    return median([r.wall for r in times[label]]), median([r.cpu for r in times[label]])


def report_table(times: dict[str, list], runs: int, warmup: int) -> None:
    print(f"\n{runs} runs each, interleaved, after {warmup} warm-up rounds")
    print(f"{'command':30} {'median wall':>12} {'min':>10} {'middle half':>22} {'median CPU':>12}")
    for label, rs in times.items():
        walls = sorted(r.wall for r in rs)
        q1, q3 = walls[len(walls) // 4], walls[(3 * len(walls)) // 4]
        cpu = median([r.cpu for r in rs])
        print(
            f"{label:30} {ms(median(walls)):>12} {ms(walls[0]):>10} {ms(q1):>10} ..{ms(q3):>10} {ms(cpu):>12}"
        )


def report_ratio(times: dict[str, list]) -> None:
    if "qalc diff" not in times:
        return
    (cg, cg_cpu), (qalc, qalc_cpu) = med(times, "cg grad"), med(times, "qalc diff")
    verdict = "within target" if cg / qalc <= TARGET else "OVER target"
    print(f"\nratio cg/qalc (median wall): {cg / qalc:.2f}x   target <= {TARGET}x: {verdict}")
    print(f"ratio cg/qalc (median CPU):  {cg_cpu / qalc_cpu:.2f}x")


def report_breakdown(times: dict[str, list]) -> None:
    """Differences of medians: interpreter, typer, cg's other imports, the run, the Rich tree."""
    rows = [
        ("interpreter start", "python -c pass", None),
        ("+ import typer", "python -c 'import typer'", "python -c pass"),
        ("+ import the rest of cg", "python -c 'import cgcli.cli'", "python -c 'import typer'"),
        ("+ run the command", "cg grad", "python -c 'import cgcli.cli'"),
        ("  of which the tree (Rich)", "cg grad", "cg grad --format plain"),
    ]
    print(
        "\nwhere cg's time goes (differences of medians, for information; CPU is steadier on a busy machine):"
    )
    print(f"  {'':30} {'wall':>10} {'CPU':>10}")
    for label, minuend, subtrahend in rows:
        (wall, cpu), (wall0, cpu0) = (
            med(times, minuend),
            med(times, subtrahend) if subtrahend else (0.0, 0.0),
        )
        print(f"  {label:30} {ms(wall - wall0):>10} {ms(cpu - cpu0):>10}")
    print(
        "  (the run: parse, backprop, printing and the imports they make; the tree: default output minus --format plain)"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cg", help="the cg executable (default: cg on PATH)")
    ap.add_argument(
        "--qalc", default=shutil.which("qalc"), help="the qalc executable (default: qalc on PATH)"
    )
    ap.add_argument(
        "-n", "--runs", type=int, default=30, help="timed runs of each command (default 30)"
    )
    ap.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    args = ap.parse_args(argv)

    cg = find_cg(args.cg)
    python = interpreter_of(cg)
    print(f"cg:     {cg}")
    print(f"python: {python} (the interpreter cg runs with)")
    if args.qalc:
        print(f"qalc:   {args.qalc}")
    else:
        print(
            "qalc:   not found -- install it with `apt-get install qalc` for the comparison; timing cg alone"
        )
    if note := load_note():
        print(note)

    cmds = commands(cg, args.qalc, python)
    check_outputs(cmds)
    times = measure(cmds, args.runs, args.warmup)
    report_table(times, args.runs, args.warmup)
    report_ratio(times)
    report_breakdown(times)
    if note := load_note():
        print(f"\nafter: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
