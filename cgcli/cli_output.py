"""What the command line writes: lines on stdout and stderr, warnings, files of points, and the
exit code for numbers that are not finite."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from .errors import EXIT_NOT_FINITE


class Format(str, Enum):
    tree = "tree"
    json = "json"
    plain = "plain"
    csv = "csv"


def write_line(text: str, stream=None) -> None:
    """A line to stdout (or `stream`). Not typer.echo: on an ASCII-only stream click writes UTF-8
    bytes anyway; Python's stream writes what it cannot encode as a \\u escape (main)."""
    stream = stream or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def warn(messages) -> None:
    for message in messages:
        write_line(f"cg: warning: {message}", sys.stderr)


def exit_if_not_finite(numbers) -> None:
    """Exit code 3 when a reported number is not finite (after the output is written)."""
    if not all(_all_finite(v) for v in numbers):
        raise typer.Exit(EXIT_NOT_FINITE)


def _all_finite(v) -> bool:
    if getattr(v, "ndim", 0):
        import numpy as np

        return bool(np.isfinite(v).all())
    return v - v == 0


NO_DIR_COLUMN = (
    "--dir: a file of points has no column for the directional derivative; "
    "use --format json or tree to see it"
)


def write_points(result, env: dict, output: str | None) -> None:
    """The points and results as csv on stdout, or to the .csv or .npz file `output`."""
    from . import pointsio

    cols = pointsio.columns(as_batch(result), list(result.graph.variables), env)
    if output is None:
        pointsio.write_csv(cols, sys.stdout)
    elif output.lower().endswith(".npz"):
        pointsio.write_npz(cols, output)
    else:  # replaced whole or not at all; a failure is a CgError naming the file
        pointsio.write_csv(cols, output)


def as_batch(result):
    """A single-point result seen as a batch of one, for csv and npz output."""
    if result.points is None:
        import numpy as np

        result.points = 1
        result.values[result.graph.output] = np.atleast_1d(result.value)
        result.gradients = {k: np.atleast_1d(v) for k, v in result.gradients.items()}
    return result


TEXT_BYTES = 64  # a number printed as tree or JSON: a Python float, its place in a list, its text


def printable(loaded, format: Format, output, nodes: bool) -> None:
    """Refuse, before computing, many points whose tree or JSON text would not fit in memory (a
    file of points and CSV are written a chunk at a time and need no more than the arrays)."""
    n = max((len(v) for v in loaded.env.values() if getattr(v, "ndim", 0)), default=0)
    if not n or output is not None or format in (Format.csv, Format.plain):
        return
    from .memory import check

    graph = loaded.graph
    numbers = 1 + 2 * len(graph.variables)  # f, each variable and its gradient, at each point
    if format is Format.tree or nodes:
        numbers += 2 * len(graph.nodes)
    check(n, numbers * TEXT_BYTES, f"--format {format.value}'s text")
