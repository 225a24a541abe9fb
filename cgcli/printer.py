"""A graph printed as a program in cg's own language, which parses back to the same values.

Operators, their spellings and precedences come from the ops table
(cgcli/ops.py); every other op is written as a call. Parentheses only where
cg's grammar needs them. An explicit stack: nothing recurses over the graph.
"""

from __future__ import annotations

import itertools
import math

from .graph import Graph
from .ops import ATOM, CONSTANTS, OPS, PRODUCT, SUM, UNARY
from .text import shortest_float

_NAMED_CONSTANTS = {v: k for k, v in CONSTANTS.items()}


def to_text(graph: Graph, avoid=()) -> str:
    """The graph as a cg program that parses back to the same values.

    A node used more than once becomes a statement `t1 = …` printed before
    the final expression, unless it is small (a leaf, or one op over leaves).
    `avoid`: names the statements must not take (the variables are always avoided).
    """
    nodes = graph.nodes
    uses = [0] * len(nodes)
    for node in nodes:
        for i in node.inputs:
            uses[i] += 1
    taken = set(avoid) | set(graph.variables)
    names = (n for n in (f"t{k}" for k in itertools.count(1)) if n not in taken)
    named: dict[int, str] = {}
    for node in nodes:
        if node.id != graph.output and uses[node.id] > 1 and not _small(graph, node):
            named[node.id] = next(names)
    lines = [f"{name} = {_expression(graph, i, named)}" for i, name in named.items()]
    lines.append(_expression(graph, graph.output, named))
    return "\n".join(lines)


def _small(graph: Graph, node) -> bool:
    return all(graph.nodes[i].op in ("var", "const") for i in node.inputs)


def _expression(graph: Graph, root: int, named: dict[int, str]) -> str:
    """One expression, with the named nodes (other than root) by their names."""
    out: list[str] = []
    stack: list = [(root, 0)]
    while stack:
        item, need = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item != root and item in named:
            out.append(named[item])
            continue
        prec, parts = _layout(graph, graph.nodes[item], named)
        if prec < need:
            parts = ["(", *parts, ")"]
        stack.extend((p, 0) if isinstance(p, str) else p for p in reversed(parts))
    return "".join(out)


def _layout(graph: Graph, node, named) -> tuple[int, list]:
    """A node's precedence and its parts: text, or (input id, precedence it needs there)."""
    op, inputs = node.op, node.inputs
    if op == "var":
        return ATOM, [node.name]
    if op == "const":
        return _constant(node.value)
    row = OPS[op]
    if row.infix and row.arity == 2:
        symbol = f" {row.infix} " if row.precedence == SUM else row.infix
        (left, right), (need_left, need_right) = inputs, row.operands
        return row.precedence, [(left, need_left), symbol, (right, need_right)]
    if row.infix:
        (child,) = inputs
        if op == "neg" and graph.nodes[child].op in ("mul", "div") and child not in named:
            # -(a*b) is (-a)*b to the last bit: write it without parentheses
            return PRODUCT, ["-", (child, PRODUCT)]
        return row.precedence, [row.infix, (child, row.operands[0])]
    parts: list = [op, "("]
    for k, i in enumerate(inputs):
        parts += [", "] * (k > 0) + [(i, 0)]
    return ATOM, parts + [")"]


def _constant(v: float) -> tuple[int, list]:
    if v != v:
        return ATOM, ["(1e999 - 1e999)"]  # nan has no literal
    if v in _NAMED_CONSTANTS:
        return ATOM, [_NAMED_CONSTANTS[v]]
    text = "1e999" if abs(v) == math.inf else shortest_float(abs(v))
    if math.copysign(1.0, v) < 0:
        return UNARY, ["-" + text]
    return ATOM, [text]
