"""The Rich console cg writes to, and tables that never split a word or a number."""

from __future__ import annotations

from .text import color_on


def rich_console(out, table: bool = False):
    """A Rich console for cg's output: user text is printed as typed (no markup, no highlighting),
    in colour when color_on says so (--color, NO_COLOR, FORCE_COLOR), with ASCII boxes and guides
    on a stream that takes ASCII only. A `table` of numbers is as wide as it needs when piped, so
    that no number is split."""
    from rich.console import Console

    color, tty = color_on(out), out.isatty()
    return Console(
        file=out,
        highlight=False,
        markup=False,
        width=None if not table or tty else 1_000_000,
        force_terminal=color or None,
        no_color=not color,
        color_system=("auto" if tty else "standard") if color else None,
        legacy_windows=False,
    )


def print_table(console, table) -> None:
    """A Rich table, or, on a terminal too narrow for it without splitting a word or a number
    (`0.78|6447`, `chec|k`), one block per row: a `column: value` line per cell, the blocks apart
    by a blank line. The narrowest the table can be is its longest words side by side."""
    from rich.measure import Measurement

    unbounded = console.options.update_width(1_000_000)  # else the measure stops at the width
    if Measurement.get(console, unbounded, table).minimum <= console.width:
        _fit_columns(console, table)
        console.print(table)
        return
    if table.title:
        console.print(table.title)
    for i in range(table.row_count):
        if i:
            console.print()
        print_fields(
            console, [(_plain(column.header), _plain(column._cells[i])) for column in table.columns]
        )


def _plain(cell) -> str:
    from rich.text import Text

    return cell.plain if isinstance(cell, Text) else str(cell)


def print_fields(console, fields) -> None:
    """A block of `field: value` lines, one per (field, text) pair: a text of several lines
    goes on below its first, indented by two spaces; an empty field's text stands alone."""
    from rich.text import Text

    for field, text in fields:
        lines = text.split("\n") or [""]
        first = f"{field}: {lines[0]}" if field else lines[0]
        console.print(Text("\n".join([first, *("  " + line for line in lines[1:])])))


def _fit_columns(console, table) -> None:
    """Column widths for a table that fits only by wrapping: each column its longest word, and
    the room left shared in proportion to how much more each would take. (Rich left to itself
    narrows the widest columns first, below their longest word: `upstre…`, `contrib…`.)"""
    unbounded = console.options.update_width(1_000_000)
    ranges = [table._measure_column(console, unbounded, column) for column in table.columns]
    inside = console.options.update_width(console.width - table._extra_width)  # as Rich lays out
    widths = table._calculate_column_widths(console, inside)
    if all(width >= r.minimum for width, r in zip(widths, ranges)):
        return  # Rich's own layout splits no word
    room = console.width - sum(r.minimum for r in ranges) - table._extra_width
    wants = [r.maximum - r.minimum for r in ranges]
    for column, r, want in zip(table.columns, ranges, wants):
        share = room * want // max(sum(wants), 1)
        column.width = r.minimum + share - table._get_padding_width(column._index)
