"""--fuse: replace known subgraphs by one gate with a hand-written local gradient.

Small gates need no derivative written by hand but do more work, and an
intermediate such as exp(1000) can overflow; one big gate (a sigmoid) is
computed in one step, its local gradient written by hand in cgcli/ops.py.

Each gate's shapes are data, written in cg's own language. In a shape, the
gate's argument names (z, a, b, t) stand for any subexpression; + and *
match in either order; a negation -z also matches 0-z, -1*z and (-1)*z;
^ is **. Shapes may use other gates (tanh's 2*sigmoid(2*z)-1): gates are
fused inputs first, so the inner sigmoid is already one gate when the
outer shape is tried. Adding a gate is adding one entry here and its op in
cgcli/ops.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph, GraphBuilder

# gate             shapes it replaces
GATES = {
    "sigmoid(z)": ("1/(1+exp(-z))", "exp(z)/(1+exp(z))", "(1+exp(-z))**-1"),
    "tanh(z)": ("(exp(z)-exp(-z))/(exp(z)+exp(-z))", "2*sigmoid(2*z)-1"),
    "softplus(z)": ("log(1+exp(z))",),
    "logaddexp(a, b)": ("log(exp(a)+exp(b))",),
    "hypot(a, b)": ("sqrt(a**2+b**2)", "sqrt(a*a+b*b)"),
    "logsigmoid(z)": ("log(sigmoid(z))", "-softplus(-z)"),
    "bce(z, t)": (
        "-(t*logsigmoid(z) + (1-t)*log(1-sigmoid(z)))",
        "-t*logsigmoid(z) - (1-t)*log(1-sigmoid(z))",
    ),
}

_COMMUTATIVE = {"add", "mul"}


@dataclass
class Shape:
    gate: str  # the op it becomes
    args: tuple[str, ...]  # the gate's argument names, in order
    text: str
    graph: Graph


_shapes: list[Shape] | None = None


def gate_names() -> list[str]:
    return [call.split("(")[0] for call in GATES]


def shapes() -> list[Shape]:
    """Every shape, parsed once into a small pattern graph."""
    global _shapes
    if _shapes is None:
        from .syntax import parse

        _shapes = []
        for call, texts in GATES.items():
            gate, _, rest = call.partition("(")
            args = tuple(a.strip() for a in rest.rstrip(")").split(","))
            _shapes += [Shape(gate, args, text, parse(text)) for text in texts]
    return _shapes


def fuse(graph: Graph, only: list[str] | None = None) -> Graph:
    """A new graph in which every match of a known shape is one gate."""
    wanted = [s for s in shapes() if only is None or s.gate in only]
    build = GraphBuilder(graph.source)
    new_id: list[int] = []
    for node in graph.nodes:
        if node.op == "var":
            i = build.var(node.name, node.start, node.end)
        elif node.op == "const":
            i = build.const(node.value, node.start, node.end)
        else:
            i = build.apply(node.op, tuple(new_id[j] for j in node.inputs), node.start, node.end)
            for shape in wanted:
                found = _match(shape, build.graph, i)
                if found is not None:
                    binding, replaced = found
                    i = build.apply(shape.gate, tuple(binding[a] for a in shape.args), node.start, node.end)
                    build.graph.nodes[i].fused = (shape.text, len(replaced))
                    break
        if node.name and node.op != "var":
            build.label(i, node.name)
        new_id.append(i)
    fused = build.finish(new_id[graph.output])
    fused.warnings = list(graph.warnings)
    return fused


def _match(shape: Shape, graph: Graph, root: int):
    """(binding of the shape's names to node ids, ids of the nodes the shape covers) or None.

    Recursion here follows the shape, a handful of nodes deep; never the user's expression.
    """
    pattern = shape.graph

    def minus_one(i):
        n = graph.nodes[i]
        return (n.op == "const" and n.value == -1) or (
            n.op == "neg" and graph.nodes[n.inputs[0]].op == "const" and graph.nodes[n.inputs[0]].value == 1
        )

    def negated(i):
        """The x such that node i computes -x, in any of its spellings."""
        n = graph.nodes[i]
        if n.op == "neg":
            return [n.inputs[0]]
        if n.op == "sub" and graph.nodes[n.inputs[0]].op == "const" and graph.nodes[n.inputs[0]].value == 0:
            return [n.inputs[1]]
        if n.op == "mul":
            a, b = n.inputs
            return [b] * minus_one(a) + [a] * minus_one(b)
        return []

    def match(p, g, binding, covered):
        pn, gn = pattern.nodes[p], graph.nodes[g]
        if pn.op == "var":
            if binding.setdefault(pn.name, g) != g:
                return None
            return binding, covered
        if pn.op == "const":
            ok = gn.op == "const" and gn.value == pn.value
            return (binding, covered | {g}) if ok else None
        if pn.op == "neg" and not (pattern.nodes[pn.inputs[0]].op == "const"):
            for inner in negated(g):
                found = match(pn.inputs[0], inner, dict(binding), covered | {g} | _spelling(graph, g, inner))
                if found:
                    return found
            return None
        if gn.op != pn.op:
            return None
        orders = [gn.inputs]
        if pn.op in _COMMUTATIVE and gn.inputs[0] != gn.inputs[1]:
            orders.append(gn.inputs[::-1])
        for order in orders:
            found = binding, covered | {g}
            for pi, gi in zip(pn.inputs, order):
                found = match(pi, gi, dict(found[0]), found[1])
                if found is None:
                    break
            if found:
                return found
        return None

    result = match(pattern.output, root, {}, frozenset())
    if result is None:
        return None
    binding, covered = result
    return binding, covered - set(binding.values())


def _spelling(graph: Graph, g: int, inner: int) -> set[int]:
    """The nodes a negation's spelling uses besides its operand (the 0 of 0-z, the -1 of -1*z)."""
    return {i for i in graph.nodes[g].inputs if i != inner} | {
        j for i in graph.nodes[g].inputs if i != inner for j in graph.nodes[i].inputs
    }
