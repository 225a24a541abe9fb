"""Directional derivatives in forward mode: one pass that carries tangents, no backprop.

With each node's value, the pass carries its tangent along a direction: the
sum over the gate's inputs of local gradient (the formulas of cgcli/ops.py)
× the input's tangent. Nodes that do not depend on a moving variable carry
none. cgcli/api.py's `directional` compares the result with backprop's
gradient · the same unit vector: the two must agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from . import engine, scalar
from .errors import CgError
from .graph import Graph
from .ops import OPS


def unit_vector(graph: Graph, direction: Mapping[str, float]) -> dict[str, float]:
    """The direction (components as floats) scaled to length 1; variables it leaves out have
    component 0."""
    for name in direction:
        if name not in graph.variables:
            raise CgError(f"the direction moves {name}, but the expression has no variable {name}")
    values = list(direction.values())
    if not all(math.isfinite(v) for v in values):
        raise CgError("every component of the direction must be finite")
    length = math.hypot(*values)
    if length == 0:
        raise CgError("the direction is the zero vector; give at least one component that is not 0")
    return {name: v / length for name, v in zip(direction, values)}


def forward_mode(graph: Graph, env: dict, tangents: dict[str, float], backend=scalar):
    """f and its tangent: one forward pass carrying (value, tangent) per node.

    `env` binds every variable to its value(s); `tangents` gives the moving variables'
    components (the others are 0)."""
    values: list = [None] * len(graph.op)
    carried: list = [None] * len(graph.op)
    with backend.watching():  # numpy's floating-point events go to cg, not to stderr
        _push_tangents(graph, env, tangents, backend, values, carried)
    t = carried[graph.output]
    return values[graph.output], 0.0 if t is None else t


def _push_tangents(
    graph: Graph, env: dict, tangents: dict[str, float], backend, values: list, carried: list
) -> None:
    """Fill values and carried (each node's tangent, None for none), inputs first."""
    for node in graph.nodes:
        if node.op == "var":
            values[node.id] = env[node.name]
            t = tangents.get(node.name, 0.0)
            carried[node.id] = t if t != 0 else None
            continue
        if node.op == "const":
            values[node.id] = node.value
            continue
        args = [values[i] for i in node.inputs]
        out = values[node.id] = OPS[node.op].forward(backend)(*args)
        total = None
        for i, local in zip(node.inputs, engine.local_gradients(node.op, n=len(node.inputs))):
            t = carried[i]
            if t is None:
                continue
            term = backend.mul(local(args, out, backend), t)
            total = term if total is None else backend.add(total, term)
        carried[node.id] = total
