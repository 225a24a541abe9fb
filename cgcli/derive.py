"""Derivatives as expressions: backprop that builds a graph instead of numbers.

Numeric backprop (cgcli/engine.py) walks the gates in reverse and, at each
gate, multiplies the upstream gradient by the gate's local gradient, a
formula of cgcli/ops.py over the gate's inputs `x`, `y` and its output `out`.
Here the same walk builds *nodes* instead: the upstream gradient is a node,
the local gradient's formula is instantiated as nodes over the gate's own
input and output nodes, and their product is one more node; contributions
that meet at a fork are added with an add node. The nodes are made by
cgcli/simplify.py's builder, which simplifies as it builds. The result is a
graph that computes ∂f/∂x:

* evaluate it and you have the gradient (`cg eval "$(cg diff …)"`);
* print it (cgcli/printer.py) and you have the derivative as a formula in
  cg's own language, which parses back to the same graph;
* differentiate it again and you have second derivatives (`--order 2`,
  Hessians: backprop over the derivative's graph gives a row of the Hessian).

Nothing here recurses over the expression: the derivative loops over the
nodes in reverse order.
"""

from __future__ import annotations

from . import engine
from .graph import Graph
from .ops import INPUT_NAMES
from .orders import OrderBound
from .printer import to_text
from .simplify import SimplifyingBuilder
from .syntax import parse

__all__ = ["derivative", "derivative_graph", "instantiate"]


def derivative_graph(graph: Graph, wrt: str) -> Graph:
    """∂f/∂wrt as a new, simplified graph (spans empty: print it with to_text)."""
    build = SimplifyingBuilder()
    new = _rebuild(graph, build)
    nodes = graph.nodes
    depends = [False] * len(nodes)  # on wrt
    for node in nodes:
        depends[node.id] = (
            node.name == wrt if node.op == "var" else any(depends[i] for i in node.inputs)
        )
    # contributions to each node, summed once all have arrived (in the order of the
    # expression, which reads better than the order backprop delivers them)
    contributions: dict[int, list[int]] = {graph.output: [build.const(1.0)]}
    for node in reversed(nodes):
        if not node.inputs:
            continue
        upstream = _total(build, contributions.pop(node.id, None))
        if upstream is None:
            continue
        formulas = engine.local_gradients(node.op, symbolic=True, n=len(node.inputs))
        for i, formula in zip(node.inputs, formulas):
            if depends[i]:
                # x, y: the inputs the formula names (for a variadic op, y is input i's place)
                at = {
                    name: new[node.inputs[k]]
                    for name, k in formula.positions.items()
                    if name in INPUT_NAMES and k < len(node.inputs)
                } | {"out": new[node.id]}
                local = instantiate(formula.graph, at, build)
                contributions.setdefault(i, []).append(build.mul(upstream, local))
    var = graph.variables.get(wrt)
    result = _total(build, contributions.get(var)) if var is not None else None
    return build.finish(build.const(0.0) if result is None else result)


def _total(build: SimplifyingBuilder, parts: list[int] | None) -> int | None:
    if not parts:
        return None
    total = parts[-1]
    for part in reversed(parts[:-1]):
        total = build.add(total, part)
    return total


def _rebuild(graph: Graph, build: SimplifyingBuilder) -> list[int]:
    """Every node of `graph` made again by the simplifying builder; new id by old id."""
    new: list[int] = []
    for node in graph.nodes:
        if node.op == "var":
            new.append(build.var(node.name))
        elif node.op == "const":
            new.append(build.const(node.value))
        else:
            new.append(build.apply(node.op, tuple(new[i] for i in node.inputs)))
    return new


def instantiate(formula: Graph, at: dict[str, int], build: SimplifyingBuilder) -> int:
    """A local-gradient formula built as nodes, its x, y and out standing for the nodes in `at`."""
    new: list[int] = []
    for node in formula.nodes:
        if node.op == "var":
            new.append(at[node.name])
        elif node.op == "const":
            new.append(build.const(node.value))
        else:
            new.append(build.apply(node.op, tuple(new[i] for i in node.inputs)))
    return new[formula.output]


def derivative(graph: Graph, wrt: str, order: int = 1) -> Graph:
    """∂ⁿf/∂wrtⁿ as a parsed program: its `source` is the formula, its nodes have spans in it.

    Each step prints the derivative and parses the text again, so what --order 2
    differentiates is exactly what `cg diff` prints (and what a pipe would pass on).
    """
    bound = OrderBound(order)  # stops at a derivative that is 0, refuses one that grows too big
    avoid = set(graph.variables)
    for reached in range(1, order + 1):
        graph = parse(to_text(derivative_graph(graph, wrt), avoid))
        if bound.done(graph, reached):
            break
    return graph
