"""Writing many points: -o FILE.csv against -o FILE.npz, through the installed `cg`.

    cg grad "sin(x)*y" --x 0:1:N --y 2 -o out.csv     (and -o out.npz)

N points (10^6 by default; --points 10000000 for 10^7) make five columns of float64
(x, y, f, grad_x, grad_y). Each run is a fresh process; the rounds alternate the two
outputs. Printed: the median wall and CPU time of each, their ratio csv/npz, and the
peak memory of each child; then, in one child, pointsio.write_csv and
pointsio.write_npz alone on the same columns, and their ratio.

The CSV is checked: its first data row reads back as the points cg computed.

    python benchmarks/csv_write.py
    python benchmarks/csv_write.py --points 10000000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _bench import find_cg, in_worker, interpreter_of, load_note, median, mib, ratio, run, secs


def worker(n: int) -> None:
    """In a child with cgcli: the writers alone, on the columns cg grad would write."""
    import numpy as np

    from cgcli import pointsio

    x = np.linspace(0.0, 1.0, n)
    cols = {"x": x, "y": np.full(n, 2.0), "f": np.sin(x) * 2, "grad_x": np.cos(x) * 2}
    cols["grad_y"] = np.sin(x)
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("npz", "csv"):
            path = str(Path(folder) / f"out.{kind}")
            start = time.perf_counter()
            (pointsio.write_npz if kind == "npz" else pointsio.write_csv)(cols, path)
            out[kind] = time.perf_counter() - start
            out[f"{kind}_bytes"] = Path(path).stat().st_size
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cg", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.points)
        return
    cg = find_cg(args.cg)
    print(load_note())
    times: dict[str, list] = {"npz": [], "csv": []}
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.runs):
            for kind in ("npz", "csv") if i % 2 == 0 else ("csv", "npz"):
                out = str(Path(folder) / f"out.{kind}")
                cmd = [cg, "grad", "sin(x)*y", "--x", f"0:1:{args.points}", "--y", "2", "-o", out]
                r = run(cmd)
                if r.returncode != 0:
                    sys.exit(f"cg failed: {' '.join(cmd)}\n{r.stderr.decode()}")
                times[kind].append(r)
        with open(Path(folder) / "out.csv") as f:
            header, first = f.readline().strip(), f.readline().strip()
        if header != "x,y,f,grad_x,grad_y" or first != "0.0,2.0,0.0,2.0,0.0":
            sys.exit(f"wrong CSV: {header!r} {first!r}")
    print(f"cg grad -o, {args.points:,} points, median of {args.runs}:")
    for kind in ("npz", "csv"):
        rs = times[kind]
        wall, cpu = median([r.wall for r in rs]), median([r.cpu for r in rs])
        print(
            f"  -o out.{kind}: wall {secs(wall)}  cpu {secs(cpu)}  peak {mib(max(r.maxrss_kib for r in rs))}"
        )
    csv_cpu = median([r.cpu for r in times["csv"]])
    npz_cpu = median([r.cpu for r in times["npz"]])
    print(f"  csv/npz (cpu): {ratio(csv_cpu, npz_cpu)}")
    split, _ = in_worker(interpreter_of(cg), __file__, "split", ["--points", str(args.points)])
    print("the writers alone (pointsio, in one process):")
    for kind in ("npz", "csv"):
        print(f"  {kind}: {secs(split[kind])}  {split[f'{kind}_bytes'] / 2**20:8.1f} MiB written")
    print(f"  csv/npz: {ratio(split['csv'], split['npz'])}")
    print(load_note())


if __name__ == "__main__":
    main()
