"""Helpers shared by the benchmark scripts: find cg, run a child and time it.

Only the standard library: the scripts run with any Python 3.11+, and the
parts that need cgcli (or torch) run in a child process under the Python
that the installed `cg` runs with.
"""

from __future__ import annotations

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


def run(cmd: list[str], stdin: bytes | str | Path | None = None, capture: bool = True, env=None) -> Run:
    """Run cmd once; stdin is bytes/str (sent through a file) or a path to a file.

    The child's rusage comes from os.wait4, so peak memory is that child's own.
    Output goes through temporary files, so a child that prints megabytes cannot block.
    """
    env = child_env() if env is None else env
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
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
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, stdout, stderr)


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
