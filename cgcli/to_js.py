"""cg's ops table as JavaScript, for the circuit page (cgcli/circuit.py).

Each op's local-gradient formulas are cg text over x, y and out (cgcli/ops.py). Here cg parses
each formula with its own parser into a small graph and prints the graph as a JavaScript
function, gate by gate in the graph's order (a loop, no recursion), each gate a call of the
backend function of the same name (cgcli/circuit_backend.js, which mirrors cgcli/scalar.py).
So the ops table stays the one place an op is defined: a new op needs its forward in the
backend, and the page computes its local gradients from the table's text.
"""

from __future__ import annotations

import json
import math
import re
from importlib import resources

from .ops import INPUT_NAMES, TABLE
from .syntax import parse

_FORMULA_NAMES = (*INPUT_NAMES, "out")


def backend_source() -> str:
    """The hand-written JavaScript backend: `const B = {op(x, y) {...}, ...}`."""
    return resources.files("cgcli").joinpath("circuit_backend.js").read_text(encoding="utf-8")


def backend_names(source: str | None = None) -> set[str]:
    """The ops the backend defines: the methods and properties of its object B (two spaces in,
    `name(` or `name:`)."""
    text = source if source is not None else backend_source()
    body = text[text.index("const B = {") :]
    return set(re.findall(r"^  (\w+)[(:]", body, re.MULTILINE))


def literal(v: float) -> str:
    """A float as a JavaScript number literal that reads back as the same float."""
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0 and math.copysign(1.0, v) < 0:
        return "-0"
    return repr(float(v))


def formula(text: str) -> str:
    """One local-gradient formula as `function (x, y, out) { ... }`, its gates in order."""
    graph = parse(text)
    lines = []
    for i, op in enumerate(graph.op):  # topological order: inputs before the gates that use them
        if op == "var":
            name = graph.name[i]
            if name not in _FORMULA_NAMES:
                raise ValueError(f"the formula {text!r} uses {name!r}, not one of x, y, out")
            value = name
        elif op == "const":
            value = literal(graph.value[i])
        else:
            value = f"B.{op}({', '.join(f'v{j}' for j in graph.inputs[i])})"
        lines.append(f"const v{i} = {value};")
    return "function (x, y, out) { " + " ".join(lines) + f" return v{graph.output}; }}"


def ops_source() -> str:
    """`const OPS = {name: {arity, forward, grads: [...]}, ...}` for every op of the table.

    Raises ValueError naming the ops the backend lacks: the page could not compute them.
    """
    missing = [op.name for op in TABLE if op.name not in backend_names()]
    if missing:
        raise ValueError(f"the JavaScript backend has no forward for {', '.join(missing)}")
    rows = []
    for op in TABLE:
        grads = ",\n      ".join(formula(text) for text in op.grads)
        # where the numbers come from one function of every input (ops.Op.local), the page
        # calls it; the formulas stay for reading
        local = f"    local: B.{op.local},\n" if op.local else ""
        rows.append(
            f"  {json.dumps(op.name)}: {{\n    arity: {op.arity},\n    forward: B.{op.name},\n"
            f"{local}    grads: [\n      {grads},\n    ],\n  }},"
        )
    return "const OPS = {\n" + "\n".join(rows) + "\n};\n"


def script() -> str:
    """The backend and the ops table, ready to go into a page's <script>."""
    return backend_source() + "\n" + ops_source()
