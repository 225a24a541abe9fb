"""The computation graph: a DAG of gates, stored in topological order.

Nodes are created children first, so the list order is already a
topological order: the forward pass walks it front to back, backprop back
to front. Identical subexpressions are one node (`sin(x)*y + sin(x)*z`
computes sin(x) once), and so is every use of a variable.
"""

from __future__ import annotations

import gc
import operator
from collections import defaultdict
from collections.abc import Sequence
from contextlib import contextmanager

from .text import elide_middle

_TEXT_LIMIT = 120  # characters of a node's source text shown before eliding the middle


_COLUMNS = ("op", "inputs", "start", "end", "needs_grad")  # lists, one entry per node
_SPARSE = ("value", "name", "fused")  # dicts, for the few nodes that have one


class Graph:
    """A computation graph, stored column by column: graph.op[i] is node i's op, graph.inputs[i]
    its inputs, and so on (a 100,000-term sum has 500,000 nodes; an object each would cost more to
    make than the rest of parsing). graph.nodes[i] is a Node, a view of the same columns."""

    def __init__(self, source: str):
        self.source = source
        self.op: list[str] = []  # "var", "const", or a key of ops.OPS
        self.inputs: list[tuple[int, ...]] = []
        self.start: list[int] = []  # span of the source text this node came from
        self.end: list[int] = []
        self.needs_grad: list[bool] = []  # depends on some variable
        self.value: dict[int, float] = {}  # a constant's value
        self.name: dict[int, str] = {}  # the variable's name, or the statement that named this node
        self.fused: dict[
            int, tuple[str, int]
        ] = {}  # a fused gate: the shape it replaced and how many nodes
        self.output = -1
        self.variables: dict[str, int] = {}  # name → node id, in order of first use
        self.warnings: list[str] = []  # said on stderr, never fatal

    @property
    def nodes(self) -> Nodes:
        return Nodes(self)

    def appenders(self) -> tuple:
        """Each column's append, in the order of _COLUMNS (op, inputs, start, end, needs_grad)."""
        return tuple(getattr(self, field).append for field in _COLUMNS)

    def text(self, node: Node | int, limit: int | None = _TEXT_LIMIT) -> str:
        """The source text a node (or node id) came from; the middle is elided past `limit` characters."""
        i = node if isinstance(node, int) else node.id
        start, end = self.start[i], self.end[i]
        if limit is None:
            return self.source[start:end]
        return elide_middle(self.source, limit, start, end)

    def consumers(self) -> list[list[int]]:
        """For each node, the ids of the gates that take it as an input."""
        out: list[list[int]] = [[] for _ in self.op]
        for node_id, inputs in enumerate(self.inputs):
            for i in inputs:
                out[i].append(node_id)
        return out


class Nodes(Sequence):
    """graph.nodes: the nodes as Node objects, made when asked for."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def __len__(self) -> int:
        return len(self.graph.op)

    def __getitem__(self, i):
        n = len(self.graph.op)
        if (
            type(i) is int and 0 <= i < n
        ):  # the common case first: derive and fusion ask millions of times
            return Node(self.graph, i)
        if isinstance(i, slice):
            return [Node(self.graph, j) for j in range(n)[i]]
        return Node(
            self.graph, range(n)[operator.index(i)]
        )  # numpy integers, negative indices, IndexError

    def __iter__(self):
        graph = self.graph
        return (Node(graph, i) for i in range(len(graph.op)))

    def __reversed__(self):
        graph = self.graph
        return (Node(graph, i) for i in range(len(graph.op) - 1, -1, -1))


class Node:
    """One node of a graph: node.op is graph.op[node.id], and so on for every column."""

    __slots__ = ("graph", "id")

    def __init__(self, graph: Graph, id: int):
        self.graph, self.id = graph, id

    def __eq__(self, other):
        return isinstance(other, Node) and other.graph is self.graph and other.id == self.id

    def __hash__(self):
        return hash((id(self.graph), self.id))

    def __repr__(self):
        return f"Node({self.id}, {self.op!r}, inputs={self.inputs})"

    # one property per column of the graph (_COLUMNS, _SPARSE), written out: they are read millions of times
    op = property(lambda n: n.graph.op[n.id])
    inputs = property(lambda n: n.graph.inputs[n.id])
    start = property(lambda n: n.graph.start[n.id])
    end = property(lambda n: n.graph.end[n.id])
    needs_grad = property(lambda n: n.graph.needs_grad[n.id])
    value = property(
        lambda n: n.graph.value.get(n.id), lambda n, v: n.graph.value.__setitem__(n.id, v)
    )
    name = property(
        lambda n: n.graph.name.get(n.id), lambda n, v: n.graph.name.__setitem__(n.id, v)
    )
    fused = property(
        lambda n: n.graph.fused.get(n.id), lambda n, v: n.graph.fused.__setitem__(n.id, v)
    )


@contextmanager
def cycle_collector_paused():
    """Python's cycle collector walks every object it tracks, again and again while millions are
    made (a 100,000-term sum makes about 3 million), for nothing: a graph has no reference
    cycles (nodes refer to their inputs by number), so building and computing one pause it."""
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
        self.graph = graph = Graph(source)
        # op → {inputs (or a constant's value) → node id}: one dict per op, so the key is a tuple
        # the node keeps anyway (a key (op, inputs) would cost 56 bytes more per node)
        self._shared: dict[str, dict] = defaultdict(dict)
        # the columns' appends, looked up once: apply runs once per gate, 400,000 times for a 100,000-term sum
        self._append = graph.appenders()

    def var(self, name: str, start: int, end: int) -> int:
        found = self.graph.variables.get(name)
        if found is None:
            found = self.graph.variables[name] = len(self.graph.op)
            self._new("var", (), start, end, True)
            self.graph.name[found] = name
        return found

    def const(self, value: float, start: int, end: int) -> int:
        # 0.0 == -0.0 and nan != nan as dict keys: those two are told apart by their repr
        key = value if value == value and value != 0 else repr(value)
        graph = self.graph
        n = len(graph.op)
        i = self._shared["const"].setdefault(key, n)  # one lookup, found or not
        if i == n:
            self._new("const", (), start, end, False)
            graph.value[i] = value
        return i

    def apply(self, op: str, inputs: tuple[int, ...], start: int, end: int) -> int:
        graph = self.graph
        n = len(graph.op)
        i = self._shared[op].setdefault(inputs, n)
        if i == n:  # a new node: _new written out, since this runs once per gate of the text
            add_op, add_inputs, add_start, add_end, add_needs_grad = self._append
            add_op(op)
            add_inputs(inputs)
            add_start(start)
            add_end(end)
            needs_grad = graph.needs_grad
            for j in inputs:
                if needs_grad[j]:
                    add_needs_grad(True)
                    break
            else:
                add_needs_grad(False)
        return i

    def _new(
        self, op: str, inputs: tuple[int, ...], start: int, end: int, needs_grad: bool
    ) -> None:
        """A node at the end of every column."""
        add_op, add_inputs, add_start, add_end, add_needs_grad = self._append
        add_op(op)
        add_inputs(inputs)
        add_start(start)
        add_end(end)
        add_needs_grad(needs_grad)

    def label(self, node_id: int, name: str) -> None:
        self.graph.name.setdefault(node_id, name)

    def kept(self, node_id: int) -> bool:
        """Whether finish kept the node that had this id while building."""
        return self._kept[node_id]

    def finish(self, output: int) -> Graph:
        """Keep only the nodes the output depends on, renumbered in the same order."""
        graph = self.graph
        keep = [False] * len(graph.op)
        keep[output] = True
        for node_id in range(len(graph.op) - 1, -1, -1):  # consumers come after their inputs
            if keep[node_id]:
                for i in graph.inputs[node_id]:
                    keep[i] = True
        self._kept = keep
        if all(keep):
            graph.output = output
            return graph
        kept = [i for i, k in enumerate(keep) if k]
        new_id = {old: new for new, old in enumerate(kept)}
        for field in _COLUMNS:
            column = getattr(graph, field)
            setattr(graph, field, [column[i] for i in kept])
        for field in _SPARSE:
            setattr(
                graph,
                field,
                {new_id[i]: v for i, v in getattr(graph, field).items() if i in new_id},
            )
        graph.inputs = [tuple(new_id[i] for i in inputs) for inputs in graph.inputs]
        graph.output = new_id[output]
        graph.variables = {n: new_id[i] for n, i in graph.variables.items() if i in new_id}
        return graph
