"""Reading and writing many points: CSV (a header row names the columns) and .npz."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

from .errors import CgError


def read_points(path: str) -> dict[str, np.ndarray]:
    """Columns by name from a .csv file (or '-' for CSV on standard input) or a .npz file."""
    if path.endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as data:
                return {name: np.asarray(data[name], dtype=np.float64).reshape(-1) for name in data.files}
        except (OSError, ValueError) as e:
            raise CgError(f"cannot read {path}: {e}") from None
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CgError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    return _parse_csv(text, "standard input" if path == "-" else path)


def _parse_csv(text: str, where: str) -> dict[str, np.ndarray]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CgError(f"{where}: no header row naming the variables")
    names = [n.strip() for n in lines[0].split(",")]
    if len(set(names)) != len(names):
        raise CgError(f"{where}: a column name repeats in the header", lines[0], 0)
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    except ValueError:
        _locate_bad_cell(lines, names, where)
        raise
    if table.size == 0:
        raise CgError(f"{where}: the header is not followed by any point")
    return {name: table[:, k].copy() for k, name in enumerate(names)}


def _locate_bad_cell(lines: list[str], names: list[str], where: str) -> None:
    """Raise a CgError pointing at the first cell that is not a number."""
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(names):
            raise CgError(f"{where} line {number}: {len(cells)} values for {len(names)} columns", line, len(line))
        pos = 0
        for name, cell in zip(names, cells):
            try:
                float(cell)
            except ValueError:
                raise CgError(f"{where} line {number}, column {name}: {cell.strip()!r} is not a number", line, pos) from None
            pos += len(cell) + 1


def columns(result, names: list[str], env: dict) -> dict[str, np.ndarray]:
    """The columns of a batch result: the variables, f, then grad_<name> for each gradient."""
    n = result.points
    out = {name: np.broadcast_to(np.asarray(env[name], dtype=np.float64), (n,)) for name in names}
    out["f"] = np.asarray(result.value, dtype=np.float64)
    for name, g in result.gradients.items():
        out[f"grad_{name}"] = np.asarray(g, dtype=np.float64)
    return out


def write_csv(cols: dict[str, np.ndarray], out) -> None:
    """One row per point, full precision (shortest repr that reads back the same)."""
    out.write(",".join(cols) + "\n")
    rows = zip(*(c.tolist() for c in cols.values()))
    out.writelines(",".join(map(repr, row)) + "\n" for row in rows)


def write_npz(cols: dict[str, np.ndarray], path: str) -> None:
    try:
        np.savez(path, **{name: np.ascontiguousarray(c) for name, c in cols.items()})
    except OSError as e:
        raise CgError(f"cannot write {path}: {e.strerror}") from None
