"""Forward pass and backprop over a Graph.

Both passes are a loop over the nodes in topological order with a lookup
in the ops table (cgcli/ops.py): an op's row gives its forward for the
backend (one point or many), and its local gradients as formulas, compiled
once per op into small graphs that the same forward loop evaluates.

Backprop starts with ∂f/∂f = 1 and walks the gates in reverse order; each
gate multiplies its upstream gradient by its local gradient for an input
and adds the product to that input's gradient (contributions add up at
forks). Only nodes that depend on a variable get a gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from . import scalar
from .graph import Graph
from .ops import ALL_AT_ONCE, INPUT_NAMES, OPS
from .syntax import parse
from .text import shortest_float


class Formula:
    """A local-gradient formula, parsed into a graph over x, y and out.

    Most formulas are a bare number (add's 1), a bare input (mul's y), the
    output (exp's out), or one op over those (sin's cos(x), abs's sign(x)):
    those are answered without running the graph.

    `positions`: where x and y come from among the gate's inputs (x: 0, y: 1; for a variadic
    op, y is the input k the gradient is for). `exact`: an op whose numbers come from its
    function of all inputs at once (ops.Op.local): the k-th of them.
    """

    def __init__(
        self, text: str, graph: Graph, positions: dict | None = None, exact=None, k: int = 0
    ):
        self.text, self.graph = text, graph
        self.positions = positions or _POSITIONS
        self.exact, self.k = exact, k
        _position = self.positions.get
        nodes = graph.nodes
        self.constant = None  # the value of a bare number, e.g. add's 1 and sub's -1
        self.input = None  # the position of a bare input (x: 0, y: 1), or "out"
        if len(nodes) == 1 and nodes[0].op == "const":
            self.constant = nodes[0].value
        elif len(nodes) == 2 and nodes[1].op == "neg" and nodes[0].op == "const":
            self.constant = -nodes[0].value
        elif len(nodes) == 1:
            self.input = _position(nodes[0].name)
        self.reads = [
            _position(name) for name in graph.variables
        ]  # what it reads: input positions, "out"
        self._bound: dict = {}  # backend → bind(backend)
        self.op = None  # one op over bare inputs, and their positions
        last = nodes[-1]
        if (
            last.inputs
            and all(nodes[i].op == "var" for i in last.inputs)
            and len(nodes) == 1 + len({*last.inputs})
        ):
            self.op, self.op_inputs = last.op, [_position(nodes[i].name) for i in last.inputs]

    def __call__(self, inputs, out, backend=scalar):
        return self.bound(backend)(inputs, out)

    def bound(self, backend):
        """bind(backend), made once per backend."""
        found = self._bound.get(backend)
        if found is None:
            found = self._bound[backend] = self.bind(backend)
        return found

    def bind(self, backend):
        """This formula as a function of (inputs, out) on one backend; the common shapes skip the graph."""
        if self.exact is not None:
            every, k = self.exact.local_gradients(backend), self.k
            return lambda inputs, out: every(inputs, out)[k]
        if self.constant is not None:
            constant = self.constant
            return lambda inputs, out: constant
        if self.input == "out":
            return lambda inputs, out: out
        if self.input is not None:
            i = self.input
            return lambda inputs, out: inputs[i]
        if self.op is not None:
            f, where = OPS[self.op].forward(backend), self.op_inputs
            if where == ["out"]:
                return lambda inputs, out: f(out)
            if len(where) == 1:
                (i,) = where
                return lambda inputs, out: f(inputs[i])
            return lambda inputs, out: f(*[out if i == "out" else inputs[i] for i in where])
        return _straight_line(self.graph, backend, self.positions)


def _straight_line(graph: Graph, backend, positions: dict):
    """A formula's graph as a function of (inputs, out): its gates in order, nothing else. The
    checks forward makes are left to the backward step that asked for the local gradient."""
    start = [None] * len(graph.op)
    for i, v in graph.value.items():
        start[i] = v
    slots = [(i, positions.get(name, name)) for name, i in graph.variables.items()]
    gates = [
        (i, OPS[graph.op[i]].forward(backend), inputs)
        for i, inputs in enumerate(graph.inputs)
        if inputs
    ]
    result = graph.output

    def local_gradient(inputs, out):
        values = start.copy()
        for i, where in slots:
            values[i] = out if where == "out" else inputs[where]
        for i, f, args in gates:
            values[i] = f(*[values[j] for j in args])
        return values[result]

    return local_gradient


# where a formula's variables come from: an input's position (x: 0, y: 1), or "out"
_POSITIONS = {name: k for k, name in enumerate(INPUT_NAMES)} | {"out": "out"}

_formulas: dict[tuple[str, bool, int], tuple[Formula, ...]] = {}


def local_gradients(op: str, symbolic: bool = False, n: int = 0) -> tuple[Formula, ...]:
    """The op's local gradient for each input, compiled on first use. `symbolic`: the forms
    derivative expressions are built from (ops.Op.symbolic). `n`: a variadic op's number of
    inputs (its fewest if not given)."""
    row = OPS[op]
    n = n if row.variadic else 0
    found = _formulas.get((op, symbolic, n))
    if found is None:
        texts = row.symbolic_grads if symbolic else row.grads
        exact = row if row.local and not symbolic else None
        if row.variadic:
            first, later = (parse(text) for text in texts)
            found = (Formula(texts[0], first, {"x": 0, "out": "out"}, exact),) + tuple(
                Formula(texts[1], later, {"x": 0, "y": k, "out": "out"}, exact, k)
                for k in range(1, max(n, row.arity))
            )
        else:
            found = tuple(
                Formula(text, parse(text), None, exact, k) for k, text in enumerate(texts)
            )
        _formulas[op, symbolic, n] = found
    return found


ONE = 1.0  # ∂f/∂f, the upstream gradient backprop starts with


@dataclass
class Pass:
    values: list
    warning: str | None = None  # where the first nan or inf appeared
    saved: dict | None = (
        None  # node id → its local gradients, where a kernel computed them with the value
    )
    clean: bool = True  # every value finite: no nan or inf came in, none appeared
    later: str | None = (
        None  # after an inf: where a nan first appears from it (log(0)*0), if it does
    )


def forward(
    graph: Graph,
    env: dict,
    backend=scalar,
    check: bool = True,
    first_point: int = 0,
    save: bool = False,
    drop: list | None = None,
    finite_inputs: bool | None = None,
    into=None,
) -> Pass:
    """Every node's value, in topological order. `env` maps each variable to its value.

    With save=True, a gate whose op has a kernel in the backend (value and local gradients
    computed together, sharing work) keeps its local gradients in Pass.saved for backward.
    `drop` (Lifetimes.forward): values to let go of after each gate. `finite_inputs`: whether
    every value in env is finite, when the caller knows (a chunk of points): else it is looked at.
    `into`: arrays for f's gate to write into (a chunk's slices of the results): its value, then
    its local gradient for each input (None where not wanted). A kernel computes them there;
    any other gate's value is copied, and its local gradients are not.
    """
    values: list = [None] * len(graph.op)
    warning = None
    functions: dict = {}  # op → the backend's forward, looked up once
    kernels = getattr(backend, "KERNELS", {}) if save else {}
    saved: dict = {}
    looks_finite, ops = backend.looks_finite, graph.op
    for name, node_id in graph.variables.items():
        values[node_id] = env[name]
    too_large = warned_at = later = (
        None  # the first constant that is not finite (a literal such as 1e309); the first gate
    )
    done = False  # a nan has been named (or the first warning was one)
    for node_id, v in graph.value.items():
        values[node_id] = v
        if check and not math.isfinite(v) and (too_large is None or node_id < too_large):
            too_large = node_id
    with backend.watching():
        for node_id, inputs in enumerate(graph.inputs):
            if inputs:  # a gate (variables and constants have their values)
                op = ops[node_id]
                f = functions.get(op)
                if f is None:
                    f = functions[op] = OPS[op].forward(backend)
                if op in kernels and graph.needs_grad[node_id]:
                    args = [values[i] for i in inputs]
                    if into is not None and node_id == graph.output:
                        v, saved[node_id] = kernels[op](*args, out=into)
                    else:
                        v, saved[node_id] = kernels[op](*args)
                elif len(inputs) == 2:
                    v = f(values[inputs[0]], values[inputs[1]])
                elif len(inputs) == 1:
                    v = f(values[inputs[0]])
                else:
                    v = f(*[values[i] for i in inputs])
                if check and not done and not looks_finite(v):
                    args = [values[i] for i in inputs]
                    # after the first inf, only a nan is news: inf*0 makes one that would otherwise hide
                    point = backend.first_new_nonfinite(v, args, nan_only=warning is not None)
                    if point is not None:
                        shown, value = (
                            ", ".join(shortest_float(backend.at(a, point)) for a in args),
                            backend.at(v, point),
                        )
                        message = (
                            f"value {shortest_float(value)} first appears at node #{node_id} ({op}) "
                            f"'{graph.text(node_id)}' from input {shown}"
                            + _at_point(backend, point + first_point)
                        )
                        if warning is None:
                            warning, warned_at, done = message, node_id, value != value
                        else:
                            later, done = message, True
                values[node_id] = v
                if drop:
                    for i in drop[node_id]:
                        values[i] = None
    if too_large is not None and (warning is None or too_large < warned_at):
        v = values[too_large]
        warning = f"value {shortest_float(v)} first appears at node #{too_large} (const) '{graph.text(too_large)}': too large for float64"
    if into is not None and values[graph.output] is not into[0]:
        into[0][...] = values[graph.output]
    if finite_inputs is None:
        finite_inputs = all(backend.all_finite(env[name]) for name in graph.variables)
    clean = warning is None and finite_inputs
    return Pass(values, warning, saved, clean, later)


def backward(
    graph: Graph,
    values: list,
    backend=scalar,
    trace: list | None = None,
    first_point: int = 0,
    saved: dict | None = None,
    drop: list | None = None,
    clean: bool = True,
) -> Pass:
    """∂f/∂node for every node that depends on a variable (None for the others).

    `saved`: local gradients that forward's kernels computed (Pass.saved), used instead of the formulas.
    `drop` (Lifetimes.backward): values to let go of after each gate; each gate's own gradient goes too.
    `clean` (Pass.clean of forward): no value is nan or inf, so a batch's floating-point flags tell
    where one appears; otherwise a local gradient can be inf without any flag (-out/y at out = inf)
    and each contribution is looked at.
    With a `trace` list, every step is appended to it as it happens:
    (gate id, input id, upstream, local gradient, contribution).
    """
    ops, inputs_of, needs = graph.op, graph.inputs, graph.needs_grad
    grads: list = [None] * len(ops)
    grads[graph.output] = ONE
    fresh = [False] * len(ops)  # grads[i] is an array backprop made for i alone: safe to add into
    warning = None
    rules_of: dict = {}  # op → for each input: (±1 for a local gradient of ±1, else 0; is it x, y or out; its function)
    looks_finite, add, mul, neg, batch = (
        backend.looks_finite,
        backend.add,
        backend.mul,
        backend.neg,
        backend.BATCH,
    )
    first_new_nonfinite = backend.first_new_nonfinite
    if not clean:
        looks_finite, first_new_nonfinite = (
            backend.all_finite,
            partial(first_new_nonfinite, strict=True),
        )
    with backend.watching():
        for node_id in range(len(ops) - 1, -1, -1):
            upstream = grads[node_id]
            if upstream is None:
                continue
            inputs = inputs_of[node_id]
            if not inputs:
                continue
            rules = rules_of.get(ops[node_id])
            if rules is None or len(rules) < len(inputs):  # a variadic op: more inputs than seen
                rules = rules_of[ops[node_id]] = [
                    (
                        f.constant if f.constant in (1, -1) else 0,
                        f.input is not None,
                        f.bound(backend),
                    )
                    for f in local_gradients(ops[node_id], n=len(inputs))
                ]
            args = None
            from_kernel = saved.pop(node_id, None) if saved else None
            if from_kernel is None and ops[node_id] in ALL_AT_ONCE:  # every local gradient at once
                row = OPS[ops[node_id]]
                args = [values[j] for j in inputs]
                from_kernel = row.local_gradients(backend)(args, values[node_id])
            for k, i in enumerate(inputs):
                if not needs[i]:
                    continue
                unit, is_an_input, local = rules[
                    k
                ]  # is_an_input: the local gradient is x, y or out itself
                if unit:  # add, sub, neg: hand the upstream gradient on, or its negation
                    lg, contribution = unit, (upstream if unit == 1 else neg(upstream))
                else:
                    if from_kernel:
                        lg = from_kernel[k]
                    else:
                        if args is None:
                            n = len(inputs)
                            args = (
                                (values[inputs[0]],)
                                if n == 1
                                else (values[inputs[0]], values[inputs[1]])
                                if n == 2
                                else [values[j] for j in inputs]
                            )
                        lg = local(args, values[node_id])
                    # upstream 1 (f itself, or below a sum): the local gradient is the contribution,
                    # even when it is a node's own array (mul's y, exp's out): then not to be added into
                    contribution = lg if upstream is ONE else mul(upstream, lg)
                    owned = not (upstream is ONE and is_an_input and not from_kernel)
                if warning is None and not looks_finite(contribution):
                    point = first_new_nonfinite(contribution, [upstream])
                    if point is not None:
                        warning = (
                            f"gradient {shortest_float(backend.at(contribution, point))} first appears at node #{node_id} "
                            f"({ops[node_id]}) '{graph.text(node_id)}': upstream {shortest_float(backend.at(upstream, point))} × "
                            f"local gradient {shortest_float(backend.at(lg, point))} for input '{graph.text(i)}'"
                            + _at_point(backend, point + first_point)
                        )
                if grads[i] is None:
                    grads[i] = contribution
                    # an array made for i alone may be added into at a fork; not upstream, which other inputs share
                    fresh[i] = contribution is not upstream and (unit or owned)
                else:
                    if (
                        batch
                        and fresh[i]
                        and getattr(grads[i], "ndim", 0)
                        and grads[i].shape == getattr(contribution, "shape", None)
                    ):
                        add(grads[i], contribution, out=grads[i])
                    else:
                        grads[i] = add(grads[i], contribution)
                        fresh[i] = True
                    if warning is None and not looks_finite(
                        grads[i]
                    ):  # the sum at a fork can overflow where no part did
                        point = first_new_nonfinite(grads[i], [contribution])
                        if point is not None:
                            warning = (
                                f"gradient {shortest_float(backend.at(grads[i], point))} first appears at node #{i} "
                                f"'{graph.text(i)}', where its contributions add up"
                                + _at_point(backend, point + first_point)
                            )
                if trace is not None:
                    trace.append((node_id, i, upstream, lg, contribution))
            if drop:
                grads[node_id] = upstream = None
                for i in drop[node_id]:
                    values[i] = None
    return Pass(grads, warning)


class Lifetimes:
    """When each value and gradient is dead, for a pass that keeps only f and the variables'
    gradients (a chunk of points). Letting go of an array as soon as it is dead lets numpy reuse
    the same few blocks of memory, still in the CPU cache, instead of asking the system for new
    pages.

    forward[g]: values no gate after g reads and backprop does not need. backward[g]: values no
    backward step after g's reads (backprop walks from the end). A value backprop reads is one a
    local-gradient formula names (x, y: the gate's inputs; out: the gate itself), except where a
    kernel saved the local gradients in forward (so forward must run with save=True).
    """

    def __init__(self, graph: Graph, backend, backprop: bool = True):
        ops, inputs_of, needs = graph.op, graph.inputs, graph.needs_grad
        kernels = getattr(backend, "KERNELS", {})
        n = len(ops)
        never = n
        last_read = [
            never
        ] * n  # the gate whose backward step reads the value last (the smallest id)
        for g, inputs in enumerate(inputs_of):
            if not backprop or not inputs or not needs[g] or ops[g] in kernels:
                continue
            if ops[g] in ALL_AT_ONCE:  # its local gradients read every input and out
                for j in (*inputs, g):
                    last_read[j] = min(last_read[j], g)
                continue
            for k, formula in enumerate(local_gradients(ops[g])):
                if needs[inputs[k]]:
                    for where in formula.reads:
                        j = g if where == "out" else inputs[where]
                        last_read[j] = min(last_read[j], g)
        last_use = [-1] * n  # the last gate forward computes from the value
        for g, inputs in enumerate(inputs_of):
            for i in inputs:
                last_use[i] = g
        self.forward: list[list[int]] = [[] for _ in range(n)]
        self.backward: list[list[int]] = [[] for _ in range(n)]
        for i in range(n):
            if not inputs_of[i] or i == graph.output:
                continue  # variables and constants are not the pass's own arrays; f is the result
            if last_read[i] != never:
                self.backward[last_read[i]].append(i)
            elif last_use[i] >= 0:
                self.forward[last_use[i]].append(i)


def _at_point(backend, point: int) -> str:
    return f" at point {point}" if backend.BATCH else ""


def local_values(graph: Graph, values: list, node_id: int, backend=scalar) -> list:
    """The node's local gradient for each of its inputs, at the computed values."""
    args = [values[i] for i in graph.inputs[node_id]]
    with backend.watching():  # numpy's floating-point events go to cg, not to stderr
        return [
            local(args, values[node_id], backend)
            for local in local_gradients(graph.op[node_id], n=len(args))
        ]
