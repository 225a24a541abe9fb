"""What the command line writes: lines on stdout and stderr, warnings, files of points, and the
exit code for numbers that are not finite."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from .errors import EXIT_CANNOT_WRITE, EXIT_NOT_FINITE


class Format(str, Enum):
    """--format of cg grad and cg eval. `human`, every command's default, is the view for people:
    a tree here, a table for cg check and cg hessian, a program for cg diff; tree, table and text
    are other names for it, accepted by every command."""

    human = "human"
    json = "json"
    plain = "plain"
    csv = "csv"
    tree = "tree"
    table = "table"
    text = "text"


class Shown(str, Enum):
    """--format of the commands that write no file of points (cg check, cg diff, cg hessian)."""

    human = "human"
    json = "json"
    plain = "plain"
    tree = "tree"
    table = "table"
    text = "text"


HUMAN = ("human", "tree", "table", "text")


def view(format: Enum) -> str:
    """The output a --format asks for: human (for any of its names), json, plain or csv."""
    return "human" if format.value in HUMAN else format.value


def writing_guarded(main) -> int:
    """Run `main` (the whole command line, help included) and flush standard output inside, so
    that a write that fails (`cg … > /dev/full`) is said as one line on stderr with exit code 5,
    not a traceback: the exit code `main` gave otherwise."""
    try:
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        sys.stdout.flush()
    except OSError as e:
        if e.filename is not None:  # a file's own error that nothing said: not standard output's
            raise
        _stdout_lost(e)
        return EXIT_CANNOT_WRITE
    return code


def _stdout_lost(error: OSError) -> None:
    """Say that standard output cannot be written, then point it at /dev/null: what is left in
    its buffer goes there at exit, not into a second error ("Exception ignored …")."""
    import os

    reason = error.strerror or str(error) or type(error).__name__
    try:
        write_line(f"cg: error: cannot write standard output: {reason}", sys.stderr)
    except OSError:
        pass  # stderr is gone too: the exit code says it
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


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


NO_DIR_COLUMN = (  # {} is what the points go to: a file of points, or --format csv
    "--dir: {} has no column for the directional derivative; use --format json or tree to see it"
)


def write_points(result, env: dict, output: str | None) -> None:
    """The points and results as csv on stdout, or to the .csv or .npz file `output`."""
    from . import pointsio

    cols = pointsio.columns(as_batch(result), list(result.graph.variables), env)
    if output is None:  # a write to standard output that fails is said by writing_guarded
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
