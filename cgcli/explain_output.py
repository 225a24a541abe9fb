"""--explain: the forward pass and backprop step by step, as tables on a terminal, plain lines
when piped, and JSON-ready data."""

from __future__ import annotations

from typing import IO

from .api import Result
from .console import print_table, rich_console
from .human_numbers import human_float
from .text import ascii_only, json_number, plain_signs


def explain_data(result: Result) -> dict:
    """The --explain steps as JSON-ready data."""
    from dataclasses import asdict

    from .explain import ForkStep, backward_steps, forward_steps

    def clean(step) -> dict:
        data = asdict(step)
        for key, v in data.items():
            if isinstance(v, float):
                data[key] = json_number(v)
            elif isinstance(v, list):
                data[key] = [json_number(x) for x in v]
        return data

    backward = [
        dict(clean(s), kind="fork" if isinstance(s, ForkStep) else "gate")
        for s in backward_steps(result)
    ]
    return {"forward": [clean(s) for s in forward_steps(result)], "backward": backward}


def write_explain(result: Result, out: IO[str]) -> None:
    """The forward pass, then backprop step by step: Rich tables on a terminal, plain lines when piped."""
    from .explain import ForkStep, backward_steps, forward_steps

    forward, backward = forward_steps(result), backward_steps(result)

    def computed(s) -> str:
        if s.op == "var":
            return f"{s.text} = {human_float(s.value)}"
        if s.op == "const":
            return human_float(s.value)
        return f"{s.op}({', '.join(human_float(v) for v in s.inputs)}) = {human_float(s.value)}"

    def summed(s: ForkStep) -> str:
        return " + ".join(human_float(c) for c in s.contributions) + f" = {human_float(s.total)}"

    if not out.isatty():
        lines = ["forward pass"]
        lines += [
            f"  #{s.node} {s.op} {s.text}: {computed(s)}"
            for s in forward
            if s.op not in ("var", "const")
        ]
        lines.insert(1, "  inputs: " + ", ".join(computed(s) for s in forward if s.op == "var"))
        lines.append("backward pass, from ∂f/∂f = 1")
        for s in backward:
            if isinstance(s, ForkStep):
                lines.append(f"  fork at #{s.node} {s.text}: {summed(s)}")
            else:
                lines.append(
                    f"  #{s.gate} {s.op} gate {s.text}: upstream {human_float(s.upstream)} × local {human_float(s.local)}"
                    f" = {human_float(s.contribution)} to #{s.to} {s.to_text}"
                )
        lines += [f"∂f/∂{name} = {human_float(g)}" for name, g in result.gradients.items()]
        text = "\n".join(lines) + "\n"
        if ascii_only(out):
            text = plain_signs(text)
        out.write(text)
        return

    from rich.table import Table

    console = rich_console(out)
    sign = plain_signs if ascii_only(out) else str  # ∂ and × as d and x where only ASCII goes
    table = Table(title="forward pass, in the order it runs")
    for column in ("node", "op", "source", "computes"):
        table.add_column(column)
    for s in forward:
        table.add_row(f"#{s.node}", s.op, s.text, computed(s))
    print_table(console, table)
    table = Table(title=sign("backward pass, in the order it runs (∂f/∂f = 1)"))
    for column in ("gate", "source", "upstream", sign("× local"), "= contribution", "to input"):
        table.add_column(column)
    for s in backward:
        if isinstance(s, ForkStep):
            table.add_row(
                "fork",
                f"#{s.node} {s.text}",
                "",
                "",
                summed(s),
                "contributions add up",
                style="bold",
            )
        else:
            table.add_row(
                f"#{s.gate} {s.op}",
                s.text,
                human_float(s.upstream),
                human_float(s.local),
                human_float(s.contribution),
                f"#{s.to} {s.to_text}",
            )
    print_table(console, table)
    for name, g in result.gradients.items():
        console.print(sign(f"∂f/∂{name} = {human_float(g)}"))
