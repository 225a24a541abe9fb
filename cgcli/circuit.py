"""The circuit page: one self-contained HTML file that shows backprop run (cg graph -o FILE.html).

The page holds the circuit as Graphviz draws it (cgcli/picture.py), the steps of the forward
pass and of backprop in the order cgcli/explain.py gives them, and a script that steps through
them and recomputes every number when a variable changes. The script's arithmetic is cg's own:
the backend (cgcli/circuit_backend.js) mirrors cgcli/scalar.py, and every op's local gradients
are written into the page from the ops table by cgcli/to_js.py. Where --fuse changes the graph,
the page holds both circuits and a switch between them.

What the page starts with are cg's numbers, computed here; the script recomputes only when the
reader changes a variable. Nothing is fetched: the CSS, the script and the data are inline.
User text (the expression, variable names) goes into the page as escaped HTML or as JSON data,
never as code.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources

from . import api, picture, to_js
from .api import Result
from .errors import CgError
from .explain import BackwardStep, backward_steps
from .graph import Graph
from .text import shortest_float

MAX_NODES = 300  # the largest graph drawn as a page: beyond it the circuit is a wall of wires


def too_large(graph: Graph) -> CgError | None:
    """The error for a graph with more nodes than a page can draw usefully, or None."""
    n = len(graph.op)
    if n <= MAX_NODES:
        return None
    return CgError(
        f"the expression has {n:,} nodes, more than the {MAX_NODES} an interactive circuit "
        "can draw usefully"
    )


def _number(v):
    """A float for the page's JSON: nan and ±inf as text (JSON has no such numbers)."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))


def _view(result: Result, digits: int, index: int, label: str) -> tuple[dict, str]:
    """One circuit's data for the script, and its SVG."""
    graph = result.graph
    wire_of: dict[tuple[int, int], int] = {}  # (gate, input position) → wire number
    wire_list = []
    for node_id, inputs in enumerate(graph.inputs):
        for k, i in enumerate(inputs):
            wire_of[node_id, k] = len(wire_list)
            wire_list.append([i, node_id, k])
    wire_list.append([graph.output, -1, 0])  # the wire into f

    # each backprop step of the trace: which input position of its gate it was
    positions: dict[int, list[int]] = {}
    steps = []
    trace = []
    gate_steps: dict[int, list[int]] = {}  # node → the gate steps that hand it a contribution
    for step in backward_steps(result):
        if isinstance(step, BackwardStep):
            left = positions.get(step.gate)
            if left is None:
                inputs = graph.inputs[step.gate]
                left = positions[step.gate] = [
                    k for k, i in enumerate(inputs) if graph.needs_grad[i]
                ]
            k = left.pop(0)
            gate_steps.setdefault(step.to, []).append(len(steps))
            steps.append({"gate": step.gate, "k": k, "to": step.to, "wire": wire_of[step.gate, k]})
            trace.append([_number(step.upstream), _number(step.local), _number(step.contribution)])
        else:
            steps.append({"fork": step.node, "parts": list(gate_steps[step.node])})

    nodes = []
    for i in range(len(graph.op)):
        nodes.append(
            {
                "op": graph.op[i],
                "inputs": list(graph.inputs[i]),
                "name": graph.name.get(i) if graph.op[i] == "var" else None,
                "constant": _number(graph.value[i]) if graph.op[i] == "const" else None,
                "text": graph.text(i),
            }
        )
    data = {
        "label": label,
        "nodes": nodes,
        "output": graph.output,
        "wires": wire_list,
        "backward": steps,
        "values": [_number(v) for v in result.values],
        "grads": [_number(g) for g in result.grads],
        "trace": trace,
    }
    svg = picture.render_with_graphviz(
        picture.to_dot(result, digits, ids=f"v{index}-", legend=False), "svg", "html"
    ).decode()
    return data, svg[svg.index("<svg") :]


def _views(result: Result) -> list[tuple[str, Graph]]:
    """The circuits the page shows: the fine-grained one, and the fused one where --fuse changes
    the graph. The graph the result was computed on comes first (the page opens on it)."""
    graph = result.graph
    if graph.fused:
        fine = api.parse(graph.source)
        views = [("fused", graph), ("fine-grained", fine)]
    else:
        fused = api.fuse(graph)
        views = [("fine-grained", graph)]
        if fused.fused:
            views.append(("fused", fused))
    return [(label, g) for label, g in views if too_large(g) is None]


def _json_for_script(data) -> str:
    """JSON that cannot end the <script> element holding it, whatever text it carries."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return resources.files("cgcli").joinpath(name).read_text(encoding="utf-8")


def page(result: Result, digits: int = 4) -> str:
    """The circuit page for a result of one point, as HTML text. CgError when the graph has more
    than MAX_NODES nodes, or many points."""
    error = too_large(result.graph)
    if error:
        raise error
    if result.points is not None:
        raise CgError("a circuit shows the numbers of one point; this result has many")
    graph = result.graph
    env = {name: result.values[i] for name, i in graph.variables.items()}
    views, svgs = [], []
    for index, (label, g) in enumerate(_views(result)):
        r = api.grad(g, env, trace=True)
        data, svg = _view(r, digits, index, label)
        views.append(data)
        svgs.append(svg)
    variables = [{"name": name, "value": _number(v)} for name, v in env.items()]
    data = {
        "digits": digits,
        "variables": variables,
        "views": views,
        "colors": {"value": picture.VALUE_COLOR, "grad": picture.GRADIENT_COLOR},
    }
    return _TEMPLATE.format(
        title=html.escape(_short(graph.source)),
        source=html.escape(graph.source),
        css=_asset("circuit.css"),
        controls=_controls(variables, views),
        svgs="\n".join(
            f'<div class="view" data-view-panel="{i}" role="img" '
            f'aria-label="the {views[i]["label"]} circuit, {len(views[i]["nodes"])} nodes"'
            f"{'' if i == 0 else ' hidden'}>{svg}</div>"
            for i, svg in enumerate(svgs)
        ),
        data=_json_for_script(data),
        script=to_js.script() + "\n" + _asset("circuit_page.js"),
    )


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _controls(variables: list[dict], views: list[dict]) -> str:
    """A number field, a slider and the gradient for each variable; the circuit switch."""
    rows = []
    for k, var in enumerate(variables):
        name = html.escape(var["name"], quote=True)
        value = var["value"]
        shown = shortest_float(value) if isinstance(value, float) else value
        rows.append(
            f'<div class="var"><label for="var-{k}">{name}</label>'
            f'<input id="var-{k}" type="text" inputmode="decimal" spellcheck="false" '
            f'data-var="{name}" value="{html.escape(shown, quote=True)}" '
            f'aria-describedby="var-{k}-note">'
            f'<input type="range" data-slider="{name}" aria-label="{name} (slider)">'
            f'<span class="note" id="var-{k}-note" aria-live="polite"></span>'
            f'<span class="grad">∂f/∂{name} = <output data-grad="{name}"></output></span></div>'
        )
    switch = ""
    if len(views) > 1:
        buttons = "".join(
            f'<button type="button" data-view="{i}" aria-pressed="{"true" if i == 0 else "false"}">'
            f"{html.escape(v['label'])}: {len(v['nodes'])} nodes</button>"
            for i, v in enumerate(views)
        )
        switch = f'<div class="switch" role="group" aria-label="circuit">{buttons}</div>'
    return "\n".join(rows) + "\n" + switch


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>cg circuit: {title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>f = <code class="source">{source}</code></h1>
<p class="output">f = <output data-value="f"></output></p>
<p class="warning" data-warning role="status"></p>
</header>
<main>
<section class="controls" aria-label="variables">
{controls}
</section>
<section class="stepper" aria-label="steps">
<button type="button" data-action="prev" aria-label="previous step">◀ prev</button>
<button type="button" data-action="play" aria-label="play the steps">▶ play</button>
<button type="button" data-action="next" aria-label="next step">next ▶</button>
<span class="counter" data-counter aria-live="polite"></span>
<p class="step" data-step aria-live="polite"></p>
</section>
<section class="circuit" aria-label="the circuit">
{svgs}
</section>
<p class="legend"><span class="value-key">value</span> above each wire,
<span class="grad-key">gradient ∂f/∂(wire)</span> below it; under a variable,
<span class="grad-key">its total gradient</span>, the sum over its wires.
<span class="keys">Arrow keys step, Home and End jump.</span></p>
</main>
<script type="application/json" id="cg-data">{data}</script>
<script>
{script}
</script>
</body>
</html>
"""
