"""Run every benchmark in turn: latency.py, huge.py, batch.py, fuse.py, csv_write.py (see README.md
beside this file).

    python benchmarks/run_all.py                 # the full runs (several minutes)
    python benchmarks/run_all.py --quick         # small sizes and few runs: a smoke test
    python benchmarks/run_all.py --cg /tmp/bench/bin/cg --profile

Each script runs as its own process with this Python; it needs only the
installed `cg` (torch and jax are optional). The exit code is the worst of theirs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cg", help="the cg executable (default: cg on PATH)")
    ap.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke test")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch references")
    ap.add_argument("--no-jax", action="store_true", help="skip the JAX reference (batch.py)")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="huge.py, batch.py and fuse.py print cProfile's hot spots",
    )
    args = ap.parse_args(argv)

    common = ["--cg", args.cg] if args.cg else []
    latency = [*common, *(["-n", "10"] if args.quick else [])]
    huge = [*common, *(["--terms", "10000", "--runs", "1", "--warmup", "0"] if args.quick else [])]
    huge += ["--no-torch"] if args.no_torch else []
    huge += ["--profile"] if args.profile else []
    quick_batch = ["--points", "100000", "--runs", "3", "--cli-runs", "2", "--terms", "10000"]
    batch = [*common, *(quick_batch if args.quick else [])]
    batch += (["--no-torch"] if args.no_torch else []) + (["--no-jax"] if args.no_jax else [])
    batch += ["--profile"] if args.profile else []
    fuse = [
        *common,
        *(
            ["--terms", "20", "--array-terms", "5", "--points", "100000", "--runs", "3"]
            if args.quick
            else []
        ),
    ]
    fuse += ["--profile"] if args.profile else []
    csv_write = [*common, *(["--points", "100000", "--runs", "1"] if args.quick else [])]

    worst = 0
    for script, extra in (
        ("latency.py", latency),
        ("huge.py", huge),
        ("batch.py", batch),
        ("fuse.py", fuse),
        ("csv_write.py", csv_write),
    ):
        print(f"\n######## {script} {' '.join(extra)}", flush=True)
        worst = max(worst, subprocess.call([sys.executable, str(HERE / script), *extra]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
