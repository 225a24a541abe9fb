"""Output formats of a Result: a Rich tree, JSON, plain lines. No math here."""

from __future__ import annotations

import json
from typing import IO

from .api import Result
from .engine import fmt, local_values

TREE_MAX_NODES = 400  # nodes drawn before the tree says how many it left out
TREE_MAX_DEPTH = 40  # levels drawn before a branch is cut


def number(v):
    """A float for JSON; nan and ±inf as the strings "nan", "inf", "-inf"."""
    if v is None:
        return None
    v = float(v)
    return v if v - v == 0 else fmt(v)


def write_json(result: Result, out: IO[str], nodes: bool = True, fused_from: int | None = None, explain: bool = False) -> None:
    """One JSON object; the node list is written a node at a time (it can be long)."""
    graph = result.graph
    head = {
        "expression": graph.source,
        "value": number(result.value),
        "grad": {name: number(g) for name, g in result.gradients.items()},
        "warnings": result.warnings,
    }
    if fused_from is not None:
        head["fused"] = {"nodes_before": fused_from, "nodes_after": len(graph.nodes)}
    if explain:
        head["explain"] = explain_data(result)
    text = json.dumps(head, ensure_ascii=False, allow_nan=False)
    if not nodes:
        out.write(text + "\n")
        return
    out.write(text[:-1] + ', "nodes": [\n')
    grads = result.grads or [None] * len(graph.nodes)
    for node in graph.nodes:
        entry = {
            "id": node.id,
            "op": node.op,
            "name": node.name,
            "text": graph.text(node),
            "span": [node.start, node.end],
            "value": number(result.values[node.id]),
            "grad": number(grads[node.id]),
            "inputs": list(node.inputs),
        }
        if node.fused:
            shape, count = node.fused
            entry["fused"] = {"gate": node.op, "shape": shape, "replaced": graph.text(node), "nodes": count}
        sep = ",\n" if node.id else ""
        out.write(sep + json.dumps(entry, ensure_ascii=False, allow_nan=False))
    out.write("\n]}\n")


def write_plain(result: Result, out: IO[str]) -> None:
    """The value, then one `name gradient` line per variable; shortest round-trip floats."""
    lines = [fmt(result.value)] + [f"{name} {fmt(g)}" for name, g in result.gradients.items()]
    out.write("\n".join(lines) + "\n")


def write_tree(result: Result, out: IO[str], fused_from: int | None = None) -> None:
    """f at the root, each node with op, source text, value and gradient.

    A node reached again through another path (shared in the DAG) is drawn
    once, then as a reference to its id. The walk is an explicit stack.
    """
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    # honours NO_COLOR; piped output is never wrapped or cut
    console = Console(file=out, highlight=False, width=None if out.isatty() else 1_000_000)
    ascii_only = not console.encoding.lower().startswith("utf")
    d, up, arrow = ("d", "^", "<-") if ascii_only else ("∂", "↑", "←")

    def clean(s: str) -> str:
        s = s.replace("\n", " \\n " if ascii_only else " ⏎ ")
        if ascii_only:
            s = s.replace("…", "...").encode("ascii", "backslashreplace").decode("ascii")
        return s

    graph, values, grads = result.graph, result.values, result.grads
    nodes = graph.nodes

    def label(node) -> Text:
        value = fmt(values[node.id])
        grad = None if grads is None else grads[node.id]
        if node.op == "var":
            parts = [(clean(node.name), "bold green"), f" = {value}"]
        elif node.op == "const":
            parts = [(clean(node.name or graph.text(node)), "magenta")]
            parts += [f" = {value}"] if node.name else []
        else:
            name = f"{clean(node.name)} = " if node.name else ""
            parts = [(node.op, "bold cyan"), "  ", name, (clean(graph.text(node)), "yellow"), f" = {value}"]
            if node.fused:
                shape, count = node.fused
                parts[1:1] = [(clean(f" {arrow} {shape}, {count} nodes"), "magenta")]
        if grad is not None:
            parts += ["   grad ", (fmt(grad), "bold")]
        if node.fused:
            local = local_values(graph, values, node.id)
            parts += ["   local ", ", ".join(fmt(v) for v in local)]
        return Text.assemble(*parts, (f"   #{node.id}", "dim"))

    root = nodes[graph.output]
    tree = Tree(Text.assemble(("f", "bold"), f" = {fmt(result.value)}"))
    stack = [(root.id, tree, 0)]
    shown: set[int] = set()
    drawn = 0
    while stack:
        node_id, parent, depth = stack.pop()
        node = nodes[node_id]
        if drawn >= TREE_MAX_NODES:
            parent.add(Text(clean(f"… the tree stops at {TREE_MAX_NODES} nodes; --format json lists all {len(nodes)}"), "dim"))
            break
        drawn += 1
        if node_id in shown and node.inputs:
            parent.add(Text.assemble((f"{up} #{node.id} ", "dim"), (clean(graph.text(node)), "yellow"), (" (shared, shown above)", "dim")))
            continue
        shown.add(node_id)
        branch = parent.add(label(node))
        if node.inputs and depth + 1 >= TREE_MAX_DEPTH:
            branch.add(Text(clean(f"… deeper than {TREE_MAX_DEPTH} levels; --format json lists every node"), "dim"))
            continue
        for i in reversed(node.inputs):
            stack.append((i, branch, depth + 1))
    console.print(tree)
    if fused_from is not None:
        console.print(f"fused: {fused_from} nodes -> {len(nodes)} nodes" if ascii_only else f"fused: {fused_from} nodes → {len(nodes)} nodes")
    for name, g in result.gradients.items():
        console.print(Text.assemble(f"{d}f/{d}", (clean(name), "bold green"), f" = {fmt(g)}"))


def write_functions(out: IO[str]) -> None:
    """The ops table as a Rich table: each op, its local gradients and its convention at kinks."""
    from rich.console import Console
    from rich.table import Table

    from .ops import CONSTANTS, INPUT_NAMES, TABLE

    table = Table(title="cg functions and operators (x, y: the inputs; out: the result)")
    for column in ("function", "computes", "local gradient", "at kinks"):
        table.add_column(column)
    for op in TABLE:
        args = INPUT_NAMES[: op.arity]
        if op.symbol:
            call = f"{op.symbol}{args[0]}" if op.arity == 1 else f"{args[0]} {op.symbol} {args[1]}"
        else:
            call = f"{op.name}({', '.join(args)})"
        grads = "\n".join(f"∂out/∂{a} = {g}" for a, g in zip(args, op.grads))
        table.add_row(call, op.doc, grads, op.at_kinks)
    console = Console(file=out, highlight=False)
    console.print(table)
    console.print("constants: " + ", ".join(f"{k} = {v!r}" for k, v in CONSTANTS.items()))


def write_fusions(out: IO[str]) -> None:
    """The fusion table: each gate, the shapes it replaces, its forward and local gradients."""
    from rich.console import Console
    from rich.table import Table

    from .fusion import GATES
    from .ops import INPUT_NAMES, OPS

    table = Table(title="cg --fuse gates (shapes match up to + and * order and the spellings of -z)")
    for column in ("gate", "replaces", "computes", "local gradient (x, y: the gate's inputs)"):
        table.add_column(column)
    for call, shapes in GATES.items():
        op = OPS[call.split("(")[0]]
        grads = "\n".join(f"∂out/∂{a} = {g}" for a, g in zip(INPUT_NAMES, op.grads))
        table.add_row(call, "\n".join(shapes), op.doc, grads)
    Console(file=out, highlight=False).print(table)


def explain_data(result: Result) -> dict:
    """The --explain steps as JSON-ready data."""
    from dataclasses import asdict

    from .explain import ForkStep, backward_steps, forward_steps

    def clean(step) -> dict:
        data = asdict(step)
        for key, v in data.items():
            if isinstance(v, float):
                data[key] = number(v)
            elif isinstance(v, list):
                data[key] = [number(x) for x in v]
        return data

    backward = [dict(clean(s), kind="fork" if isinstance(s, ForkStep) else "gate") for s in backward_steps(result)]
    return {"forward": [clean(s) for s in forward_steps(result)], "backward": backward}


def write_explain(result: Result, out: IO[str]) -> None:
    """The forward pass, then backprop step by step: Rich tables on a terminal, plain lines when piped."""
    from .explain import ForkStep, backward_steps, forward_steps

    forward, backward = forward_steps(result), backward_steps(result)

    def computed(s) -> str:
        if s.op == "var":
            return f"{s.text} = {fmt(s.value)}"
        if s.op == "const":
            return fmt(s.value)
        return f"{s.op}({', '.join(fmt(v) for v in s.inputs)}) = {fmt(s.value)}"

    def summed(s: ForkStep) -> str:
        return " + ".join(fmt(c) for c in s.contributions) + f" = {fmt(s.total)}"

    if not out.isatty():
        lines = ["forward pass"]
        lines += [f"  #{s.node} {s.op} {s.text}: {computed(s)}" for s in forward if s.op not in ("var", "const")]
        lines.insert(1, "  inputs: " + ", ".join(computed(s) for s in forward if s.op == "var"))
        lines.append("backward pass, from ∂f/∂f = 1")
        for s in backward:
            if isinstance(s, ForkStep):
                lines.append(f"  fork at #{s.node} {s.text}: {summed(s)}")
            else:
                lines.append(
                    f"  #{s.gate} {s.op} gate {s.text}: upstream {fmt(s.upstream)} × local {fmt(s.local)}"
                    f" = {fmt(s.contribution)} to #{s.to} {s.to_text}"
                )
        lines += [f"∂f/∂{name} = {fmt(g)}" for name, g in result.gradients.items()]
        text = "\n".join(lines) + "\n"
        if not (getattr(out, "encoding", None) or "utf-8").lower().startswith("utf"):
            text = text.replace("∂", "d").replace("×", "x").encode("ascii", "backslashreplace").decode("ascii")
        out.write(text)
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False)
    table = Table(title="forward pass, in the order it runs")
    for column in ("node", "op", "source", "computes"):
        table.add_column(column)
    for s in forward:
        table.add_row(f"#{s.node}", s.op, s.text, computed(s))
    console.print(table)
    table = Table(title="backward pass, in the order it runs (∂f/∂f = 1)")
    for column in ("gate", "source", "upstream", "× local", "= contribution", "to input"):
        table.add_column(column)
    for s in backward:
        if isinstance(s, ForkStep):
            table.add_row("fork", f"#{s.node} {s.text}", "", "", summed(s), "contributions add up", style="bold")
        else:
            table.add_row(f"#{s.gate} {s.op}", s.text, fmt(s.upstream), fmt(s.local), fmt(s.contribution), f"#{s.to} {s.to_text}")
    console.print(table)
    for name, g in result.gradients.items():
        console.print(f"∂f/∂{name} = {fmt(g)}")
