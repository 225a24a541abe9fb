"""--explain and cg graph: backprop shown step by step, and drawn as a circuit."""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO, run_bin, run_cli

from cgcli import grad
from cgcli.explain import BackwardStep, ForkStep, backward_steps, forward_steps


def test_seed_example_steps():
    r = grad("(x+y)**2", {"x": 1, "y": 2}, trace=True)
    steps = [
        (s.op, s.text, s.upstream, s.local, s.contribution, s.to_text) for s in backward_steps(r)
    ]
    assert steps == [
        ("pow", "(x+y)**2", 1.0, 6.0, 6.0, "x+y"),  # pow gate: upstream 1 × local 6 = 6 to x+y
        ("add", "x+y", 6.0, 1.0, 6.0, "x"),  # add gate: upstream 6 × local 1 = 6 to x ...
        ("add", "x+y", 6.0, 1.0, 6.0, "y"),  # ... and to y
    ]
    assert [(s.text, s.value) for s in forward_steps(r)] == [
        ("x", 1.0),
        ("y", 2.0),
        ("x+y", 3.0),
        ("2", 2.0),
        ("(x+y)**2", 9.0),
    ]


def test_forks_sum_their_contributions_where_backprop_has_them_all():
    r = grad("x*x*x + x", {"x": 2}, trace=True)
    steps = backward_steps(r)
    assert isinstance(steps[-1], ForkStep)
    assert (steps[-1].text, steps[-1].contributions, steps[-1].total) == (
        "x",
        [1.0, 4.0, 4.0, 4.0],
        13.0,
    )
    r = grad("a = x+y; a*a", {"x": 1, "y": 2}, trace=True)
    kinds = [type(s).__name__ for s in backward_steps(r)]
    assert kinds == ["BackwardStep", "BackwardStep", "ForkStep", "BackwardStep", "BackwardStep"]


def test_every_step_multiplies_upstream_by_local():
    r = grad(
        "1/(1+exp(-(w0*x0+w1*x1+w2)))",
        {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
        trace=True,
    )
    for s in backward_steps(r):
        if isinstance(s, BackwardStep):
            assert s.contribution == s.upstream * s.local
            assert s.upstream == r.grads[s.gate]


def test_explain_piped_is_plain_text(cg):
    code, out, err = cg(["grad", "(x+y)**2", "--x", "1", "--y", "2", "--explain"])
    assert code == 0, err
    assert out == (
        "forward pass\n"
        "  inputs: x = 1, y = 2\n"
        "  #2 add x+y: add(1, 2) = 3\n"
        "  #4 pow (x+y)**2: pow(3, 2) = 9\n"
        "backward pass, from ∂f/∂f = 1\n"
        "  #4 pow gate (x+y)**2: upstream 1 × local 6 = 6 to #2 x+y\n"
        "  #2 add gate x+y: upstream 6 × local 1 = 6 to #0 x\n"
        "  #2 add gate x+y: upstream 6 × local 1 = 6 to #1 y\n"
        "∂f/∂x = 6\n"
        "∂f/∂y = 6\n"
    )


def test_explain_json_carries_the_steps(cg):
    code, out, err = cg(["grad", "x*x", "--x", "3", "--explain", "--format", "json", "--no-nodes"])
    data = json.loads(out)
    assert [s["kind"] for s in data["explain"]["backward"]] == ["gate", "gate", "fork"]
    assert data["explain"]["backward"][2]["total"] == 6.0


def test_explain_with_fuse_shows_the_fused_gate_as_one_step():
    code, out, err = run_cli(["grad", "1/(1+exp(-z))", "--z", "0", "--fuse", "--explain"])
    assert code == 0
    assert "  #1 sigmoid gate 1/(1+exp(-z)): upstream 1 × local 0.25 = 0.25 to #0 z\n" in out
    assert out.count(" gate ") == 1


def test_explain_refuses_plain_format():
    code, out, err = run_cli(["grad", "x", "--x", "1", "--explain", "--format", "plain"])
    assert code == 2 and "--explain" in err


def test_explain_on_a_terminal_is_a_rich_table(tmp_path):
    # a pseudo-terminal would be the real thing; Rich's table is what the tty path prints
    import io

    from cgcli.explain_output import write_explain

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    write_explain(grad("(x+y)**2", {"x": 1, "y": 2}, trace=True), out)
    text = out.getvalue()
    assert "backward pass" in text and "= contribution" in text and "#2 x+y" in text


needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CG_REQUIRE_INSTALLED"),
    reason="Graphviz is not installed (.ci/run installs it)",
)

NEURON = [
    "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "--w0",
    "2",
    "--x0",
    "-1",
    "--w1",
    "-3",
    "--x1",
    "-2",
    "--w2",
    "-3",
]


def dot_json(path: Path) -> dict:
    proc = subprocess.run(["dot", "-Tjson", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # Graphviz parses it
    return json.loads(proc.stdout)


@needs_dot
def test_dot_output_parses_with_the_right_nodes_edges_and_labels(cg, tmp_path):
    path = tmp_path / "g.dot"
    code, out, err = cg(["graph", *NEURON, "-o", str(path), "--digits", "17"])
    assert code == 0, err
    data = dot_json(path)
    r = grad(NEURON[0], {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    assert len(data["objects"]) == len(r.graph.nodes) + 1  # and f
    assert len(data["edges"]) == sum(len(n.inputs) for n in r.graph.nodes) + 1
    labels = " ".join(e["label"] for e in data["edges"])
    for _name, g in r.gradients.items():
        assert repr(g) in labels  # the gradient on each input's wire
    assert "0.7310585786300049" in labels


@needs_dot
def test_svg_render_is_valid_svg_holding_the_numbers(tmp_path):
    path = tmp_path / "g.svg"
    code, out, err = run_bin(["graph", *NEURON, "-o", str(path), "--fuse"])
    assert code == 0, err
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for number in ("0.7311", "-0.1966", "0.3932", "-0.5898", "sigmoid (5 nodes fused)"):
        assert number in text


def test_mermaid_output(tmp_path):
    path = tmp_path / "g.mmd"
    code, out, err = run_cli(["graph", "x*y", "--x", "2", "--y", "3", "-o", str(path)])
    assert code == 0
    assert path.read_text() == (
        "flowchart LR\n"
        '  n0(["x"])\n'
        '  n1(["y"])\n'
        '  n2["*"]\n'
        '  f(["f"])\n'
        '  n0 -->|"2<br/>∂ 3"| n2\n'
        '  n1 -->|"3<br/>∂ 2"| n2\n'
        '  n2 -->|"6<br/>∂ 1"| f\n'
    )


def test_missing_graphviz_is_a_clear_error(tmp_path):
    env = {"PATH": str(tmp_path)}  # no dot on this PATH
    code, out, err = run_cli(["graph", "x", "--x", "1", "-o", str(tmp_path / "g.svg")], env=env)
    assert code == 2
    assert "apt-get install graphviz" in err and ".dot and .mmd files work without it" in err
    code, out, err = run_cli(["graph", "x", "--x", "1", "-o", str(tmp_path / "g.dot")], env=env)
    assert code == 0


def test_unknown_picture_extension(cg, tmp_path):
    code, out, err = cg(["graph", "x", "--x", "1", "-o", str(tmp_path / "g.jpg")])
    assert code == 2 and ".svg, .png, .pdf, .dot, .mmd, .mermaid, .html" in err.splitlines()[0]


@pytest.mark.parametrize("name, fuse", [("neuron", []), ("neuron-fused", ["--fuse"])])
def test_readme_pictures_are_made_by_cg(name, fuse, tmp_path):
    path = tmp_path / f"{name}.dot"
    code, out, err = run_cli(["graph", *NEURON, *fuse, "-o", str(path)])
    assert code == 0
    assert path.read_text() == (REPO / "docs" / f"{name}.dot").read_text()
    assert f"docs/{name}.svg" in (REPO / "README.md").read_text()
