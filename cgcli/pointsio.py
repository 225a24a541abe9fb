"""Reading and writing many points: CSV (a header row names the columns) and .npz."""

from __future__ import annotations

import itertools
import math
import os

import numpy as np

from . import files
from .errors import CgError, text_of
from .text import shortest_float


def read_points(path: str) -> dict[str, np.ndarray | float]:
    """Columns by name from a .csv file (or '-' for CSV on standard input) or a .npz file.

    A column is a 1-D float64 array; a 0-d array in a .npz is a float that broadcasts.
    What is read is bounded (cgcli/files.py): CSV text by the input cap, a .npz by what its
    arrays' headers declare, checked before any array is loaded.
    """
    if path.lower().endswith(".npz"):  # as -o OUT.NPZ: the extension whatever its case
        return _read_npz(path)
    where = "standard input" if path == "-" else path
    try:
        data = files.read_capped(path, where)
    except OSError as e:
        raise CgError(f"cannot read {path}: {e.strerror or e}", file=str(path)) from None
    text = text_of(data, where)
    del data  # the bytes are not needed beside their text while the points are parsed
    return _parse_csv(text, where)


def _read_npz(path: str) -> dict[str, np.ndarray | float]:
    try:
        file = open(path, "rb")
    except OSError as e:
        raise CgError(f"cannot read {path}: {e.strerror or e}", file=str(path)) from None
    with file:  # opened here: np.load leaves its own file open when the zip is damaged
        _check_declared_size(file, path)
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
            cols[name] = column(array, f"{path}: array {name}", copy=False)
    if not cols or any(np.ndim(c) and not len(c) for c in cols.values()):
        raise CgError(f"{path}: no points", file=str(path))
    return cols


def _check_declared_size(file, path: str) -> None:
    """Refuse a .npz whose arrays would fill more memory than allowed, before loading any: at
    most the input cap, or the file's own size (an uncompressed .npz is as big as its arrays).
    A compressed member of zeros declares gigabytes in a few megabytes; each member's .npy
    header says its shape and dtype, and the zip directory its size once decompressed."""
    import zipfile

    if not zipfile.is_zipfile(file):
        file.seek(0)
        return  # np.load says what is wrong with it
    allowed = max(files.input_cap(), os.fstat(file.fileno()).st_size)
    total = 0
    try:
        with zipfile.ZipFile(file) as archive:
            for info in archive.infolist():
                total += max(info.file_size, _npy_bytes(archive, info))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        total = 0  # a damaged archive: np.load and the member's reading say what is wrong
    file.seek(0)
    if total > allowed:
        raise CgError(
            f"{path} holds {files.size_words(total)} of arrays, more than the"
            f" {files.size_words(allowed)} cg reads; set {files.CAP_VARIABLE} to raise the limit",
            file=str(path),
        )


def _npy_bytes(archive, info) -> int:
    """The bytes a .npy member's array takes once loaded, from its header alone (0 when the
    member is not a .npy: np.load reads it as bytes, bounded by its declared size)."""
    fmt = np.lib.format
    with archive.open(info) as member:
        if member.read(len(fmt.MAGIC_PREFIX)) != fmt.MAGIC_PREFIX:
            return 0
        member.seek(0)
        version = fmt.read_magic(member)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(member)
    return math.prod(shape) * dtype.itemsize


def column(a: np.ndarray, where: str, copy: bool = True) -> np.ndarray | float:
    """One array of points (a .npz member, or points given to the Python API) as float64 values.
    Bool, integer and float arrays convert exactly (integers up to 2**53 in size); complex, wider
    floats, strings and other dtypes are errors, never rounded or cut. A 0-d array is one float.
    Without `copy`, an array that is already float64 is used as it is (a loaded .npz's own)."""
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
    return a.astype(np.float64, copy=copy)


def _parse_csv(text: str, where: str) -> dict[str, np.ndarray]:
    text = text.removeprefix("\ufeff")  # Excel starts its UTF-8 CSV with a byte-order mark
    lines = _lines(text)
    header = next(lines, "")
    if not header.strip():
        raise CgError(f"{where}: no header row naming the variables")
    names = [n.strip() for n in header.split(",")]
    numbers = [k for k, name in enumerate(names) if _is_number(name) and not name.isalpha()]
    if numbers:  # a file without its header row (a variable may be named infinity, not 1.5)
        k, raw = numbers[0], header.split(",")
        at = len(",".join(raw[:k])) + (k > 0) + len(raw[k]) - len(raw[k].lstrip())
        raise CgError(
            f"{where}: the first row should name the variables (a header row such as x,y), "
            "but it holds numbers",
            header,
            at,
        )
    if "" in names:
        k = names.index("")
        raise CgError(
            f"{where}: column {k + 1} of the header has no name",
            header,
            len(",".join(header.split(",")[:k])) + (k > 0),
        )
    if len(set(names)) != len(names):
        k = next(
            k for k, name in enumerate(names) if name in names[:k]
        )  # the repeat, not the first
        raw = header.split(",")
        at = len(",".join(raw[:k])) + (k > 0) + len(raw[k]) - len(raw[k].lstrip())
        raise CgError(f"{where}: the column name {names[k]!r} repeats in the header", header, at)
    rows = (line for line in lines if line.strip())  # blank lines hold no point
    first = next(rows, None)
    if first is None:
        raise CgError(f"{where}: no points (the header is not followed by any row)")
    try:
        # comments=None: a '#' is not a number, as _is_number says, rather than the start of a dropped comment
        table = np.loadtxt(
            itertools.chain([first], rows), delimiter=",", comments=None, dtype=np.float64, ndmin=2
        )
    except ValueError:
        table = None
    if table is None or table.shape[1] != len(names):
        raise _bad_cell(_lines(text), names, where)
    # a column of its own for each variable (one column of the table already is one: no copy)
    return {name: np.ascontiguousarray(table[:, k]) for k, name in enumerate(names)}


def _lines(text: str, block: int = 2**20):
    """text.splitlines(), a block of about `block` characters at a time: the lines of a 64 MiB
    file of points never all exist at once as Python strings (that took 18 times the file)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + block)
        end = len(text) if end == -1 else end + 1  # cut after a newline: a \r\n stays whole
        yield from text[start:end].splitlines()
        start = end


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


def _character_hint(cell: str) -> str:
    """' (U+FF11 FULLWIDTH DIGIT ONE: write 1)' for a cell whose first non-ASCII character
    stands for an ASCII one; '' otherwise."""
    from .characters import ascii_equivalent, name_of

    ch = next((ch for ch in cell if not ch.isascii()), None)
    same = ch and ascii_equivalent(ch)
    return f" ({name_of(ch)}: write {same})" if same else ""


def _bad_cell(lines, names: list[str], where: str) -> CgError:
    """The error for the first row with a wrong count of values or a cell that is not a number
    (`lines`: the file's lines, header first, as a list or an iterator)."""
    lines = iter(lines)
    next(lines, None)  # the header
    for number, line in enumerate(lines, start=2):
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
                    f"{where} line {number}, column {name}: {cell.strip()!r} is not a number"
                    + _character_hint(cell),
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


CSV_ROWS = 65_536  # rows formatted at a time: the memory of a chunk, not of the whole file


def write_csv(cols: dict[str, np.ndarray], out) -> None:
    """One row per point, full precision (the shortest text that reads back the same), to a text
    stream or, given a path, to that file, replaced whole or not at all (files.replaced).
    Rows are formatted a chunk at a time: 10^7 points never exist as 10^7 Python rows."""
    if isinstance(out, (str, os.PathLike)):
        try:
            with files.replaced(out, "w", encoding="utf-8") as f:
                _write_csv_rows(cols, f)
        except OSError as e:
            raise CgError(f"cannot write {out}: {e.strerror or e}", file=str(out)) from None
    else:
        _write_csv_rows(cols, out)


def _write_csv_rows(cols: dict[str, np.ndarray], out) -> None:
    out.write(",".join(cols) + "\n")
    n = min((len(c) for c in cols.values()), default=0)
    for start in range(0, n, CSV_ROWS):
        rows = min(CSV_ROWS, n - start)
        cells = [_cells(c[start : start + rows]) for c in cols.values()]
        out.write("".join([",".join(row) + "\n" for row in zip(*cells)]))


def _cells(values: np.ndarray):
    """Each value as --format plain writes it (shortest_float: '9', not '9.0'); a column that is
    one value repeated (a variable bound to one number, broadcast to every point: stride 0) is
    formatted once."""
    if values.strides == (0,):
        return itertools.repeat(shortest_float(float(values[0])), len(values))
    return map(_shortest, values.tolist())


def _shortest(v: float) -> str:
    """shortest_float for a float of a column (repr writes nan, inf and -inf as cg does)."""
    text = repr(v)
    return text[:-2] if text.endswith(".0") else text


def write_npz(cols: dict[str, np.ndarray], path: str) -> None:
    """The columns as arrays of a .npz at `path` (whatever its extension's case: np.savez given
    a name would append .npz to a.NPZ), replaced whole or not at all (files.replaced)."""
    try:
        with files.replaced(path) as f:
            np.savez(f, **{name: np.ascontiguousarray(c) for name, c in cols.items()})
    except OSError as e:
        raise CgError(f"cannot write {path}: {e.strerror or e}", file=str(path)) from None
