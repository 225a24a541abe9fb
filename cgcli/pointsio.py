"""Reading and writing many points: CSV (a header row names the columns) and .npz."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .errors import CgError, text_of


def read_points(path: str) -> dict[str, np.ndarray | float]:
    """Columns by name from a .csv file (or '-' for CSV on standard input) or a .npz file.

    A column is a 1-D float64 array; a 0-d array in a .npz is a float that broadcasts.
    """
    if path.endswith(".npz"):
        return _read_npz(path)
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise CgError(f"cannot read {path}: {e.strerror or e}", file=str(path)) from None
    where = "standard input" if path == "-" else path
    return _parse_csv(text_of(data, where), where)


def _read_npz(path: str) -> dict[str, np.ndarray | float]:
    try:
        file = open(path, "rb")
    except OSError as e:
        raise CgError(f"cannot read {path}: {e.strerror or e}", file=str(path)) from None
    with file:  # opened here: np.load leaves its own file open when the zip is damaged
        try:
            data = np.load(file, allow_pickle=False)
        except (
            Exception
        ):  # not a zip: numpy takes it for pickled data, or fails on a damaged header
            raise CgError(f"{path} is not a valid .npz file", file=str(path)) from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise CgError(
                f"{path} is not a valid .npz file (it holds a single unnamed array, as a .npy file does)",
                file=str(path),
            )
        cols = {}
        for name in data.files:
            try:
                array = np.asarray(data[name])
            except (
                Exception
            ) as e:  # object arrays, or a damaged member (zipfile, zlib, numpy's header parser)
                raise CgError(f"cannot read {path}: array {name}: {e}", file=str(path)) from None
            cols[name] = column(array, f"{path}: array {name}")
    if not cols or any(np.ndim(c) and not len(c) for c in cols.values()):
        raise CgError(f"{path}: no points", file=str(path))
    return cols


def column(a: np.ndarray, where: str) -> np.ndarray | float:
    """One array of points (a .npz member, or points given to the Python API) as float64 values.
    Bool, integer and float arrays convert exactly (integers up to 2**53 in size); complex, wider
    floats, strings and other dtypes are errors, never rounded or cut. A 0-d array is one float."""
    if a.dtype.kind == "c":
        raise CgError(f"{where} is complex: cg computes with real float64")
    if a.dtype.kind not in "biuf" or a.dtype.itemsize > 8:
        raise CgError(
            f"{where} holds {a.dtype} values: give numbers (bool, integer or float up to float64)"
        )
    if a.dtype.kind in "iu" and a.size and max(-int(a.min()), int(a.max())) > 2**53:
        raise CgError(f"{where} holds integers beyond 2**53, which float64 cannot hold exactly")
    if a.ndim == 0:
        return float(a)
    if a.ndim != 1:
        raise CgError(f"{where} has shape {a.shape}: give one value per point (a 1-D array)")
    return a.astype(np.float64)


def _parse_csv(text: str, where: str) -> dict[str, np.ndarray]:
    lines = text.removeprefix(
        "\ufeff"
    ).splitlines()  # Excel starts its UTF-8 CSV with a byte-order mark
    if not lines or not lines[0].strip():
        raise CgError(f"{where}: no header row naming the variables")
    names = [n.strip() for n in lines[0].split(",")]
    if "" in names:
        k = names.index("")
        raise CgError(
            f"{where}: column {k + 1} of the header has no name",
            lines[0],
            len(",".join(lines[0].split(",")[:k])) + (k > 0),
        )
    if len(set(names)) != len(names):
        k = next(
            k for k, name in enumerate(names) if name in names[:k]
        )  # the repeat, not the first
        raw = lines[0].split(",")
        at = len(",".join(raw[:k])) + (k > 0) + len(raw[k]) - len(raw[k].lstrip())
        raise CgError(f"{where}: the column name {names[k]!r} repeats in the header", lines[0], at)
    rows = [line for line in lines[1:] if line.strip()]  # blank lines hold no point
    if not rows:
        raise CgError(f"{where}: no points (the header is not followed by any row)")
    try:
        # comments=None: a '#' is not a number, as _is_number says, rather than the start of a dropped comment
        table = np.loadtxt(rows, delimiter=",", comments=None, dtype=np.float64, ndmin=2)
    except ValueError:
        table = None
    if table is None or table.shape[1] != len(names):
        raise _bad_cell(lines, names, where)
    return {name: table[:, k].copy() for k, name in enumerate(names)}


def _is_number(cell: str) -> bool:
    """Whether np.loadtxt reads the cell as a float64: float()'s rule without its extras
    (underscores between digits, non-ASCII digits)."""
    cell = cell.strip()
    if not cell.isascii() or "_" in cell:
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _bad_cell(lines: list[str], names: list[str], where: str) -> CgError:
    """The error for the first row with a wrong count of values or a cell that is not a number."""
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(names):
            return CgError(
                f"{where} line {number}: {len(cells)} values for {len(names)} columns",
                line,
                len(line),
            )
        pos = 0
        for name, cell in zip(names, cells):
            if not _is_number(cell):
                return CgError(
                    f"{where} line {number}, column {name}: {cell.strip()!r} is not a number",
                    line,
                    pos,
                )
            pos += len(cell) + 1
    return CgError(
        f"{where}: not a table of numbers"
    )  # np.loadtxt refused a table _is_number accepts


def columns(result, names: list[str], env: dict) -> dict[str, np.ndarray]:
    """The columns of a batch result: the variables, f, then grad_<name> for each gradient."""
    n = result.points
    out = {name: np.broadcast_to(np.asarray(env[name], dtype=np.float64), (n,)) for name in names}
    for column, values in [
        ("f", result.value),
        *((f"grad_{name}", g) for name, g in result.gradients.items()),
    ]:
        if (
            column in out
        ):  # a variable named f or grad_x: one column would silently replace the other
            raise CgError(
                f"the variable {column} has the name of an output column ({column}): a file of points cannot hold both; rename the variable",
                variable=column,
            )
        out[column] = np.asarray(values, dtype=np.float64)
    return out


def write_csv(cols: dict[str, np.ndarray], out) -> None:
    """One row per point, full precision (shortest repr that reads back the same)."""
    out.write(",".join(cols) + "\n")
    rows = zip(*(c.tolist() for c in cols.values()))
    out.writelines(",".join(map(repr, row)) + "\n" for row in rows)


def write_npz(cols: dict[str, np.ndarray], path: str) -> None:
    try:
        f = open(path, "wb")  # a file, not a name: np.savez would append .npz to a.NPZ
    except OSError as e:
        raise CgError(f"cannot write {path}: {e.strerror or e}", file=str(path)) from None
    try:
        with f:
            np.savez(f, **{name: np.ascontiguousarray(c) for name, c in cols.items()})
    except OSError as e:
        Path(path).unlink(missing_ok=True)  # not a half-written file under the user's name
        raise CgError(f"cannot write {path}: {e.strerror or e}", file=str(path)) from None
