"""cg hessian's outputs: a table for people, JSON, and `name row...` lines."""

from __future__ import annotations

import json
from typing import IO

from .console import print_table, rich_console
from .human_numbers import at_points, show
from .text import as_ascii, ascii_only, json_number, shortest_float


def write_hessian_table(h, out: IO[str]) -> None:
    """The Hessian as a Rich table: one row and one column per variable."""
    from rich.table import Table
    from rich.text import Text

    console = rich_console(out, table=True)
    ascii = ascii_only(console.file)

    def clean(s: str) -> str:
        return as_ascii(s.replace("∂²", "d2").replace("∂", "d")) if ascii else s

    console.print(Text(clean(f"Hessian: ∂²f/∂r∂c in row r, column c{at_points(h.points)}")))
    table = Table()
    table.add_column("")
    for name in h.names:
        table.add_column(Text(clean(name)), overflow="fold")
    for name, row in zip(h.names, h.matrix):
        table.add_row(Text(clean(name)), *(show(v) for v in row))
    print_table(console, table)
    console.print(Text(f"f = {show(h.value)}"))
    for name, g in h.gradients.items():
        console.print(Text(clean(f"∂f/∂{name} = {show(g)}")))


def write_hessian_json(h, source: str, out: IO[str]) -> None:
    """{"expression", "variables", "hessian": [[...]], "value", "grad", "warnings"}; rows in variable order."""
    data = {
        "expression": source,
        "variables": h.names,
        "hessian": [[json_number(v) for v in row] for row in h.matrix],
        "value": json_number(h.value),
        "grad": {name: json_number(g) for name, g in h.gradients.items()},
        "warnings": h.warnings,
    }
    out.write(json.dumps(data, ensure_ascii=ascii_only(out), allow_nan=False) + "\n")


def write_hessian_plain(h, out: IO[str]) -> None:
    """One line per row: the variable's name, then the row; shortest round-trip floats."""
    lines = [
        " ".join([name, *(shortest_float(v) for v in row)]) for name, row in zip(h.names, h.matrix)
    ]
    out.write("\n".join(lines) + "\n")
