"""Forward pass and backprop over a Graph.

Both passes are a loop over the nodes in topological order with a lookup
in the ops table: the forward function of an op comes from the numeric
backend (cgcli/scalar.py), its local gradients are the formulas of
cgcli/ops.py, compiled once per op into small graphs that the same forward
loop evaluates.

Backprop starts with ∂f/∂f = 1 and walks the gates in reverse order; each
gate multiplies its upstream gradient by its local gradient for an input
and adds the product to that input's gradient (contributions add up at
forks). Only nodes that depend on a variable get a gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import scalar
from .graph import Graph
from .ops import INPUT_NAMES, OPS


def fmt(v: float) -> str:
    """Shortest text that reads back as the same float ('9' for 9.0)."""
    if v != v:
        return "nan"
    if v in (math.inf, -math.inf):
        return "inf" if v > 0 else "-inf"
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


@dataclass
class Formula:
    """A local-gradient formula, parsed into a graph over x, y and out."""

    text: str
    graph: Graph

    def __call__(self, inputs, out, backend=scalar):
        nodes = self.graph.nodes
        if len(nodes) == 1:  # a bare input or constant: no arithmetic
            node = nodes[0]
            return node.value if node.op == "const" else _formula_env(inputs, out)[node.name]
        return forward(self.graph, _formula_env(inputs, out), backend).values[-1]


def _formula_env(inputs, out):
    env = dict(zip(INPUT_NAMES, inputs))
    env["out"] = out
    return env


_formulas: dict[str, tuple[Formula, ...]] = {}


def local_gradients(op: str) -> tuple[Formula, ...]:
    """The op's local gradient for each input, compiled on first use."""
    found = _formulas.get(op)
    if found is None:
        from .syntax import parse  # syntax needs ops, not engine: no cycle at import

        found = tuple(Formula(text, parse(text)) for text in OPS[op].grads)
        _formulas[op] = found
    return found


@dataclass
class Pass:
    values: list
    warning: str | None = None  # where the first nan or inf appeared


def forward(graph: Graph, env: dict[str, float], backend=scalar) -> Pass:
    """Every node's value, in topological order. `env` maps each variable to its value."""
    values: list = [None] * len(graph.nodes)
    warning = None
    finite = backend.all_finite
    for node in graph.nodes:
        if node.op == "var":
            v = env[node.name]
        elif node.op == "const":
            v = node.value
        else:
            args = [values[i] for i in node.inputs]
            v = getattr(backend, node.op)(*args)
            if warning is None and not finite(v) and all(finite(a) for a in args):
                warning = (
                    f"value {fmt(v)} first appears at node #{node.id} ({node.op}) "
                    f"'{graph.text(node)}' from input {', '.join(fmt(a) for a in args)}"
                )
        values[node.id] = v
    return Pass(values, warning)


def backward(graph: Graph, values: list, backend=scalar, trace: list | None = None) -> Pass:
    """∂f/∂node for every node that depends on a variable (None for the others).

    With a `trace` list, every step is appended to it as it happens:
    (gate id, input id, upstream, local gradient, contribution).
    """
    nodes = graph.nodes
    grads: list = [None] * len(nodes)
    grads[graph.output] = 1.0
    warning = None
    mul, add, finite = backend.mul, backend.add, backend.all_finite
    for node in reversed(nodes):
        upstream = grads[node.id]
        if upstream is None or not node.inputs:
            continue
        args = [values[i] for i in node.inputs]
        for k, (i, local) in enumerate(zip(node.inputs, local_gradients(node.op))):
            if not nodes[i].needs_grad:
                continue
            lg = local(args, values[node.id], backend)
            contribution = mul(upstream, lg)
            grads[i] = contribution if grads[i] is None else add(grads[i], contribution)
            if trace is not None:
                trace.append((node.id, i, upstream, lg, contribution))
            if warning is None and not finite(contribution) and finite(upstream):
                warning = (
                    f"gradient {fmt(contribution)} first appears at node #{node.id} ({node.op}) "
                    f"'{graph.text(node)}': upstream {fmt(upstream)} × local gradient {fmt(lg)} "
                    f"for input '{graph.text(nodes[i])}'"
                )
    return Pass(grads, warning)



def local_values(graph: Graph, values: list, node_id: int, backend=scalar) -> list:
    """The node's local gradient for each of its inputs, at the computed values."""
    node = graph.nodes[node_id]
    args = [values[i] for i in node.inputs]
    return [local(args, values[node_id], backend) for local in local_gradients(node.op)]
