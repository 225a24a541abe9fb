"""Many points in one pass over numpy arrays: bindings, files, formats, and the scalar path as oracle."""

import json
import math

import numpy as np
import pytest
from conftest import run_bin, run_cli

from cgcli import api, arrays, chunks, fuse, grad, parse

EXPR = "sin(x)*exp(-y**2) + log(1+x**2)/(1+y**2) + 1/(1+exp(-(2*x-3*y+1)))"


def scalar_results(expr, xs, ys):
    """The oracle: the scalar engine, one point at a time."""
    out = [grad(expr, {"x": float(a), "y": float(b)}) for a, b in zip(xs, ys)]
    return np.array([r.value for r in out]), {
        n: np.array([r.gradients[n] for r in out]) for n in ("x", "y")
    }


@pytest.mark.parametrize("keep_nodes", [True, False])
@pytest.mark.parametrize("fused", [False, True])
def test_batch_equals_point_by_point(keep_nodes, fused, monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 64)  # several chunks and a ragged last one
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(-3, 3, 300), rng.uniform(-3, 3, 300)
    graph = fuse(parse(EXPR)) if fused else parse(EXPR)
    r = grad(graph, {"x": xs, "y": ys}, keep_nodes=keep_nodes)
    value, gradients = scalar_results(graph, xs, ys)
    assert r.points == 300
    np.testing.assert_allclose(r.value, value, rtol=1e-13, atol=1e-15)
    for name in ("x", "y"):
        np.testing.assert_allclose(r.gradients[name], gradients[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("past_709", [True, False])  # the kernel's two paths: exp(z) inf or not
@pytest.mark.parametrize(
    "expr", ["sigmoid(z)", "1/(1+exp(-z))", "sigmoid(z)*z + sigmoid(z)", "sigmoid(sigmoid(z)*3)"]
)
def test_sigmoid_kernel_gives_the_formulas_numbers(expr, past_709):
    """arrays.KERNELS computes sigmoid's value and local gradient with one exp; the scalar
    engine evaluates the ops table's formula out*sigmoid(-x). Same numbers, also where
    exp(z) overflows or underflows, and the kernel's array is not reused for a fork's sum."""
    zs = [-800, -745.2, -709.5, -40, -3, -1e-300, 0, 1e-300, 0.5, 2, 40, 700, 709]
    zs = np.array(zs + ([709.5, 800, math.inf, -math.inf] if past_709 else []))
    graph = fuse(parse(expr))
    r = grad(graph, {"z": zs}, keep_nodes=False)
    value, slope = np.array(
        [
            [grad(graph, {"z": float(z)}).value, grad(graph, {"z": float(z)}).gradients["z"]]
            for z in zs
        ]
    ).T
    np.testing.assert_allclose(r.value, value, rtol=1e-15, atol=0)
    np.testing.assert_allclose(r.gradients["z"], slope, rtol=1e-14, atol=0)
    if expr == "sigmoid(z)":  # σ(z)σ(-z) = exp(-40)/(1+exp(-40))² at ±40 (mpmath), to 2 ulps
        for z in (-40, 40):
            got = r.gradients["z"][list(zs).index(z)]
            assert abs(got - 4.248354255291589e-18) <= 2 * np.spacing(4.248354255291589e-18)
        assert r.gradients["z"][0] == 0.0


@pytest.mark.parametrize(
    "expr",
    [
        "sin(x) + x*y",
        "x + exp(x)",
        "exp(x) + exp(x)*y + x",
        "sin(x)*y + y*x + sigmoid(x*y)",
        "x*x + x",
    ],
)
def test_backprop_never_writes_into_a_nodes_value(expr):
    """Backprop adds gradients in place where it may; a gradient that is a node's value (mul's
    local gradient y, exp's out) must be copied first, or the sum at a fork corrupts the value."""
    bindings = {"x": np.array([0.5, 2.0]), "y": np.array([3.0, -1.0])}
    before = [np.copy(v) for v in api.evaluate(expr, bindings).values]
    r = grad(expr, bindings)
    for v, w in zip(r.values, before):
        np.testing.assert_array_equal(v, w)
    value, gradients = (
        scalar_results(expr, bindings["x"], bindings["y"]) if "y" in expr else (None, None)
    )
    if gradients:
        for name in ("x", "y"):
            np.testing.assert_allclose(r.gradients[name], gradients[name], rtol=1e-14)


def test_identical_subexpressions_are_computed_once():
    g = parse("sin(x)*y + sin(x)*z")
    assert [n.op for n in g.nodes].count("sin") == 1
    r = grad(g, {"x": [0.1, 0.2], "y": 2, "z": 3})
    np.testing.assert_allclose(r.gradients["x"], 5 * np.cos([0.1, 0.2]))


def test_scalars_broadcast_against_arrays_and_lengths_must_agree():
    r = grad("x*y", {"x": [1, 2, 3], "y": 10})
    assert r.value.tolist() == [10, 20, 30] and r.gradients["y"].tolist() == [1, 2, 3]
    assert r.gradients["x"].tolist() == [10, 10, 10]
    with pytest.raises(api.CgError, match="x has 3 points but y has 2"):
        grad("x*y", {"x": [1, 2, 3], "y": [1, 2]})


def test_list_and_range_bindings():
    assert api.points("1,2.5,pi").tolist() == [1.0, 2.5, math.pi]
    assert api.points("0:1:11").tolist() == np.linspace(0, 1, 11).tolist()
    assert api.points("-1:1:3").tolist() == [-1.0, 0.0, 1.0]
    with pytest.raises(api.CgError, match="count of a range"):
        api.points("0:1:2.5")
    with pytest.raises(api.CgError, match="start:stop:count"):
        api.points("0:1")


def test_nonfinite_at_any_point_names_the_point(cg):
    code, out, err = cg(["grad", "log(x)", "--x", "1,2,0,-1", "--format", "csv"])
    assert code == 3
    assert "at point 2" in err.splitlines()[0]
    assert out.splitlines()[3:] == ["0,-inf,inf", "-1,nan,-1"]


def test_warning_point_is_global_across_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 4)
    xs = [1.0] * 10 + [0.0]
    r = grad("log(x)", {"x": xs}, keep_nodes=False)
    assert any("at point 10" in w for w in r.warnings)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_chunks_in_threads_give_the_same_numbers_and_warnings(threads, monkeypatch):
    """Chunks run in parallel threads (CG_THREADS); numpy's error flags are per thread, and the
    warnings come in the order of the points, whichever thread finishes first."""
    monkeypatch.setattr(chunks, "CHUNK", 16)
    monkeypatch.setattr(chunks, "THREADS", threads)
    xs = np.linspace(-3, 3, 400)
    xs[[37, 250]] = [0.0, -800.0]  # log(0) = -inf at point 37; exp(800) = inf at point 250
    r = grad("log(x**2)*x + 1/(1+exp(-x))", {"x": xs}, keep_nodes=False)
    one = grad("log(x**2)*x + 1/(1+exp(-x))", {"x": xs}, keep_nodes=True)
    np.testing.assert_array_equal(r.value, one.value)
    np.testing.assert_array_equal(r.gradients["x"], one.gradients["x"])
    # -inf at log, the nan it makes at log(x**2)*x (x = 0 there), then the gradient's
    assert [w.split(" at point ")[1] for w in r.warnings] == ["37", "37", "37"] and r.warnings[
        :2
    ] == one.warnings[:2]
    assert r.warnings[0].startswith("value -inf first appears at node") and r.warnings[
        1
    ].startswith("value nan first appears at node")


def test_csv_output_full_precision(cg):
    code, out, err = cg(["grad", "(x+y)**2", "--x", "1,2,3", "--y", "0:1:3", "--format", "csv"])
    assert (code, err) == (0, "")
    # numbers as --format plain writes them: 1, not 1.0
    assert out == "x,y,f,grad_x,grad_y\n1,0,1,2,2\n2,0.5,6.25,5,5\n3,1,16,8,8\n"


def test_json_arrays(cg):
    code, out, err = cg(["grad", "x*y", "--x", "1,2", "--y", "3", "--format", "json"])
    data = json.loads(out)
    assert data["value"] == [3.0, 6.0] and data["grad"] == {"x": [3.0, 3.0], "y": [1.0, 2.0]}
    assert data["nodes"][0]["value"] == [1.0, 2.0]


def test_points_from_csv_on_stdin_and_wrt(cg):
    code, out, err = cg(
        ["grad", "x*y", "--points", "-", "--format", "csv", "--wrt", "y"], input="x,y\n1,2\n3,4\n"
    )
    assert (code, out) == (0, "x,y,f,grad_y\n1,2,2,1\n3,4,12,3\n")


def test_points_from_npz_and_output_to_npz(cg, tmp_path):
    src, dst = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(src, x=np.linspace(0, 1, 5), y=np.arange(5.0))
    code, out, err = cg(
        ["grad", "x*y + sigmoid(x)", "--points", str(src), "-o", str(dst), "--fuse"]
    )
    assert (code, out) == (0, "")
    with np.load(dst) as d:
        assert d.files == ["x", "y", "f", "grad_x", "grad_y"]
        r = grad("x*y + sigmoid(x)", {"x": np.linspace(0, 1, 5), "y": np.arange(5.0)})
        np.testing.assert_array_equal(d["f"], r.value)
        np.testing.assert_array_equal(d["grad_x"], r.gradients["x"])


def test_output_to_csv_file(tmp_path):
    path = tmp_path / "o.csv"
    code, out, err = run_cli(["grad", "2*x", "--x", "1,2", "-o", str(path)])
    assert code == 0 and path.read_text() == "x,f,grad_x\n1,2,2\n2,4,2\n"


def test_tree_shows_first_point_and_range(cg):
    code, out, err = cg(["grad", "x*x", "--x", "1,-2,3"], env={"NO_COLOR": "1"})
    assert code == 0
    assert out.splitlines()[0] == "f = 1 [1 .. 9] at 3 points: first point [range]"
    assert "x = 1 [-2 .. 3]   grad 2 [-4 .. 6]" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--x", "1,2", "--y", "1,2,3"], "x has 2 points but y has 3"),
        (["--x", "1,2", "--y", "1", "--format", "plain"], "--format plain is for one point"),
        (["--x", "0:1", "--y", "1"], "a range is start:stop:count"),
        (["--x", "1", "--y", "1", "-o", "out.txt"], "write a .csv or a .npz file"),
    ],
)
def test_batch_usage_errors(args, message):
    code, out, err = run_cli(["grad", "x*y", *args])
    assert code == 2 and message in err


def test_bad_csv_cell_points_at_it():
    code, out, err = run_cli(["grad", "x*y", "--points", "-"], input="x,y\n1,2\n3,oops\n")
    assert code == 2
    assert err.splitlines() == [
        "cg: error: standard input line 3, column y: 'oops' is not a number",
        "  3,oops",
        "    ^",
    ]


def test_binding_and_points_column_for_the_same_name():
    code, out, err = run_cli(["grad", "x*y", "--x", "1", "--points", "-"], input="x,y\n1,2\n")
    assert code == 2 and "x is bound twice" in err


def test_a_large_batch_through_the_installed_cg(tmp_path):
    src = tmp_path / "in.npz"
    n = 200_000
    rng = np.random.default_rng(2)
    np.savez(src, x=rng.uniform(-2, 2, n), y=rng.uniform(-2, 2, n))
    code, out, err = run_bin(
        ["grad", EXPR, "--points", str(src), "-o", str(tmp_path / "o.npz"), "--fuse"]
    )
    assert code == 0, err
    with np.load(tmp_path / "o.npz") as d, np.load(src) as p:
        k = 12345
        r = grad(EXPR, {"x": float(p["x"][k]), "y": float(p["y"][k])})
        assert d["f"][k] == pytest.approx(r.value, rel=1e-13)
        assert d["grad_y"][k] == pytest.approx(r.gradients["y"], rel=1e-12)


def test_single_points_and_batches_agree_on_zeros_signs_and_infinities():
    """cgcli/scalar.py and cgcli/arrays.py give the same results for every op, also where it
    matters which zero comes out (1/ceil(-0.5) is -inf: ceil(-0.5) is -0.0) and at ±inf and nan.
    Transcendental ops may differ in the last bit (numpy's SIMD loops), nothing more."""
    from cgcli.ops import OPS

    grid = [-math.inf, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, math.inf, math.nan]
    for name, op in OPS.items():
        cases = [(a,) for a in grid] if op.arity == 1 else [(a, b) for a in grid for b in grid]
        with np.errstate(all="ignore"):
            batch = op.array_forward(*(np.array([c[k] for c in cases]) for k in range(op.arity)))
        for case, got in zip(cases, batch):
            want = op.scalar(*case)
            where = f"{name}{case}: one point {want!r}, batch {got!r}"
            assert math.isnan(want) == math.isnan(got), where
            if not math.isnan(want):
                assert math.copysign(1, want) == math.copysign(1, got), where
                assert want == got or abs(want - got) <= 4e-16 * abs(want), where


@pytest.mark.parametrize("name", ["o.csv", "o.npz"])
def test_an_output_file_that_cannot_be_written_is_one_line(cg, tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: the command line fits on one line
    target = f"missing/{name}"
    code, out, err = cg(["grad", "x*y", "--x", "1,2", "--y", "2", "-o", target])
    shown = f"cg grad 'x*y' --x 1,2 --y 2 -o {target}"
    assert (code, out) == (2, "") and err.splitlines() == [
        f"cg: error: cannot write {target}: No such file or directory",
        "  " + shown,
        " " * (2 + shown.index(target)) + "^",
    ]


def test_directional_derivative_with_a_file_of_points_is_said_not_dropped(cg, tmp_path):
    words = ["grad", "x*y", "--x", "1,2", "--y", "2", "--dir", "x=1"]
    said = "no column for the directional derivative; use --format json or tree to see it\n"
    code, out, err = cg([*words, "--format", "csv"])  # no file: the csv on standard output
    assert code == 0 and out.startswith("x,y,f,grad_x,grad_y\n")
    assert err == "cg: warning: --dir: --format csv has " + said
    code, out, err = cg([*words, "-o", str(tmp_path / "out.csv")])
    assert (code, out, err) == (0, "", "cg: warning: --dir: a file of points has " + said)


def test_a_picture_is_of_one_point(cg, tmp_path):
    code, out, err = cg(["graph", "x*y", "--x", "1,2", "--y", "2", "-o", str(tmp_path / "g.dot")])
    assert (
        code == 2
        and err.splitlines()[0]
        == "cg: error: cg graph draws the numbers of one point: give x one value (cg grad shows many points)"
    )
    assert (
        err.splitlines()[1].startswith("  cg graph 'x*y' --x 1,2 ")
        and err.splitlines()[2] == " " * 21 + "^"
    )  # under x's points


def test_every_op_takes_a_constant_beside_an_array():
    # a constant input of a gate stays one float in a batch (bce(0.5, x)); every op must broadcast it
    from cgcli.ops import OPS

    xs = np.array([-1.5, 0.25, 2.0])
    for name, op in OPS.items():
        if op.arity == 1:
            continue
        for args in ((0.5, xs), (xs, 0.5)):
            with np.errstate(all="ignore"):
                got = np.broadcast_to(op.array_forward(*args), xs.shape)
            want = [op.scalar(*(a[k] if np.ndim(a) else a for a in args)) for k in range(len(xs))]
            np.testing.assert_allclose(got, want, rtol=4e-16, err_msg=f"{name}{args}")


@pytest.mark.parametrize(
    "bindings, message",
    [
        ({"x": [1, 10**400]}, "x[1]: 1000"),
        ({"x": [[1, 2], [3]]}, "x: not a list of numbers"),
        ({"x": {}}, "x: a dict is not a list of numbers"),
        ({"x": [1, None]}, "x[1]: None is not a number"),
        ({"x": np.ones((2, 2))}, "x has shape (2, 2)"),
        ({"x": b"12"}, "x: a bytes is not a list of numbers"),
        ({"x": np.ma.masked_array([1.0, 2.0], mask=[0, 1])}, "a MaskedArray"),
        ({"x": np.array([2**53 + 1])}, "beyond 2**53"),
        ({"x": np.array([-(2**63)])}, "beyond 2**53"),  # its absolute value overflows int64
        (
            {"x": np.array([1.0], dtype=np.longdouble)},
            "give numbers (bool, integer or float up to float64)",
        ),
        ([("x", 1)], "bindings map each variable's name to its value"),
    ],
)
def test_api_bad_points_raise_cgerror(bindings, message):
    from cgcli import CgError

    with pytest.raises(CgError) as e:
        grad("x", bindings)
    assert message in e.value.message


def test_api_values_that_are_one_point_or_text():
    assert grad("x*y", {"x": np.array(2.0), "y": [1, 2, 3]}).value.tolist() == [
        2.0,
        4.0,
        6.0,
    ]  # 0-d broadcasts
    assert grad("x", {"x": ["pi", "1"]}).value.tolist() == [math.pi, 1.0]
    assert len(fuse("1/(1+exp(-x))", []).op) == 6  # no gate named: nothing fused
    from cgcli import CgError, constant

    for bad in (3, None):
        with pytest.raises(CgError):
            constant(bad)
    with pytest.raises(CgError):
        grad("x", {"x": 1}, wrt=5)


def test_standard_input_holds_the_expression_or_the_points_not_both(cg):
    for words in (["-"], ["-f", "-"]):
        code, out, err = cg(["grad", *words, "--points", "-"], input="x\n1\n")
        assert (code, out) == (2, "") and err.startswith(
            "cg: error: standard input can hold the expression or the points, not both"
        )


@pytest.mark.parametrize(
    "args",
    [
        ["f*2", "--f", "3,4", "--format", "csv"],
        ["x**2+grad_x", "--x", "2", "--grad_x", "7", "--format", "csv"],
    ],
)
def test_a_variable_named_like_an_output_column_is_an_error_not_a_lost_column(cg, args):
    code, out, err = cg(["grad", *args])
    assert (code, out) == (2, "") and "has the name of an output column" in err


@pytest.mark.parametrize("expr, x", [("1/(x-3)", 3.0), ("exp(x)*x", 1000.0), ("log(x)*x", 0.0)])
def test_many_points_give_the_warnings_one_point_gives(expr, x):
    # a local gradient made from an inf value (-out/y at out = inf) raises no floating-point flag
    one = grad(expr, {"x": x}).warnings
    many = grad(expr, {"x": np.array([x, 4.0])}).warnings
    assert any(w.startswith("gradient") for w in one) and many == [w + " at point 0" for w in one]


def test_an_npz_file_is_written_under_the_name_given_and_no_nodes_is_for_json(cg, tmp_path):
    target = tmp_path / "out.NPZ"  # np.savez given a name would write out.NPZ.npz
    assert cg(["grad", "x", "--x", "1,2", "-o", str(target)])[:2] == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.NPZ"] and np.load(target)[
        "grad_x"
    ].tolist() == [1.0, 1.0]
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", "--no-nodes"])
    assert (code, out) == (2, "") and err.startswith(
        "cg: error: --no-nodes leaves the node list out of --format json"
    )


@pytest.mark.parametrize("expr, x", [("log(x)*0", 0.0), ("exp(x)-exp(x+1)", 1000.0)])
def test_a_nan_made_from_an_inf_is_named_too(expr, x):
    # the first warning names the inf; the nan it turns into further on gets its own, one point and many
    one = grad(expr, {"x": x}).warnings
    many = grad(expr, {"x": np.array([x, 2.0])}).warnings
    assert one[1].startswith("value nan first appears at node") and many == [
        w + " at point 0" for w in one
    ]


@pytest.mark.parametrize(
    "expr",
    ["sigmoid(x)", "1/(1+exp(-x))", "sigmoid(x) + x", "sigmoid(x*y)", "sigmoid(x)*2"],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_a_kernel_that_is_f_writes_into_the_results(expr, threads, monkeypatch):
    """Where f's gate has a kernel, the chunks write its value (and the local gradient that is
    a variable's whole gradient) straight into the result arrays; the numbers are the scalar
    engine's, and a variable read elsewhere too still gets every contribution."""
    monkeypatch.setattr(chunks, "CHUNK", 64)  # several chunks and a ragged last one
    monkeypatch.setattr(chunks, "THREADS", threads)
    rng = np.random.default_rng(4)
    xs, ys = rng.uniform(-40, 40, 300), rng.uniform(-2, 2, 300)
    graph = fuse(parse(expr))
    r = grad(graph, {"x": xs, "y": ys} if "y" in expr else {"x": xs}, keep_nodes=False)
    for k in range(0, 300, 7):
        one = grad(
            graph, {"x": float(xs[k]), "y": float(ys[k])} if "y" in expr else {"x": float(xs[k])}
        )
        assert r.value[k] == pytest.approx(one.value, rel=1e-15, abs=0)
        for name, g in one.gradients.items():
            assert r.gradients[name][k] == pytest.approx(g, rel=1e-14, abs=0)


@pytest.mark.parametrize("keep_nodes", [True, False])
@pytest.mark.parametrize("expr", ["x", "sigmoid(x)", "x*1"])
def test_results_never_share_memory_with_the_callers_arrays(expr, keep_nodes, monkeypatch):
    """The caller's float64 array is read in place (not copied) when only f and the gradients
    are kept; no result, and no kept node value, is that array or a view of it, and it is
    never written."""
    monkeypatch.setattr(chunks, "CHUNK", 64)
    xs = np.linspace(-3, 3, 200)
    before = xs.copy()
    r = grad(fuse(parse(expr)), {"x": xs}, keep_nodes=keep_nodes)
    kept = [v for v in (r.values if keep_nodes else []) if isinstance(v, np.ndarray)]
    for v in [r.value, *r.gradients.values(), *kept]:
        assert not np.shares_memory(v, xs)
    np.testing.assert_array_equal(xs, before)


def test_a_batch_whose_sum_overflows_is_still_finite_and_a_nan_is_named():
    """Bindings are looked at for nan and inf through their sum (one pass); a sum that
    overflows from finite values is looked at point by point, and is no warning."""
    r = grad("x*2", {"x": np.array([1e308, 1e308, -1e308])}, keep_nodes=False)
    assert not [w for w in r.warnings if "variable" in w]
    r = grad("x*2", {"x": np.array([1.0, 1e308, 1e308, math.nan])}, keep_nodes=False)
    assert "variable x is nan at point 3" in r.warnings


def test_a_variable_twice_among_the_kernels_inputs_is_not_written_into(monkeypatch):
    """Only a variable that feeds f's gate alone, once, gets the kernel's local gradient written
    straight into its result: in x/x, each local gradient is one contribution of two (a kernel
    for div, made up for the test, writes where it is told)."""

    def div_kernel(x, y, out=(None, None, None)):
        value, dx, dy = out
        value = np.divide(x, y, out=value)
        return value, (np.divide(1.0, y, out=dx), np.divide(-value, y, out=dy))

    monkeypatch.setitem(arrays.KERNELS, "div", div_kernel)
    monkeypatch.setattr(chunks, "CHUNK", 64)
    xs = np.linspace(1, 3, 200)
    r = grad("x/x", {"x": xs}, keep_nodes=False)
    np.testing.assert_array_equal(r.gradients["x"], 0.0)
    r = grad("x/y", {"x": xs, "y": xs + 1}, keep_nodes=False)
    np.testing.assert_allclose(r.gradients["y"], -xs / (xs + 1) ** 2, rtol=1e-15)
