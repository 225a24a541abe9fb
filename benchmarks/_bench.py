"""Helpers shared by the benchmark scripts: find cg, run a child and time it.

Only the standard library: the scripts run with any Python 3.11+, and the
parts that need cgcli (or torch) run in a child process under the Python
that the installed `cg` runs with.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """One finished child process: wall time, CPU time, peak memory, exit code, output."""

    wall: float  # seconds, time.perf_counter around start..reaped
    cpu: float  # seconds, user + system of the child
    maxrss_kib: int  # peak resident set of the child (ru_maxrss, KiB on Linux)
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""


def find_cg(given: str | None) -> str:
    """The cg executable: --cg if given, else the one on PATH; exits with a hint if none."""
    path = shutil.which(given or "cg") or given
    if not path or not Path(path).is_file():
        sys.exit(
            "cg not found: install it (python3 -m venv /tmp/bench && /tmp/bench/bin/pip install .) "
            "and put it on PATH, or pass --cg /path/to/cg"
        )
    return os.path.abspath(path)


def interpreter_of(cg: str) -> str:
    """The Python that the `cg` console script runs with (its #! line), else this one."""
    try:
        with open(cg, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        words = first[2:].split()
        if words and "python" in Path(words[0]).name:
            return words[0]
    return sys.executable


def child_env() -> dict[str, str]:
    """This environment without PYTHONDONTWRITEBYTECODE: a real install reads and writes .pyc files."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(
    cmd: list[str], stdin: bytes | str | Path | None = None, capture: bool = True, env=None
) -> Run:
    """Run cmd once; stdin is bytes/str (sent through a file) or a path to a file.

    The child's rusage comes from os.wait4, so peak memory is that child's own.
    Output goes through temporary files, so a child that prints megabytes cannot block.
    """
    env = child_env() if env is None else env
    with (
        tempfile.TemporaryFile() as fin,
        tempfile.TemporaryFile() as fout,
        tempfile.TemporaryFile() as ferr,
    ):
        if isinstance(stdin, Path):
            src = open(stdin, "rb")
        else:
            if stdin is not None:
                fin.write(stdin.encode() if isinstance(stdin, str) else stdin)
                fin.seek(0)
            src = fin if stdin is not None else subprocess.DEVNULL
        out = fout if capture else subprocess.DEVNULL
        err = ferr if capture else subprocess.DEVNULL
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=src, stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        finally:
            if isinstance(stdin, Path):
                src.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = stderr = b""
        if capture:
            fout.seek(0)
            ferr.seek(0)
            stdout, stderr = fout.read(), ferr.read()
    return Run(
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, stdout, stderr
    )


def median(xs) -> float:
    return statistics.median(xs)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:7.2f} s"


def mib(kib: int) -> str:
    return f"{kib / 1024:7.1f} MiB"


def load_note() -> str:
    """The 1-minute load average against the core count: timings on a busy machine are noisy."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return ""
    cores = os.cpu_count() or 1
    note = f"load average {load:.2f} on {cores} cores"
    if load > 0.5 * cores:
        note += " -- the machine is busy: wall times are inflated, CPU times less so"
    return note


def rotated(labels: list, i: int) -> list:
    """The labels in round i's order: the start rotates each round, so no contender always goes first."""
    shift = i % len(labels) if labels else 0
    return labels[shift:] + labels[:shift]


def ratio(a: float, b: float) -> str:
    return f"{a / b:6.2f}x" if b > 0 else "     --"


# glibc's malloc gives a freed block of megabytes back to the system and asks for fresh pages,
# which the kernel zeroes on first touch, the next time; whether a call pays for that (a few ms
# at 10^6 points) depends on what ran before it, and swung ratios 2x from run to run. With
# these tunables, freed memory stays with the process: every contender computes in warm pages.
WARM_MALLOC = "glibc.malloc.trim_threshold=4294967296:glibc.malloc.mmap_threshold=33554432"


def in_worker(
    python: str, script: str, kind: str, args: list[str], warm_malloc: bool = False
) -> tuple[dict, Run]:
    """Run `python script --worker kind ...args`; the JSON object on its last line of output, and the Run.

    warm_malloc: run the child with WARM_MALLOC. Exits with the child's error output if it
    fails (with a hint when it cannot import cgcli).
    """
    env = child_env() | ({"GLIBC_TUNABLES": WARM_MALLOC} if warm_malloc else {})
    r = run([python, script, "--worker", kind, *args], env=env)
    if r.returncode != 0:
        err = r.stderr.decode("utf-8", "replace")
        hint = (
            f"\n{python} cannot import cgcli: pass --python with cg's Python"
            if "No module named 'cgcli'" in err
            else ""
        )
        sys.exit(f"the {kind} worker failed (exit {r.returncode}):\n{err[-4000:]}{hint}")
    return json.loads(r.stdout.decode().strip().splitlines()[-1]), r


def print_profile(prof, title: str, top: int, cpu: str = "") -> None:
    """cProfile's top functions by own time, with their share of the profiled total.

    cpu: " CPU" when the profiler's timer was time.process_time, for the title.
    """
    import pstats

    stats = pstats.Stats(prof)
    total = stats.total_tt
    print(f"\ncProfile: {title}, {total:.2f} s{cpu} under the profiler (top {top} by own time)")
    print(f"{'own s':>8} {'share':>6} {'cum s':>8} {'calls':>10}  function")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (file, line, func), (_, calls, own, cum, _) in rows:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        print(f"{own:8.3f} {own / total:6.1%} {cum:8.3f} {calls:10d}  {func}  ({where})")


def timed_ops(module, prefix: str) -> dict:
    """Wrap every public function of `module` (e.g. cgcli.arrays) in a Python function named
    `prefix.op`, so that cProfile shows the time of each op (numpy ufuncs are invisible to it:
    their time would count as their caller's own time). Returns the originals for untimed_ops.
    """
    saved = {}
    for name in dir(module):
        f = getattr(module, name)
        if (
            name.startswith("_")
            or not callable(f)
            or isinstance(f, type)
            or name in ("watching", "first_new_nonfinite", "at")
        ):
            continue

        def make(f=f):
            def wrapper(*args, **kwargs):
                return f(*args, **kwargs)

            return wrapper

        w = make()
        w.__code__ = w.__code__.replace(
            co_name=f"{prefix}.{name}",
            co_qualname=f"{prefix}.{name}",
            co_filename=f"timed {module.__name__}.{name}",
            co_firstlineno=0,
        )
        saved[name] = f
        setattr(module, name, w)
    return saved


def untimed_ops(module, saved: dict) -> None:
    for name, f in saved.items():
        setattr(module, name, f)


def profile_batch(graphs: dict, bindings: dict, title: str, top: int) -> None:
    """cProfile of cgcli.grad over arrays (keep_nodes=False) for each graph, each op of
    cgcli.arrays shown as arrays.<op>. By CPU time, steadier than wall time on a busy machine,
    and in one thread: cProfile sees only the thread it runs in, and cg's chunks would
    otherwise run in others. `title` may name {label}, the graph's key."""
    import cProfile

    import cgcli
    from cgcli import arrays, chunks

    threads, chunks.THREADS = chunks.THREADS, 1
    saved = {}
    try:
        for graph in graphs.values():
            cgcli.grad(
                graph, bindings, keep_nodes=False
            )  # warm: the first run in a process is slower
        saved = timed_ops(arrays, "arrays")
        for label, graph in graphs.items():
            prof = cProfile.Profile(time.process_time)
            prof.runctx(
                "grad(graph, bindings, keep_nodes=False)",
                {"grad": cgcli.grad},
                {"graph": graph, "bindings": bindings},
            )
            print_profile(prof, title.format(label=label), top, " CPU")
    finally:
        untimed_ops(arrays, saved)
        chunks.THREADS = threads


# ---------------------------------------------------------------------------
# what every script's main() does


def arguments(doc: str, workers, profile: str) -> argparse.ArgumentParser:
    """A parser with the options every benchmark has: --cg, --python, --profile, --top (and the
    hidden --worker its children get). `profile`: what --profile shows, for the help."""
    ap = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cg", help="the cg executable (default: cg on PATH)")
    ap.add_argument(
        "--python", help="the Python for the in-process parts (default: the one cg runs with)"
    )
    ap.add_argument(
        "--profile", action="store_true", help=f"print cProfile's hot spots of {profile}"
    )
    ap.add_argument("--top", type=int, default=15, help="functions shown by --profile (default 15)")
    ap.add_argument("--worker", choices=[*workers, "profile"], help=argparse.SUPPRESS)
    return ap


def serve(args, workers: dict, profile) -> bool:
    """In a child started with --worker: run that worker (its JSON on standard output) and say True."""
    if args.worker == "profile":
        profile(args)
    elif args.worker:
        print(json.dumps(workers[args.worker](args)))
    return bool(args.worker)


def begin(args, heading: str = "") -> tuple[str, str]:
    """cg and its Python; prints them, the heading and the machine's load."""
    cg = find_cg(args.cg)
    python = args.python or interpreter_of(cg)
    print(f"cg:     {cg}\npython: {python}" + (f"\n{heading}" if heading else ""))
    if note := load_note():
        print(note)
    return cg, python


def finish(args, python: str, script: str, flags: list[str], ok: bool) -> int:
    """With --profile, the profile child's output; the load after; the exit code."""
    if args.profile:
        r = run([python, script, "--worker", "profile", "--top", str(args.top), *flags])
        print(r.stdout.decode("utf-8", "replace") or r.stderr.decode("utf-8", "replace"))
    if note := load_note():
        print(f"\nafter: {note}")
    return 0 if ok else 1
