"""cg diff's outputs: each derivative as a program in cg's language, as `name program` lines, or
in JSON."""

from __future__ import annotations

import json
from typing import IO

from .text import ascii_only


def write_derivatives(order: int, derivatives: dict[str, str], out: IO[str]) -> None:
    """Each derivative as a program in cg's language; with several, each in a block headed by a
    comment ('# df/dx'), the blocks apart by a blank line."""
    if len(derivatives) == 1:
        text = next(iter(derivatives.values()))
    else:
        power = "" if order == 1 else f"^{order}"
        blocks = [f"# d{power}f/d{name}{power}\n{text}" for name, text in derivatives.items()]
        text = "\n\n".join(blocks)
    out.write(text + "\n")


def write_derivatives_plain(derivatives: dict[str, str], out: IO[str]) -> None:
    """`name derivative` lines, for `while read -r name value`: a derivative of several
    statements is one line, its statements apart by '; ' (still a program cg eval reads)."""
    lines = [
        f"{name} " + "; ".join(line for line in text.splitlines() if line.strip())
        for name, text in derivatives.items()
    ]
    out.write("\n".join(lines) + "\n")


def write_derivatives_json(
    source: str, order: int, derivatives: dict[str, str], warnings: list[str], out: IO[str]
) -> None:
    """{"expression", "order", "wrt", "derivatives": {name: text}, "warnings"}."""
    data = {
        "expression": source,
        "order": order,
        "wrt": list(derivatives),
        "derivatives": derivatives,
        "warnings": warnings,
    }
    out.write(json.dumps(data, ensure_ascii=ascii_only(out)) + "\n")
