"""--fuse: shapes match in their spellings, fused and fine-grained graphs agree, fused gates are stable."""

import json
import math

import pytest
from conftest import run_cli

from cgcli import fuse, grad, parse
from cgcli.fusion import GATES


def fused_ops(text, gates=None):
    return [n.op for n in fuse(parse(text), gates).nodes if n.fused]


def gate_of(becomes):
    """The op at the root of what a gate becomes: sigmoid for sigmoid(-z), mul for x*sigmoid(x)."""
    g = parse(becomes)
    return g.op[g.output]


@pytest.mark.parametrize("becomes, shapes", list(GATES.items()))
def test_every_shape_of_every_gate_fuses_to_its_gate(becomes, shapes):
    for shape in shapes:
        fused = fuse(parse(shape))
        assert fused_ops(shape) == [gate_of(becomes)], shape
        # the fused graph is what the gate becomes, the shape's names bound to themselves
        assert sorted(fused.op) == sorted(parse(becomes).op), shape


@pytest.mark.parametrize(
    "text, gate",
    [
        ("1/(exp(-z)+1)", "sigmoid"),  # + in the other order
        ("1/(1+exp(0-z))", "sigmoid"),  # the spellings of -z
        ("1/(1+exp(-1*z))", "sigmoid"),
        ("1/(1+exp((-1)*z))", "sigmoid"),
        ("1/(1+exp(z*-1))", "sigmoid"),
        ("(1+exp(-z))^-1", "sigmoid"),
        ("exp(z)/(exp(z)+1)", "sigmoid"),
        ("1/(1+exp(-(w0*x0+w1*x1+w2)))", "sigmoid"),  # z is any subexpression
        ("1/(1+exp(-3))", "sigmoid"),  # ... or a constant
        ("den = 1+exp(-y); 1/den", "sigmoid"),  # across statement names
        ("log(exp(z)+1)", "softplus"),
        ("sqrt(b*b+a*a)", "hypot"),
        ("log(exp(b)+exp(a))", "logaddexp"),
        ("(exp(z)-exp(-z))/(exp(-z)+exp(z))", "tanh"),
    ],
)
def test_spellings_match(text, gate):
    assert fused_ops(text) == [gate]


@pytest.mark.parametrize(
    "text", ["exp(-z)+1", "1/(2+exp(-z))", "exp(z)/(1+exp(y))", "log(2+exp(z))", "sqrt(a**2+b**3)"]
)
def test_near_misses_do_not_fuse(text):
    assert fused_ops(text) == []


def test_nested_gates_fuse_inside_out():
    # sigmoid first, then the tanh shape that contains it; log(sigmoid) becomes logsigmoid
    assert fused_ops("2*(1/(1+exp(-(2*y))))-1") == ["tanh"]
    assert fused_ops("log(1/(1+exp(-z)))") == ["logsigmoid"]


def test_only_the_named_gates_fuse():
    text = "1/(1+exp(-z)) + log(1+exp(z))"
    assert sorted(fused_ops(text)) == ["sigmoid", "softplus"]
    assert fused_ops(text, ["softplus"]) == ["softplus"]


def test_a_shared_inner_node_stays_and_keeps_its_gradient():
    text = "1/(1+exp(-z)) + 3*exp(-z)"
    fine, fused = grad(text, {"z": 0.5}), grad(fuse(parse(text)), {"z": 0.5})
    assert fused.gradients["z"] == pytest.approx(fine.gradients["z"], rel=1e-13)
    g = fused.graph
    inner = [n for n in g.nodes if g.text(n) == "exp(-z)"]
    assert len(inner) == 1  # still there, for the other term
    # its gradient now comes from the other term only: 3
    assert fused.grads[inner[0].id] == 3.0


def test_fused_node_counts_and_statement_labels():
    g = parse("s = 1/(1+exp(-z)); s*2")
    f = fuse(g)
    (node,) = [n for n in f.nodes if n.fused]
    assert node.fused == ("1/(1+exp(-z))", 5)
    assert node.name == "s"
    assert (len(g.nodes), len(f.nodes)) == (8, 4)


# inside the range where the fine-grained graph is still accurate (1 - sigmoid(25) cancels)
POINTS = [-7.5, -2.0, -0.3, 0.0, 0.4, 1.7, 6.0]


@pytest.mark.parametrize("becomes, shapes", list(GATES.items()))
def test_fused_and_fine_grained_agree(becomes, shapes):
    names = list(parse(becomes).variables)
    for shape in shapes:
        fine, fused = parse(shape), fuse(parse(shape))
        for i, a in enumerate(POINTS):
            point = {names[0]: a}
            if len(names) > 1:
                point[names[1]] = POINTS[(i * 5 + 3) % len(POINTS)] / (
                    10 if becomes.startswith("bce") else 1
                )
            point = {k: v for k, v in point.items() if k in fine.variables}
            r1, r2 = grad(fine, point), grad(fused, point)
            if not math.isfinite(r1.value) or not all(map(math.isfinite, r1.gradients.values())):
                continue  # the fine-grained graph overflowed: compared in the stability tests
            assert r2.value == pytest.approx(r1.value, rel=1e-9, abs=1e-12), (shape, point)
            for name in point:
                assert r2.gradients[name] == pytest.approx(
                    r1.gradients[name], rel=1e-7, abs=1e-12
                ), (shape, point)


def test_fused_gates_are_stable_where_fine_grained_graphs_are_not():
    sig = "1/(1+exp(-z))"
    assert math.isnan(grad(sig, {"z": -800}).gradients["z"])  # fine-grained: 0 * inf
    assert grad(fuse(sig), {"z": -800}).gradients["z"] == 0.0
    assert (
        grad(fuse(sig), {"z": 40}).gradients["z"] == 4.248354255291589e-18
    )  # s*(1-s) would give 0
    r = grad(fuse("log(1+exp(z))"), {"z": 1000})
    assert (r.value, r.gradients["z"]) == (1000.0, 1.0)
    r = grad(fuse("log(exp(a)+exp(b))"), {"a": 1000, "b": 1000})
    assert r.value == 1000 + math.log(2)
    assert r.gradients == {"a": pytest.approx(0.5, rel=1e-12), "b": pytest.approx(0.5, rel=1e-12)}
    assert grad(fuse("log(1/(1+exp(-z)))"), {"z": -1000}).value == -1000.0


def test_cs231n_neuron_fused_gives_the_published_numbers_exactly():
    r = grad(
        fuse("1/(1+exp(-(w0*x0+w1*x1+w2)))"), {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    )
    assert r.value == 0.7310585786300049
    assert r.gradients == {
        "w0": -0.19661193324148185,
        "x0": 0.3932238664829637,
        "w1": -0.3932238664829637,
        "x1": -0.5898357997244456,
        "w2": 0.19661193324148185,
    }


def test_cli_tree_shows_the_fused_gate_and_the_node_counts(cg):
    code, out, err = cg(
        ["grad", "1/(1+exp(-(w*x)))", "--w", "2", "--x", "-1", "--fuse"], env={"NO_COLOR": "1"}
    )
    assert code == 0, err
    assert "sigmoid ← 1/(1+exp(-z)), 5 nodes  1/(1+exp(-(w*x))) = " in out
    assert "local 0.10499358540350649   #3" in out  # σ(-2)·σ(2)
    assert "fused: 8 nodes → 4 nodes" in out


def test_cli_json_marks_fused_nodes(cg):
    code, out, err = cg(
        ["grad", "log(1+exp(z)) + z", "--z", "1", "--fuse", "softplus", "--format", "json"]
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["fused"] == {"nodes_before": 6, "nodes_after": 3}
    (node,) = [n for n in data["nodes"] if "fused" in n]
    assert node["fused"] == {
        "gate": "softplus",
        "shape": "log(1+exp(z))",
        "replaced": "log(1+exp(z))",
        "nodes": 4,
    }


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "sigmoid(z)", "--fuse", "--z", "1"],
        ["grad", "sigmoid(z)", "--z", "1", "--fuse"],
        ["grad", "sigmoid(z)", "--z", "1", "--fuse=sigmoid"],
        ["grad", "sigmoid(z)", "--z", "1", "--fuse", "sigmoid,tanh"],
    ],
)
def test_cli_fuse_spellings(args):
    code, out, err = run_cli(args + ["--format", "plain"])
    assert (code, out) == (0, "f 0.7310585786300049\nz 0.19661193324148185\n"), err


def test_cli_unknown_gate_is_an_error(cg):
    code, out, err = cg(["grad", "x", "--x", "1", "--fuse", "sigmoidd"])
    assert code == 2
    assert err.startswith("cg: error: --fuse: unknown gate 'sigmoidd' (did you mean sigmoid?)")


def test_fusions_lists_every_gate_and_shape(cg):
    code, out, err = cg(["fusions"], env={"COLUMNS": "250"})
    assert code == 0
    for becomes, shapes in GATES.items():
        assert becomes in out
        for shape in shapes:
            assert shape in out


def test_fusions_table_never_cuts_a_shape():
    from conftest import run_bin

    from cgcli.fusion import GATES

    for columns in ("40", "80"):  # narrow: long shapes fold onto more lines, never end in '…'
        code, out, err = run_bin(["fusions"], env={"COLUMNS": columns})
        assert code == 0 and "…" not in out
    code, out, err = run_bin(["fusions"], env={"COLUMNS": "1000"})
    for shapes in GATES.values():
        for shape in shapes:
            assert shape in out, shape


def test_the_gate_table_in_docs_lists_every_gate_and_shape():
    """docs/fuse.md's table is written by hand: each gate and each of its shapes is in it."""
    from pathlib import Path

    from cgcli.fusion import VARIADIC_GATES

    rows = {
        line.split("|")[1].strip(): line.split("|")[2]
        for line in (Path(__file__).parents[1] / "docs" / "fuse.md").read_text().splitlines()
        if line.startswith("| `")
    }
    for becomes, shapes in {**GATES, **VARIADIC_GATES}.items():
        row = next((v for k, v in rows.items() if k.startswith(f"`{becomes}`")), None)
        assert row is not None, becomes
        for shape in shapes:
            assert f"`{shape}`" in row.replace(" ", "") or f"`{shape}`" in row, (becomes, shape)
