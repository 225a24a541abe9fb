"""`cg functions` and `cg fusions`: the ops table and the fused gates as Rich tables."""

from __future__ import annotations

from typing import IO

from .console import print_table, rich_console
from .text import ascii_only, plain_signs


def write_functions(out: IO[str], ops=None) -> None:
    """The ops table as a Rich table: each op (or each of `ops`), its local gradients and its
    convention at kinks."""
    from rich.table import Table

    from .ops import CONSTANTS, INPUT_NAMES, TABLE

    table = Table(title="cg functions and operators (x, y: the inputs; out: the result)")
    for column in ("function", "computes", "local gradient", "at kinks"):
        table.add_column(column, overflow="fold")
    for op in TABLE if ops is None else ops:
        args = INPUT_NAMES[: op.arity]
        if op.symbol:
            call = f"{op.symbol}{args[0]}" if op.arity == 1 else f"{args[0]} {op.symbol} {args[1]}"
        else:
            call = op.spelling
        grads = "\n".join(f"∂out/∂{a} = {g}" for a, g in zip(args, op.grads))
        if op.symbolic:  # what cg diff and cg hessian differentiate further
            grads += "\n(cg diff: " + ", ".join(op.symbolic) + ")"
        table.add_row(*_signs_for(out, call, op.doc, grads, op.at_kinks))
    console = rich_console(out)  # 80 columns when piped; long words fold, never cut
    print_table(console, table)
    console.print("constants: " + ", ".join(f"{k} = {v!r}" for k, v in CONSTANTS.items()))


def write_fusions(out: IO[str]) -> None:
    """The fusion table: each gate, the shapes it replaces, its forward and local gradients."""
    from rich.table import Table

    from .fusion import GATES, VARIADIC_GATES, gate_name, gate_op
    from .ops import INPUT_NAMES, OPS

    table = Table(
        title="cg --fuse gates (shapes match up to + and * order and the spellings of -z)"
    )
    for column in ("gate", "replaces", "computes", "local gradient (x, y: the gate's inputs)"):
        table.add_column(column, overflow="fold")
    for becomes, shapes in GATES.items():
        op = gate_op(becomes)
        if op is None:  # a few ops: each has its own local gradients
            doc, grads = f"{gate_name(becomes)}: {becomes}", "those of its ops"
        else:
            doc = OPS[op].doc
            grads = "\n".join(f"∂out/∂{a} = {g}" for a, g in zip(INPUT_NAMES, OPS[op].grads))
        table.add_row(*_signs_for(out, becomes, "\n".join(shapes), doc, grads))
    for call, shapes in VARIADIC_GATES.items():
        op = OPS[call.split("(")[0]]
        grads = (
            f"∂out/∂a = {op.grads[0]}\n∂out/∂b, ... = {op.grads[1]}\n"
            "(computed shifted by the largest)"
        )
        table.add_row(*_signs_for(out, call, "\n".join(shapes), op.doc, grads))
    print_table(rich_console(out), table)


def _signs_for(out, *cells: str) -> list[str]:
    """The cells as the stream takes them: ∂ as d, × as x on an ASCII-only stream."""
    return [plain_signs(c) for c in cells] if ascii_only(out) else list(cells)
