"""The circuit page without a browser (tests/test_circuit_browser.py runs it), the ops table in
JavaScript, and what the page shares with cg graph's other pictures."""

from __future__ import annotations

import math
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from conftest import run_bin, run_cli

import cgcli
from cgcli import circuit, picture, to_js
from cgcli.errors import CgError
from cgcli.ops import TABLE

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz is not installed (.ci/run installs it)"
)
NEURON = [
    "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    *("--w0", "2", "--x0", "-1", "--w1", "-3", "--x1", "-2", "--w2", "-3"),
]


# The ops table as JavaScript


def test_every_op_of_the_table_has_a_forward_in_the_javascript_backend():
    missing = [op.name for op in TABLE if op.name not in to_js.backend_names()]
    assert not missing, f"add these to cgcli/circuit_backend.js: {missing}"


def test_an_op_without_a_javascript_forward_is_refused(monkeypatch):
    monkeypatch.setattr(to_js, "backend_names", lambda: {op.name for op in TABLE} - {"tanh"})
    with pytest.raises(ValueError, match="no forward for tanh"):
        to_js.ops_source()


def test_a_formula_becomes_straight_line_javascript():
    assert to_js.formula("y*x**(y-1)") == (
        "function (x, y, out) { const v0 = y; const v1 = x; const v2 = 1.0; "
        "const v3 = B.sub(v0, v2); const v4 = B.pow(v1, v3); const v5 = B.mul(v0, v4); return v5; }"
    )
    assert to_js.formula("out") == "function (x, y, out) { const v0 = out; return v0; }"


def test_every_formula_of_the_table_is_translated_and_reads_only_x_y_out():
    source = to_js.ops_source()
    for op in TABLE:
        for text in op.grads:
            body = to_js.formula(text)
            names = set(re.findall(r"\b[A-Za-z_]\w*\b", body)) - {"function", "const", "return"}
            names -= {n for n in names if re.fullmatch(r"v\d+", n)}
            assert names <= {"x", "y", "out", "B", "Infinity", "NaN", *to_js.backend_names()}, (
                op.name,
                body,
            )
            assert body in source


def test_literals_read_back_as_the_same_float():
    assert to_js.literal(-0.0) == "-0" and to_js.literal(math.inf) == "Infinity"
    assert to_js.literal(math.nan) == "NaN" and to_js.literal(0.1) == "0.1"
    assert float(to_js.literal(1e-310)) == 1e-310


# The page


@needs_dot
def test_the_page_is_self_contained_and_small(cg, tmp_path):
    path = tmp_path / "neuron.html"
    code, out, err = cg(["graph", *NEURON, "-o", str(path)])
    assert code == 0, err
    text = path.read_text()
    assert len(text.encode()) < 300_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing to fetch
    assert "default-src 'none'" in text  # and the browser is told to fetch nothing
    for hook in (
        'data-var="w0"',
        'data-grad="x1"',
        'data-value="f"',
        "data-step",
        'data-action="play"',
    ):
        assert hook in text
    assert "fused: 10 nodes" in text and "fine-grained: 14 nodes" in text


@needs_dot
def test_no_switch_where_fusing_changes_nothing(tmp_path):
    page = circuit.page(cgcli.grad("x*y", {"x": 1, "y": 2}))
    assert "data-view=" not in page and 'data-view-panel="0"' in page


@needs_dot
def test_user_text_cannot_end_the_script_or_run():
    source = "x = 1 # </script><script>alert(1)</script>\nx*y"
    page = circuit.page(cgcli.grad(source, {"y": 2}))
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "alert(1)</script>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page  # shown, escaped


@needs_dot
def test_fused_graph_opens_on_the_fused_circuit(tmp_path):
    path = tmp_path / "f.html"
    code, out, err = run_cli(["graph", *NEURON, "--fuse", "-o", str(path)])
    assert code == 0, err
    buttons = re.findall(r'data-view="(\d)" aria-pressed="(\w+)">([^<]*)<', path.read_text())
    assert buttons == [("0", "true", "fused: 10 nodes"), ("1", "false", "fine-grained: 14 nodes")]


def test_too_large_a_circuit_is_a_clear_error(cg, tmp_path):
    expr = "+".join(f"x*{k}" for k in range(1, 200))  # 200 products, 199 sums: 398 nodes + x
    code, out, err = cg(["graph", expr, "--x", "1", "-o", str(tmp_path / "big.html")])
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith("cg: error: the expression has ")
    assert f"more than the {circuit.MAX_NODES}" in first
    assert "-o FILE.svg" in first and "cg grad --explain" in first
    assert not (tmp_path / "big.html").exists()


def test_many_points_are_an_error_for_the_page_too(cg, tmp_path):
    code, out, err = cg(["graph", "x*y", "--x", "1,2", "--y", "2", "-o", str(tmp_path / "g.html")])
    assert code == 2 and "draws the numbers of one point" in err


# Picture formats by extension


@pytest.mark.parametrize(
    "name, kind",
    [
        ("a.svg", "svg"),
        ("a.PNG", "png"),
        ("a.pdf", "pdf"),
        ("a.dot", "dot"),
        ("a.mmd", "mmd"),
        ("a.mermaid", "mmd"),
        ("a.html", "html"),
    ],
)
def test_the_extension_says_the_format(name, kind):
    assert picture.format_for(name) == kind


def test_an_unknown_extension_names_the_known_ones():
    with pytest.raises(CgError, match=r"\.svg, \.png, \.pdf, \.dot, \.mmd, \.mermaid, \.html"):
        picture.format_for("a.jpg")


@needs_dot
def test_pdf(tmp_path):
    code, out, err = run_bin(
        ["graph", "x*y", "--x", "1", "--y", "2", "-o", str(tmp_path / "g.pdf")]
    )
    assert code == 0, err
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


# What the page shares with the other pictures


def dot_of(expr: str, point: dict, digits: int = 4) -> str:
    return picture.to_dot(cgcli.grad(expr, point, trace=True), digits)


def test_each_variable_shows_its_total_gradient():
    source = dot_of("x*x + x", {"x": 3})
    assert "∂f/∂x = 7" in source  # 3 + 3 + 1, added up for the reader


def test_gates_are_named_one_way():
    source = dot_of("x**2 * y - exp(x) / y + -x", {"x": 3, "y": 2})
    labels = set(re.findall(r'n\d+ \[id="g\d+", label="([^"]*)"', source))
    assert {"**", "*", "-", "/", "+", "exp"} <= labels
    assert "pow" not in labels and "neg" not in labels and "mul" not in labels


def test_a_legend_says_which_number_is_which():
    source = dot_of("x*y", {"x": 1, "y": 2})
    assert f'<font color="{picture.VALUE_COLOR}">value</font> above each wire' in source
    assert f'<font color="{picture.GRADIENT_COLOR}">gradient' in source


def test_minus_zero_is_drawn_as_zero():
    # relu's local gradient at x < 0 is 0; times the upstream y = -2 it is -0
    r = cgcli.grad("relu(x)*y", {"x": -1, "y": -2}, trace=True)
    assert math.copysign(1, r.gradients["x"]) < 0
    labels = re.findall(r">(-?[\d.e+-]+)</font>", picture.to_dot(r))
    assert "-0" not in labels and "0" in labels
    assert "-0" in picture.to_dot(r, digits=17)  # exact numbers stay exact


def _path_points(d: str) -> list[tuple[float, float]]:
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2]))


@needs_dot
def test_a_wires_labels_sit_above_and_below_that_wire():
    r = cgcli.grad(NEURON[0], {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}, trace=True)
    svg = picture.render_with_graphviz(picture.to_dot(r), "svg")
    ns = {"s": "http://www.w3.org/2000/svg"}
    checked = 0
    for edge in ET.fromstring(svg).iterfind(".//s:g[@class='edge']", ns):
        texts = {t.get("fill"): t for t in edge.iterfind("s:text", ns)}
        value, grad = texts.get(picture.VALUE_COLOR), texts.get(picture.GRADIENT_COLOR)
        if grad is None:
            continue
        points = _path_points(edge.find("s:path", ns).get("d"))
        x = (float(value.get("x")) + float(grad.get("x"))) / 2
        y_value, y_grad = float(value.get("y")), float(grad.get("y"))
        # the wire's height where the labels are: it passes between them
        nearest = min(points, key=lambda p: abs(p[0] - x) + abs(p[1] - (y_value + y_grad) / 2))
        assert y_value < nearest[1] < y_grad + 4, (edge.find("s:title", ns).text, nearest)
        checked += 1
    assert checked == 13  # 15 wires, 2 from the constant 1


# The Python API in a notebook and a terminal


@needs_dot
def test_a_result_shows_itself_as_the_circuit_in_a_notebook():
    r = cgcli.grad("(x+y)**2", {"x": 1, "y": 2})
    frame = r._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert "&lt;script&gt;" in frame and "<script" not in frame  # the page, escaped into srcdoc
    assert cgcli.grad("x*y", {"x": [1, 2], "y": 2})._repr_html_() is None  # many points: text


def test_a_result_shows_itself_as_the_tree_in_a_terminal():
    from rich.console import Console

    console = Console(record=True, width=80, color_system=None)
    console.print(cgcli.grad("(x+y)**2", {"x": 1, "y": 2}))
    text = console.export_text()
    assert "f = 9" in text and "add  x+y = 3   grad 6" in text and "∂f/∂x = 6" in text


def test_the_page_without_graphviz_says_what_to_install(tmp_path):
    env = {"PATH": str(tmp_path)}  # no dot on this PATH
    code, out, err = run_cli(["graph", "x", "--x", "1", "-o", str(tmp_path / "g.html")], env=env)
    assert code == 2
    assert err.startswith("cg: error: drawing .html needs Graphviz's `dot`: install it")
