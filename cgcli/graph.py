"""The computation graph: a DAG of gates, stored in topological order.

Nodes are created children first, so the list order is already a
topological order: the forward pass walks it front to back, backprop back
to front. Identical subexpressions are one node (`sin(x)*y + sin(x)*z`
computes sin(x) once), and so is every use of a variable.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

_TEXT_LIMIT = 120  # characters of a node's source text shown before eliding the middle


@dataclass(slots=True, eq=False)
class Node:
    id: int
    op: str  # "var", "const", or a key of ops.OPS
    inputs: tuple[int, ...] = ()
    value: float | None = None  # for "const"
    name: str | None = None  # the variable's name, or the statement that named this node
    start: int = 0  # span of the source text this node came from
    end: int = 0
    needs_grad: bool = False  # depends on some variable
    fused: tuple[str, int] | None = None  # a fused gate: the shape it replaced and how many nodes


@dataclass(eq=False)
class Graph:
    source: str
    nodes: list[Node] = field(default_factory=list)
    output: int = -1
    variables: dict[str, int] = field(default_factory=dict)  # name → node id, in order of first use
    warnings: list[str] = field(default_factory=list)  # said on stderr, never fatal

    def text(self, node: Node, limit: int | None = _TEXT_LIMIT) -> str:
        """The source text a node came from; the middle is elided past `limit` characters."""
        if limit is not None and node.end - node.start > limit:
            half = limit // 2
            return self.source[node.start : node.start + half] + " … " + self.source[node.end - half : node.end]
        return self.source[node.start : node.end]

    def consumers(self) -> list[list[int]]:
        """For each node, the ids of the gates that take it as an input."""
        out: list[list[int]] = [[] for _ in self.nodes]
        for node in self.nodes:
            for i in node.inputs:
                out[i].append(node.id)
        return out


@contextmanager
def cycle_collector_paused():
    """Python's cycle collector walks every object it tracks, again and again while millions are
    made (a 100,000-term sum makes about 3 million): about 20% of parsing it. A graph has no
    reference cycles (nodes refer to their inputs by number), so building and computing one pause it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class GraphBuilder:
    """Builds a Graph node by node, sharing identical subexpressions."""

    def __init__(self, source: str):
        self.graph = Graph(source)
        self._nodes = self.graph.nodes
        # op → {inputs (or a constant's value) → node id}: one dict per op, so the key is a tuple
        # the node keeps anyway (a key (op, inputs) would cost 56 bytes more per node)
        self._shared: dict[str, dict] = defaultdict(dict)

    def var(self, name: str, start: int, end: int) -> int:
        found = self.graph.variables.get(name)
        if found is None:
            found = self.graph.variables[name] = len(self._nodes)
            self._nodes.append(Node(found, "var", (), None, name, start, end, True))
        return found

    def const(self, value: float, start: int, end: int) -> int:
        # 0.0 == -0.0 and nan != nan as dict keys: those two are told apart by their repr
        key = value if value == value and value != 0 else repr(value)
        nodes = self._nodes
        i = self._shared["const"].setdefault(key, len(nodes))  # one lookup, found or not
        if i == len(nodes):
            nodes.append(Node(i, "const", (), value, None, start, end, False))
        return i

    def apply(self, op: str, inputs: tuple[int, ...], start: int, end: int) -> int:
        nodes = self._nodes
        i = self._shared[op].setdefault(inputs, len(nodes))
        if i == len(nodes):
            needs = False
            for j in inputs:
                if nodes[j].needs_grad:
                    needs = True
                    break
            nodes.append(Node(i, op, inputs, None, None, start, end, needs))
        return i

    def label(self, node_id: int, name: str) -> None:
        node = self.graph.nodes[node_id]
        if node.name is None:
            node.name = name

    def finish(self, output: int) -> Graph:
        """Keep only the nodes the output depends on, renumbered in the same order."""
        graph = self.graph
        keep = [False] * len(graph.nodes)
        keep[output] = True
        for node in reversed(graph.nodes):  # consumers come after their inputs
            if keep[node.id]:
                for i in node.inputs:
                    keep[i] = True
        if all(keep):
            graph.output = output
            return graph
        new_id = {}
        nodes = []
        for node in graph.nodes:
            if keep[node.id]:
                new_id[node.id] = len(nodes)
                node.id = len(nodes)
                node.inputs = tuple(new_id[i] for i in node.inputs)
                nodes.append(node)
        graph.nodes = nodes
        graph.output = new_id[output]
        graph.variables = {n: new_id[i] for n, i in graph.variables.items() if i in new_id}
        return graph
