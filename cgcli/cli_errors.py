"""Errors in the command line's words: the library's CgError names a variable, a file or a
place in the text; here it becomes the typed words with a caret under the one that gave it."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import typer

from . import cli_args
from .cli_args import WordError
from .cli_output import write_line
from .errors import (
    EXIT_BAD_INPUT,
    EXIT_CANNOT_WRITE,
    CgError,
    NotAVariable,
    UnboundVariable,
    UnknownGate,
    out_of_memory,
)
from .text import ascii_only

TYPED = "cg: the words as typed"  # ctx.meta keys (the meta dict is shared by nested contexts)
LINE = "cg: the command's words, read"


@contextmanager
def shown(ctx):
    """A CgError raised inside: said on stderr, with the command line and a caret when it is
    about a word of it, and exit code 2."""
    try:
        yield
    except CgError as e:
        shown = on_command_line(e, ctx.meta.get(LINE), ctx.meta.get(TYPED, []))
        write_line(shown.render(ascii_only(sys.stderr)), sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except MemoryError:
        out_of_memory_said()


def out_of_memory_said(doing: str = "computing"):
    """A MemoryError said in one line, exit code 2: never a traceback."""
    write_line(out_of_memory(doing).render(ascii_only(sys.stderr)), sys.stderr)
    raise typer.Exit(EXIT_BAD_INPUT) from None


def on_command_line(error: CgError, line: cli_args.Line | None, typed: list[str]) -> CgError:
    """The error as the command line says it: with advice in its words, and the typed words with
    a caret under the one that gave the variable, the file or the option it is about."""
    message = error.message
    if isinstance(error, UnboundVariable):  # the advice before the hint that ends the message
        message = message.removesuffix(error.hint) + _bind(error.variable, line) + error.hint
    elif isinstance(error, UnknownGate):
        message += "; `cg fusions` lists them"
    if isinstance(error, WordError):
        return cli_args.on_command_line(message, typed, error.at, error.offset)
    if error.source is not None or line is None:
        return error.saying(message)
    at = None
    if error.variable is not None:
        at = cli_args.value_word(line, error.variable)
        if at is None and line.given.get("points"):  # a column of the points file
            at = line.given["points"][-1].value_at
    elif error.file is not None:
        at = cli_args.file_word(line, error.file)
    if at is None:  # '--wrt z: …': under the option the message names first
        at = cli_args.where_named(message, line)
    return cli_args.on_command_line(message, typed, at)


def _bind(variable: str, line: cli_args.Line | None) -> str:
    """How to give the variable a value: ': pass --x VALUE', or when --eps is the command's own
    option (cg check "x+eps" --eps 0.5 sets the step), that -v binds the variable."""
    spelled = f"--{variable}"
    if line is None or spelled not in line.known:
        return f": pass {spelled} VALUE"
    given = [g for g in cli_args.every_given(line) if g.option == spelled]
    value = given[-1].value if given and given[-1].value is not None else "VALUE"
    owner = "cg" if spelled in line.shared else f"cg {line.command}"  # --color: every command's
    return (
        f": {spelled} is an option of {owner}, not a binding; "
        f"bind the variable with -v {variable}={value}"
    )


@contextmanager
def about(option: str, value: str | None = None):
    """A context in which a CgError is about `option` (and `value`): its message says so first,
    and the caret goes under the option."""
    try:
        yield
    except CgError as e:
        raise e.prefixed(f"{option} {value}: " if value is not None else f"{option}: ") from None


@contextmanager
def wrt_named():
    """A name of --wrt that is not a variable: '--wrt z: the expression has no variable z'."""
    try:
        yield
    except NotAVariable as e:
        raise e.prefixed(f"--wrt {e.variable}: ") from None


def memory_said_at_top() -> None:
    """A MemoryError that reached the entry point (cli.run), said as `shown` says one."""
    try:
        out_of_memory_said("writing the output")
    except typer.Exit as e:
        sys.exit(e.exit_code)


def closed_stdout_said() -> None:
    """cg run with its standard output closed (`>&-`): one line on stderr and the exit code of a
    failed write, before any work whose results could not be shown."""
    if sys.stderr is not None:
        write_line("cg: error: cannot write standard output: it is closed", sys.stderr)
    sys.exit(EXIT_CANNOT_WRITE)
