"""cg check: gradient checks pass and fail, kinks are reported, case files and JUnit; cross-checked with the API."""

import json
import math
import re
import shlex
import xml.etree.ElementTree as ET

import pytest
from conftest import run_bin, run_cli

from cgcli import cases as check_cases
from cgcli import check as checks
from cgcli import evaluate, fuse, grad, parse
from cgcli import report as reports


def check_json(cg, *args, **kw):
    """cg check … --format json: (exit code, the report, stderr)."""
    code, out, err = cg(["check", *args, "--format", "json"], **kw)
    reject = lambda token: pytest.fail(f"bare {token} in JSON")  # noqa: E731
    return code, json.loads(out, parse_constant=reject), err


def rows(report, case=0):
    return report["cases"][case]["checks"]


# ---------------------------------------------------------------------------
# a check passes, and a check can fail


def test_a_correct_gradient_passes_exact_table(cg):
    code, out, err = cg(["check", "x*y", "--x", "1", "--y", "2"], env={"NO_COLOR": "1"})
    assert (code, err) == (0, "")
    assert out == (
        "┏━━━━━━━━━┳━━━━━━━┳━━━━┳━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┓\n"
        "┃ check   ┃ of    ┃ cg ┃ reference ┃ abs err ┃ rel err ┃ status ┃\n"
        "┡━━━━━━━━━╇━━━━━━━╇━━━━╇━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━┩\n"
        "│ numeric │ ∂f/∂x │ 2  │ 2         │ 0       │ 0       │ pass   │\n"
        "│ numeric │ ∂f/∂y │ 1  │ 1         │ 0       │ 0       │ pass   │\n"
        "└─────────┴───────┴────┴───────────┴─────────┴─────────┴────────┘\n"
        "2 checks at x=1, y=2: 2 pass\n"
    )


def test_backprop_beside_the_central_difference_matches_the_api(cg):
    expr = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
    env = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    bindings = [a for k, v in env.items() for a in (f"--{k}", str(v))]
    code, report, err = check_json(cg, expr, *bindings)
    assert (code, report["status"], report["exit_code"]) == (0, "pass", 0)
    r = grad(expr, env)
    assert [(c["check"], c["wrt"]) for c in rows(report)] == [("numeric", v) for v in env]
    # the derivative by hand: s(1-s) times the coefficient of the variable in z
    z = 2 * -1 + -3 * -2 + -3
    s = 1 / (1 + math.exp(-z))
    coefficient = {"w0": -1, "x0": 2, "w1": -2, "x1": -3, "w2": 1}
    for c in rows(report):
        v = c["wrt"]
        assert c["cg"] == r.gradients[v]  # backprop's gradient, exactly
        exact = s * (1 - s) * coefficient[v]
        # Ridders' extrapolation: far closer than a central difference at one step (1e-10 here)
        assert c["reference"] == pytest.approx(exact, rel=1e-12)
        assert 0 < c["step"] < 1 and c["tolerance"] >= 1e-6 * abs(c["reference"])
        assert c["abs_err"] == abs(c["cg"] - c["reference"]) and c["status"] == "pass"


def test_a_wrong_hand_written_derivative_fails(cg):
    good = "sigmoid(z)*(1-sigmoid(z))"
    wrong = "sigmoid(z)*(1+sigmoid(z))"
    code, report, err = check_json(cg, "sigmoid(z)", "--z", "0.5", f"--against=z={good}")
    assert code == 0
    hand = [c for c in rows(report) if c["check"] == "hand-written"]
    assert len(hand) == 1 and hand[0]["status"] == "pass"
    assert hand[0]["reference"] == evaluate(good, {"z": 0.5}).value

    code, report, err = check_json(cg, "sigmoid(z)", "--z", "0.5", "--against", f"z={wrong}")
    assert (code, report["status"]) == (1, "fail")
    hand = [c for c in rows(report) if c["check"] == "hand-written"]
    assert hand[0]["status"] == "fail"
    assert hand[0]["cg"] == grad("sigmoid(z)", {"z": 0.5}).gradients["z"]
    assert hand[0]["reference"] == evaluate(wrong, {"z": 0.5}).value
    assert [c["status"] for c in rows(report) if c["check"] == "numeric"] == [
        "pass"
    ]  # backprop itself is right


def test_the_failing_row_is_in_the_table(cg):
    code, out, err = cg(["check", "tanh(x)", "--x", "0.5", "--against", "x=1-tanh(x)"])
    assert code == 1
    line = next(line for line in out.splitlines() if "hand-written" in line)
    assert re.search(
        r"│ hand-written │ ∂f/∂x │ 0\.7864477329659274 +│ 0\.5378828427399902 +│ 0\.25 +│ 0\.46 +│ fail +│",
        line,
    )
    assert out.endswith("2 checks at x=0.5: 1 pass, 1 fail\n")


def test_the_hand_written_derivative_may_use_every_variable(cg):
    code, report, err = check_json(
        cg, "(x+y)**2", "--x", "1", "--y", "2", "--against", "x=2*(x+y)", "--against", "y=2*x+2*y"
    )
    assert code == 0
    assert [(c["wrt"], c["reference"]) for c in rows(report) if c["check"] == "hand-written"] == [
        ("x", 6.0),
        ("y", 6.0),
    ]


@pytest.mark.parametrize(
    "args, code",
    [
        (["--expect", "9"], 0),
        (["--expect", "10"], 1),
        (["--expect", "3**2"], 0),
        (["--expect-grad", "x=6", "--expect-grad", "y=6"], 0),
        (["--expect-grad", "y=7"], 1),
        (["--expect", "9.01"], 1),  # |9 - 9.01| > 1e-5 + 1e-3 * 9.01
        (["--expect", "9.01", "--rtol", "2e-3"], 0),  # ≤ 1e-5 + 2e-3 * 9.01
        (["--expect", "9.001", "--rtol", "0", "--atol", "0.0011"], 0),
        (["--expect", "9.001", "--rtol", "0", "--atol", "0.0009"], 1),
    ],
)
def test_expectations_and_tolerances(cg, args, code):
    got, report, err = check_json(cg, "(x+y)**2", "--x", "1", "--y", "2", *args)
    assert got == code
    expected = [c for c in rows(report) if c["check"] == "expect"]
    assert expected and all(c["status"] == ("pass" if code == 0 else c["status"]) for c in expected)
    assert any(c["status"] == "fail" for c in expected) == (code == 1)


def test_the_tolerance_is_the_errors_plus_rtol_of_the_reference():
    s = check_cases.Settings(rtol=0.5, atol=0.0)
    assert checks.verdict(1.0, 2.0, 0.0, s) == ("pass", 1.0)  # |1 - 2| <= 0.5 * |2|
    # |2 - 1| >  0.5 * |1|: rtol scales the reference, not cg's number
    assert checks.verdict(2.0, 1.0, 0.0, s)[0] == "fail"
    assert checks.verdict(2.0, 1.0, 1.25, s) == ("inconclusive", 1.75)  # within the errors
    s = check_cases.Settings(rtol=0.0, atol=0.25)
    assert checks.verdict(0.0, 0.25, 0.0, s)[0] == "pass"
    assert checks.verdict(0.0, 0.2501, 0.0, s)[0] == "fail"
    d = check_cases.Settings()
    # no fixed absolute tolerance decides a small gradient: a sign error at 3e-7 fails
    assert (d.eps, d.rtol, d.atol, d.method) == (None, 1e-6, 0.0, "ridders")
    assert checks.verdict(3e-7, -3e-7, 1e-20, d)[0] == "fail"
    assert checks.verdict(1 + 2e-4, 1, 1e-12, d)[0] == "fail"  # a coefficient off by 2e-4


# ---------------------------------------------------------------------------
# kinks


def test_a_kink_crossing_is_reported(cg):
    code, report, err = check_json(cg, "relu(x)", "--x", "0")
    assert (code, report["status"]) == (0, "kink")
    (row,) = rows(report)
    assert row["status"] == "kink"
    assert (
        row["note"]
        == "step crosses a kink at node #1 (relu) 'relu(x)'; backprop agrees with the left difference 0"
    )
    assert (row["cg"], row["reference"], row["left"], row["right"]) == (0.0, 0.5, 0.0, 1.0)


def test_a_kink_inside_the_step_is_reported_too(cg):
    # the steps stay on one side of the kink: x = 1e-7 passes
    code, report, err = check_json(cg, "abs(x)*y", "--x", "1e-7", "--y", "2")
    assert (code, [c["status"] for c in rows(report)]) == (0, ["pass", "pass"])
    # with the first step given, x = 1e-9 is not the kink, but x - h < 0 < x + h at every step
    # (down to 1e-6/128): backprop gives 2, the right side
    code, report, err = check_json(cg, "abs(x)*y", "--x", "1e-9", "--y", "2", "--eps", "1e-6")
    assert code == 0
    x_row = rows(report)[0]
    assert (x_row["wrt"], x_row["status"]) == ("x", "kink")
    assert "node #1 (abs) 'abs(x)'" in x_row["note"] and "right difference" in x_row["note"]
    assert rows(report)[1]["status"] == "pass"  # y does not move abs(x)


def test_a_kink_where_backprop_agrees_with_no_side_fails(cg):
    # max gives 0.5 at a tie, relu 0: backprop says 0.5, the sides 0 and 2
    code, report, err = check_json(cg, "max(x, 0) + relu(x)", "--x", "0")
    assert code == 1
    (row,) = rows(report)
    assert (row["status"], row["cg"], row["left"], row["right"]) == ("fail", 0.5, 0.0, 2.0)
    assert "backprop agrees with no difference (left 0, right 2)" in row["note"]


def test_hypot_at_1e200_is_checked_not_called_a_kink():
    code, report, err = check_json(run_cli, "hypot(x, y)", "--x", "1e200", "--y", "3e200")
    assert code == 0 and [c["status"] for c in rows(report)] == ["pass", "pass"], report


def test_hypot_through_its_tip_is_a_kink_not_a_failure():
    # the steps keep clear of the tip: near it, a right gradient passes
    code, report, err = check_json(run_cli, "hypot(x, y)", "--x", "1e-7", "--y", "0")
    assert [c["status"] for c in rows(report)] == ["pass", "pass"], report
    code, report, err = check_json(
        run_cli, "hypot(x, y)", "--x", "1e-9", "--y", "0", "--eps", "1e-6"
    )
    assert code == 0, report
    assert [c["status"] for c in rows(report)] == ["kink", "kink"]  # y's step passes the tip too
    for expr in (
        "hypot(x, 0.1*x)",
        "hypot(sin(x), x)",
        "hypot(x, x*x)",
    ):  # exact collinearity was required
        code, report, err = check_json(run_cli, expr, "--x", "1e-9", "--eps", "1e-6")
        assert (code, [c["status"] for c in rows(report)]) == (0, ["kink"]), expr


def test_away_from_kinks_nothing_is_said():
    code, report, err = check_json(run_cli, "relu(x) + abs(y) + max(x, y)", "--x", "1", "--y", "-2")
    assert code == 0
    assert [(c["status"], c["note"]) for c in rows(report)] == [("pass", ""), ("pass", "")]


@pytest.mark.parametrize(
    "expr, minus, plus, crossed",
    [
        ("relu(x)", -1e-6, 1e-6, True),
        ("relu(x)", 1.0, 1.1, False),
        ("abs(x)", 0.0, 1e-6, True),
        ("sign(x)", -1.0, -0.5, False),
        ("floor(x)", 0.999, 1.001, True),
        ("floor(x)", 1.001, 1.002, False),
        ("ceil(x)", 1.999, 2.001, True),
        ("max(x, 1)", 0.9, 1.1, True),
        ("min(x, 1)", 1.1, 1.2, False),
        ("atan2(x, -1)", -1e-6, 1e-6, True),  # across the cut
        ("atan2(x, 1)", -1e-6, 1e-6, False),  # no cut on this side
        ("atan2(-1, x)", -1e-6, 1e-6, False),  # y changes sign where atan2 is smooth
        ("hypot(x, 0)", -1e-6, 1e-6, True),  # through the cone's tip
        (
            "hypot(x, 1e-300)",
            -1e-6,
            1e-6,
            True,
        ),  # beside it, closer than the step: no evidence either
        ("hypot(x, 0.1*x)", -1e-6, 1e-6, True),  # through it along a line that is not an axis
        ("hypot(sin(x), x)", -1e-6, 1e-6, True),  # along a curve
        ("hypot(x, 1)", -1e-6, 1e-6, False),  # far from it
        ("hypot(x, 0)", 1e-6, 2e-6, False),
        # far from the tip in units of the coordinates: their squares would overflow, underflow
        ("hypot(x, 3e200)", 1e200, 1.0000001e200, False),
        ("hypot(x, 1e-200)", 1e-200, 2e-200, False),
        ("hypot(x, 1e190)", -1e200, 1e200, True),  # passes it closer than the step's length
        ("hypot(x, 1e-300)", -1e-200, 1e-200, True),
        ("exp(x)", -1.0, 1.0, False),
    ],
)
def test_kink_detection_op_by_op(expr, minus, plus, crossed):
    graph = parse(expr)
    found = checks.kinks(
        graph, evaluate(graph, {"x": minus}).values, evaluate(graph, {"x": plus}).values
    )
    assert bool(found) == crossed
    if crossed:
        assert graph.nodes[found[0]].op == expr.split("(")[0]


# ---------------------------------------------------------------------------
# random points


def test_random_points_are_reproducible_inside_the_box(cg):
    args = [
        "x*y + sin(x)",
        "--x",
        "1",
        "--y",
        "2",
        "--random",
        "5",
        "--box=-1:1",
        "--box",
        "y=10:11",
        "--seed",
        "7",
    ]
    code, report, err = check_json(cg, *args)
    assert code == 0
    case = report["cases"][0]
    points = case["points"]
    assert [p["origin"] for p in points] == ["bound"] + ["random"] * 5
    assert points[0]["bindings"] == {"x": 1.0, "y": 2.0}
    import random

    rng = random.Random(7)
    assert [p["bindings"] for p in points[1:]] == [
        {"x": rng.uniform(-1, 1), "y": rng.uniform(10, 11)} for _ in range(5)
    ]
    assert case["settings"]["box"] == {"x": [-1.0, 1.0], "y": [10.0, 11.0]}
    assert len(case["checks"]) == 2 * 6
    assert {c["point"] for c in case["checks"]} == set(range(6))
    # the same seed gives the same points, another seed others
    assert check_json(cg, *args)[1] == report
    other = check_json(cg, *args[:-1], "8")[1]
    assert other["cases"][0]["points"][1:] != points[1:]


def test_the_table_prints_the_seed_and_a_random_failure_with_its_point():
    # the hand-written derivative is right for x > 0 only
    code, out, err = run_cli(
        ["check", "abs(x)", "--against", "x=1", "--random", "6", "--box", "-1:1", "--seed", "3"]
    )
    assert code == 1
    assert out.endswith("12 checks at 6 random points (seed 3, box x=-1:1): 9 pass, 3 fail\n")
    failing = [line for line in out.splitlines() if "│ fail" in line]
    assert len(failing) == 3
    # every shown row names its point in full precision: pasted back as a binding, it fails again
    for line in failing:
        point = re.search(r"│ x=(\S+) +│", line).group(1)
        assert float(point) < 0
        assert (
            run_cli(["check", "abs(x)", "--against", "x=1", "--x", point, "--format", "json"])[0]
            == 1
        )


@pytest.mark.parametrize(
    "expr, args",
    [
        ("sin(x)*y + relu(x-y)", ["--box=-1:1"]),  # kinks inside some steps
        ("sigmoid(x)*log(y)", ["--box=-2:2", "--fuse"]),  # nan where y < 0; the fused graph
        ("x**3", ["--against", "x=3*x**2"]),
    ],
)
def test_random_points_run_as_one_batch_with_the_same_rows(expr, args, monkeypatch):
    """--random N computes the N points in one pass over arrays per graph; each row is the one
    the point would get alone (a point with a nan or inf is computed alone, for its notes)."""
    case = check_cases.from_values(expr, {}, against=args[1:] if "--against" in args else None, settings=dict(
        random=40, seed=5, box=[a.split("=", 1)[1] for a in args if a.startswith("--box")], fuse="all" if "--fuse" in args else None))  # fmt: skip
    calls = []
    real_grad = checks.api.grad
    monkeypatch.setattr(
        checks.api,
        "grad",
        lambda graph, env, **kw: (
            (graph in (case.graph, case.fine) and calls.append(env)) or real_grad(graph, env, **kw)
        ),
    )
    batched = checks.run_case(case)
    one_at_a_time = sum(1 for env in calls if not hasattr(next(iter(env.values())), "__len__"))
    in_batches = len(calls) - one_at_a_time
    alone = [
        row
        for i, p in enumerate(batched.points)
        for row in checks._check_point(case, i, p, checks._Numbers(case, [p]))
    ]
    bad_points = {r.point for r in alone if r.status == checks.NONFINITE}
    assert one_at_a_time == len(bad_points) * (2 if case.fine is not None else 1)
    assert in_batches == (2 if case.fine is not None else 1)
    assert len(batched.rows) == len(alone)
    for b, a in zip(batched.rows, alone):
        assert (b.point, b.check, b.wrt, b.status, b.note.split(";")[0]) == (
            a.point,
            a.check,
            a.wrt,
            a.status,
            a.note.split(";")[0],
        )
        assert b.cg == pytest.approx(a.cg, rel=1e-12, abs=1e-300) or (
            math.isnan(b.cg) and math.isnan(a.cg)
        )
        assert b.reference == pytest.approx(a.reference, rel=1e-6, abs=1e-9) or (
            math.isnan(b.reference) and math.isnan(a.reference)
        )
    if "log" in expr:
        assert bad_points, "the case should have points where log(y) is nan"


def test_random_points_only_when_nothing_is_bound(cg):
    code, report, err = check_json(cg, "log(x)", "--random", "4", "--box", "x=0.5:2")
    assert code == 0
    assert [p["origin"] for p in report["cases"][0]["points"]] == ["random"] * 4
    code, out, err = cg(["check", "log(x)", "--random", "4", "--box", "x=0.5:2"])
    assert (code, out) == (0, "4 checks at 4 random points (seed 0, box x=0.5:2): 4 pass\n")


def test_a_nan_at_a_random_point_is_exit_3(cg):
    code, report, err = check_json(cg, "log(x)", "--random", "10", "--box=-1:1")
    assert code == 3
    bad = [c for c in rows(report) if c["status"] == "nonfinite"]
    assert bad and all(report["cases"][0]["points"][c["point"]]["bindings"]["x"] < 0 for c in bad)
    assert "value nan first appears at node #1 (log)" in bad[0]["note"]


# ---------------------------------------------------------------------------
# --fuse


def test_fuse_compares_the_fused_graph_with_the_fine_grained_one(cg):
    expr = "1/(1+exp(-(w*x+b)))"
    env = {"w": 2.0, "x": -1.0, "b": 0.5}
    code, report, err = check_json(
        cg, expr, "--w", "2", "--x", "-1", "--b", "0.5", "--fuse", "--random", "3"
    )
    assert (code, err) == (0, "")
    case = report["cases"][0]
    assert case["settings"]["fuse"] == "all"
    fused_rows = [c for c in case["checks"] if c["check"] == "fuse"]
    assert [(c["point"], c["wrt"]) for c in fused_rows] == [
        (p, v) for p in range(4) for v in (None, "w", "x", "b")
    ]
    fused, fine = grad(fuse(expr), env), grad(expr, env)
    at_bound = {c["wrt"]: c for c in fused_rows if c["point"] == 0}
    assert (at_bound[None]["cg"], at_bound[None]["reference"]) == (fused.value, fine.value)
    for v in env:
        assert (at_bound[v]["cg"], at_bound[v]["reference"]) == (
            fused.gradients[v],
            fine.gradients[v],
        )
    # the numeric checks ran on the fused graph
    numeric = {
        c["wrt"]: c["cg"] for c in case["checks"] if c["check"] == "numeric" and c["point"] == 0
    }
    assert numeric == fused.gradients


def test_fuse_where_the_fine_grained_graph_overflows_is_exit_3(cg):
    code, report, err = check_json(cg, "1/(1+exp(-z))", "--z", "-800", "--fuse")
    assert code == 3
    bad = [c for c in rows(report) if c["status"] == "nonfinite"]
    assert [(c["check"], c["wrt"], c["cg"], c["reference"]) for c in bad] == [
        ("fuse", "z", 0.0, "nan")
    ]
    assert "the reference is nan" in bad[0]["note"] and "exp(-z)" in bad[0]["note"]


def test_fuse_with_nothing_to_fuse_warns(cg):
    code, out, err = cg(["check", "x*y", "--x", "1", "--y", "2", "--fuse"])
    assert code == 0
    assert (
        err
        == "cg: warning: --fuse: nothing in the expression matches a gate (`cg fusions` lists the shapes)\n"
    )


# ---------------------------------------------------------------------------
# not finite, bad input


def test_a_gradient_that_is_not_finite_is_exit_3(cg):
    code, report, err = check_json(cg, "sqrt(x)", "--x", "0")
    assert (code, report["exit_code"], report["status"]) == (3, 3, "nonfinite")
    (row,) = rows(report)
    assert (row["cg"], row["reference"], row["status"]) == ("inf", "nan", "nonfinite")
    assert row["note"].startswith(
        "the gradient is inf, f at x-h is nan (gradient inf first appears at node #1 (sqrt)"
    )


def test_a_step_lost_in_the_precision_of_x_is_not_a_pass():
    # the steps follow |x| (a correct gradient at 1e20 passes); one given too small is lost
    assert check_json(run_cli, "x", "--x", "1e20")[0] == 0
    code, report, err = check_json(run_cli, "x", "--x", "1e20", "--eps", "1e-6")
    assert code == 3
    assert "the step is lost" in rows(report)[0]["note"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["x*y", "--x", "1"],
            "cg: error: no value for the variable y: pass --y VALUE\n  x*y\n    ^\n",
        ),
        (["2x"], "cg: error: implicit multiplication is not supported: write 2*x\n  2x\n   ^\n"),
        (
            [],
            "cg: error: no expression given: cg check EXPR [--x VALUE ...], or cg check --cases FILE.toml\n  cg check\n          ^\n",
        ),
        (
            ["x", "--x", "1", "--expect-grad", "z=1"],
            "cg: error: --expect-grad z: the expression has no variable z\n",
        ),
        (
            ["x", "--x", "1", "--expect-grad", "6"],
            "cg: error: --expect-grad takes NAME=VALUE, got '6'\n",
        ),
        (  # as cg check -h writes it: a derivative is an expression, not a value
            ["x**3", "--x", "1", "--against", "3*x**2"],
            "cg: error: --against takes NAME=EXPR, got '3*x**2'\n",
        ),
        (
            ["x", "--x", "1", "--expect", "abc"],
            "cg: error: --expect: 'abc' is not a constant expression: it uses the name 'abc'\n  abc\n  ^\n",
        ),
        (
            ["x", "--x", "1", "--expect", "1/0"],
            "cg: error: --expect: an expected number must be finite, got inf\n",
        ),
        (
            ["x*y", "--x", "1", "--y", "2", "--against", "x=y+w"],
            "cg: error: --against x: the derivative uses w, which the expression does not have\n  y+w\n    ^\n",
        ),
        (
            ["x", "--x", "1", "--against", "x=1+"],
            "cg: error: --against x: unexpected end of input: expected a number, a name or '('\n  1+\n    ^\n",
        ),
        (
            ["x", "--x", "1", "--against", "x=1", "--against", "x=2"],
            "cg: error: --against x is given twice\n",
        ),
        (
            ["x", "--x", "1", "--random", "2", "--box", "3:-3"],
            "cg: error: --box 3:-3: the box must be finite with LO <= HI\n",
        ),
        (
            ["x", "--x", "1", "--random", "2", "--box", "3"],
            "cg: error: --box takes LO:HI or NAME=LO:HI (such as -3:3 or x=0:1), got '3'\n",
        ),
        (
            ["x", "--x", "1", "--random", "-1"],
            "cg: error: --random must be an integer >= 0, got -1\n",
        ),
        # 10**11 random points ran until the system killed cg (exit 137, nothing said)
        (
            ["x", "--random", "100000000000"],
            "cg: error: --random must be at most 1,000,000, got 100,000,000,000\n",
        ),
        (
            ["x", "--x", "1", "--rtol", "-1"],
            "cg: error: --rtol must be a finite number >= 0, got -1.0\n",
        ),
        (
            ["x", "--x", "1", "--eps", "0"],
            "cg: error: --eps must be a finite number > 0, got 0.0\n",
        ),
        (
            ["x*y", "--random", "2", "--expect", "3"],
            "cg: error: --expect needs the bound point: bind every variable\n",
        ),
        (
            ["x", "--x", "1", "--fuse", "sigmoidd"],
            "cg: error: --fuse: unknown gate 'sigmoidd' (did you mean sigmoid?); `cg fusions` lists them\n",
        ),
        (
            ["x*y", "--x", "1,2,3", "--y", "2"],
            "cg: error: x is bound to 3 points: cg check checks one bound point; for more use --random N, or a case file\n  cg check 'x*y' --x 1,2,3 --y 2\n                     ^\n",
        ),
        (
            ["x", "--e", "1", "--x", "1"],
            "cg: error: e is the constant 2.718281828459045; to use another value write 'e = …; ' before the expression\n  cg check x --e 1 --x 1\n                 ^\n",
        ),
    ],
)
def test_bad_input_is_exit_2_with_one_line(cg, args, message):
    code, out, err = cg(["check", *args])
    expected, lines = message.splitlines(), err.splitlines()
    assert (code, out, lines[0]) == (2, "", expected[0])
    if len(expected) > 1:  # the input with a caret
        assert lines == expected
    elif expected[0].startswith(
        "cg: error: -"
    ):  # about an option: the command line, a caret under it
        assert (
            len(lines) == 3
            and lines[1] == "  cg check " + " ".join(shlex.quote(a) for a in args)
            and lines[2].strip() == "^"
        )
    else:
        assert len(lines) == 1


def test_warnings_name_what_has_no_effect(cg):
    code, out, err = cg(["check", "x", "--x", "1", "--y", "2", "--box", "x=0:1", "--seed", "3"])
    assert code == 0
    assert err == (
        "cg: warning: binding y is not used by the expression\n"
        "cg: warning: --box and --seed have no effect without --random\n"
    )


# ---------------------------------------------------------------------------
# case files and JUnit

CASES = """\
[[case]]
name = "seed example"
expr = "(x+y)**2"
bindings = { x = 1, y = 2 }
expect = 9
expect_grad = { x = 6, y = "3*2" }

[[case]]
name = "sigmoid, derivative written wrong"
expr = "sigmoid(z)"
bindings = { z = 0.5 }
against = { z = "sigmoid(z)*(1+sigmoid(z))" }
"""


def test_a_case_file_with_a_failing_case_is_exit_1_and_its_junit_names_it(cg, tmp_path):
    cases, junit = tmp_path / "checks.toml", tmp_path / "report.xml"
    cases.write_text(CASES)
    code, out, err = cg(["check", "--cases", str(cases), "--junit", str(junit)])
    assert (code, err) == (1, "")
    assert out.endswith("2 cases: 1 pass, 1 fail\n")
    summary = [line for line in out.splitlines() if line.startswith("│")][:2]
    assert re.match(r"│ seed example +│ \(x\+y\)\*\*2 +│ bound +│ 5 pass +│ pass +│", summary[0])
    assert re.match(
        r"│ sigmoid, derivative written wrong +│ sigmoid\(z\) +│ bound +│ 1 pass, 1 fail +│ fail +│",
        summary[1],
    )

    code, out, err = cg(["check", "--cases", str(cases), "--format", "plain"])
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "case pass seed example",
        "case fail sigmoid, derivative written wrong",
        "pass 1",
        "fail 1",
        "status fail",
    ]

    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases_by_name = {tc.get("name"): tc for tc in suite.findall("testcase")}
    assert list(cases_by_name) == ["seed example", "sigmoid, derivative written wrong"]
    assert cases_by_name["seed example"].find("failure") is None
    failure = cases_by_name["sigmoid, derivative written wrong"].find("failure")
    assert failure is not None and failure.get("type") == "fail"
    # the message: which gradient, where, by how much (1.0099… - 0.2350… = 0.77), and the
    # row's tolerance: the references' error bounds plus rtol*|reference| = 1e-6*1.0099…
    assert failure.get("message") == (
        "∂f/∂z at z=0.5: cg 0.23500371220159452, hand-written 1.0099149502021145, "
        "off by 0.77 (allowed 1e-06)"
    )
    assert failure.text.startswith(
        "fail: hand-written ∂f/∂z at z=0.5: cg 0.23500371220159452, reference 1.0099149502021145"
    )
    assert cases_by_name["seed example"].get("classname") == str(cases)
    props = {p.get("name"): p.get("value") for p in cases_by_name["seed example"].iter("property")}
    assert props == {"expression": "(x+y)**2", "points": "x=1, y=2"}


def test_a_case_file_that_passes_is_exit_0_and_json_lists_every_case(cg, tmp_path):
    cases = tmp_path / "ok.toml"
    cases.write_text(CASES.split("\n\n")[0] + "\n")
    code, out, err = cg(["check", "--cases", str(cases)])
    assert code == 0 and out.endswith("1 case: 1 pass\n")
    code, report, err = check_json(cg, "--cases", str(cases))
    assert (code, report["file"], report["status"]) == (0, str(cases), "pass")
    (case,) = report["cases"]
    assert (case["name"], case["expression"], case["counts"]) == (
        "seed example",
        "(x+y)**2",
        {"pass": 5},
    )
    assert [
        (c["check"], c["wrt"], c["reference"]) for c in case["checks"] if c["check"] == "expect"
    ] == [
        ("expect", None, 9.0),
        ("expect", "x", 6.0),
        ("expect", "y", 6.0),
    ]


def test_fail_and_not_finite_together_are_exit_3_and_junit_says_which(tmp_path):
    cases, junit = tmp_path / "c.toml", tmp_path / "r.xml"
    cases.write_text(
        CASES + '\n[[case]]\nname = "sqrt at 0"\nexpr = "sqrt(x)"\nbindings = { x = 0 }\n'
    )
    code, out, err = run_cli(["check", "--cases", str(cases), "--junit", str(junit)])
    assert code == 3
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    error = [tc for tc in suite.findall("testcase") if tc.find("error") is not None]
    assert [tc.get("name") for tc in error] == ["sqrt at 0"]


def test_case_settings_win_over_the_command_line(tmp_path):
    cases = tmp_path / "c.toml"
    cases.write_text(
        '[[case]]\nname = "own"\nexpr = "x"\nbindings = { x = 1 }\nrtol = 0.5\nrandom = 2\nbox = "x=0:1"\nfuse = false\n'
        '[[case]]\nname = "inherits"\nexpr = "x"\nbindings = { x = 1 }\n'
    )
    code, report, err = check_json(
        run_cli,
        "--cases",
        str(cases),
        "--rtol",
        "0.25",
        "--random",
        "3",
        "--seed",
        "5",
        "--box=-2:2",
        "--fuse",
    )
    own, inherits = (c["settings"] for c in report["cases"])
    assert own == {
        "method": "ridders",
        "eps": None,
        "rtol": 0.5,
        "atol": 0.0,
        "random": 2,
        "seed": 5,
        "box": {"x": [0.0, 1.0]},
        "fuse": None,
    }
    assert inherits == {
        "method": "ridders",
        "eps": None,
        "rtol": 0.25,
        "atol": 0.0,
        "random": 3,
        "seed": 5,
        "box": {"x": [-2.0, 2.0]},
        "fuse": "all",
    }


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[[case]]\nname = "sq"\nexpr = "x"\nbindings = { x = 1 }\nexpct = 1\n',
            "case 'sq': unknown key 'expct' (did you mean 'expect'?); a case takes name, expr, bindings, expect, expect_grad, against, method, eps, rtol, atol, random, seed, box, fuse",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x*y"\nbindings = { x = 1 }\n',
            "case 'a': no value for the variable y: add it to bindings (or check random points only: random = N)\n  x*y\n    ^",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x*"\n',
            "case 'a': unexpected end of input: expected a number, a name or '('\n  x*\n    ^",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\nrtol = "big"\n',
            "case 'a': rtol must be a finite number >= 0, got 'big'",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\nrandom = true\n',
            "case 'a': random must be an integer >= 0, got True",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x"\nbindings = [1]\n',
            "case 'a': bindings must be a table such as bindings = { x = 1 }, got [1]",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\nagainst = { y = "1" }\n',
            "case 'a': against y: the expression has no variable y",
        ),
        (
            '[[case]]\nexpr = "x"\nbindings = { x = 1 }\n[[case]]\nexpr = "x"\nbindings = { x = 2 }\n',
            "case #2: another case has the same name: a report needs each name once",
        ),
        (
            '[[case]]\nname = "a"\n',
            "case 'a': expr must be the expression's text, such as expr = \"(x+y)**2\"",
        ),
        (
            'name = "a"\n',
            "unknown key 'name' at the top level: write each case as a [[case]] table",
        ),
        ("", 'no cases: write each case as a [[case]] table with expr = "..."'),
        (
            "[[case]\n",
            "not valid TOML: Expected ']]' at the end of an array declaration (at line 1, column 7)",
        ),
        ("case = [1, 2]\n", 'case must hold tables ([[case]] with expr = "..."), got [1, 2]'),
        (
            '[case]\nexpr = "x"\n',
            "[case] is one table; write each case as a [[case]] table (two brackets), as a list of cases",
        ),
        # a report (JUnit XML, a terminal) cannot carry control characters
        (
            '[[case]]\nname = "a\\u0007b"\nexpr = "x**2"\nbindings = { x = 1 }\n',
            "case 'a\\x07b': name must be printable text, got 'a\\x07b'",
        ),
        (
            '[[case]]\nname = "a"\nexpr = "x**2"\nbindings = { x = 1, "q\\u0001" = 2 }\n',
            "case 'a': bindings: 'q\\x01' is not a variable name",
        ),
    ],
)
def test_a_bad_case_file_is_exit_2_naming_the_case_and_key(cg, tmp_path, text, message):
    cases, junit = tmp_path / "c.toml", tmp_path / "report.xml"
    cases.write_text(text)
    code, out, err = cg(["check", "--cases", str(cases), "--junit", str(junit)])
    assert (code, out, err) == (2, "", f"cg: error: {cases}: {message}\n")
    assert not junit.exists()


def test_cases_with_an_expression_or_a_missing_file_is_exit_2(cg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths: the command line fits on one line
    code, out, err = cg(["check", "--cases", "c.toml", "x", "--x", "1", "--expect", "1"])
    assert (code, err.splitlines()[0]) == (
        2,
        "cg: error: --cases runs the cases of c.toml, each with its own expression, bindings and "
        "expectations: leave the expression, the bindings and --expect off the command line",
    )
    assert err.splitlines()[1:] == [
        "  cg check --cases c.toml x --x 1 --expect 1",
        " " * 26 + "^",
    ]  # under the expression
    code, out, err = cg(["check", "--cases", "c.toml", "x**2", "--x", "1"])
    assert (code, err.splitlines()[0]) == (
        2,
        "cg: error: --cases runs the cases of c.toml, each with its own expression, bindings and "
        "expectations: leave the expression and the bindings off the command line",
    )
    code, out, err = cg(["check", "--cases", "c.toml", "--x", "1"])
    assert err.splitlines()[1:] == [
        "  cg check --cases c.toml --x 1",
        " " * 30 + "^",
    ]  # under the binding
    code, out, err = cg(["check", "--cases", "missing.toml"])
    assert (code, err.splitlines()) == (
        2,
        [
            "cg: error: cannot read missing.toml: No such file or directory",
            "  cg check --cases missing.toml",
            " " * 19 + "^",
        ],
    )


def test_junit_for_one_expression(cg, tmp_path):
    junit = tmp_path / "r.xml"
    code, out, err = cg(["check", "relu(x)", "--x", "0", "--junit", str(junit)])
    assert code == 0
    (testcase,) = ET.parse(junit).getroot().iter("testcase")
    assert testcase.get("name") == "relu(x)"
    assert testcase.find("failure") is None and testcase.find("error") is None
    assert "kink: numeric ∂f/∂x at x=0" in testcase.find("system-out").text


# ---------------------------------------------------------------------------
# the terminal, the README, the API


def test_on_an_ascii_terminal():
    code, out, err = run_bin(
        ["check", "θ*relu(x)", "--x", "0", "-v", "θ=2"], env={"PYTHONIOENCODING": "ascii"}
    )
    assert code == 0, err
    out.encode("ascii")
    assert "df/dx" in out and "df/d\\u03b8" in out and "step crosses a kink" in out


def test_help_lists_the_exit_codes(cg):
    code, out, err = cg(["check", "--help"], env={"COLUMNS": "200"})
    assert code == 0
    assert "Exit codes: 0 every check passed; 1 a check failed; 2 bad usage or input;" in out


def test_the_api_runs_without_the_command_line():
    case = check_cases.from_values(
        "x**3", {"x": 2.0}, expect="8", against=["x=3*x**2"], settings=dict(random=3)
    )
    report = checks.run([case])
    assert (report.status, report.exit_code) == ("pass", 0)
    result = report.results[0]
    assert len(result.points) == 4 and [r.check for r in result.rows[:3]] == [
        "numeric",
        "hand-written",
        "expect",
    ]
    assert math.isclose(result.rows[0].reference, 12.0, rel_tol=1e-9)
    xml = reports.junit_xml(report)
    assert ET.fromstring(xml).find("testsuite").get("tests") == "1"


def test_the_library_names_settings_by_key_and_the_command_line_by_option():
    # the same mistakes as on the command line (test_bad_input_is_exit_2_with_one_line), said
    # in the library's own words: a setting by its key
    for kw, message in [
        ({"settings": {"eps": 0}}, "eps must be a finite number > 0, got 0"),
        ({"expect_grad": ["z=1"]}, "expect_grad z: the expression has no variable z"),
        ({"against": ["x=1", "x=2"]}, "against x is given twice"),
        ({"settings": {"fuse": "sigmoidd"}}, "fuse: unknown gate 'sigmoidd' (did you mean"),
    ]:
        with pytest.raises(check_cases.CgError) as e:
            check_cases.from_values("x", {"x": 1.0}, **kw)
        assert e.value.message.startswith(message), e.value.message
    case = check_cases.from_values("x", {"x": 1.0}, settings={"seed": 3})
    assert case.warnings == ["seed has no effect without random"]
    # a caller that names settings otherwise gets its names
    case = check_cases.from_values(
        "x", {"x": 1.0}, settings={"seed": 3}, setting_name=lambda key: f"<{key}>"
    )
    assert case.warnings == ["<seed> has no effect without <random>"]
    case = check_cases.from_values("x", {"x": 1e20}, settings={"eps": 1e-6})
    note = checks.run([case]).results[0].rows[0].note
    assert note.endswith("; use a larger eps")


def test_user_text_in_the_report_is_never_read_as_rich_markup(cg, tmp_path):
    cases = tmp_path / "markup.toml"
    cases.write_text(
        '[[case]]\nname = "[bold red]loud[/bold red] case"\nexpr = "(x # [x] and [i]\\n + 1)**2"\nbindings = {x = 1}\nexpect = 5\n'
    )
    code, out, err = cg(["check", "--cases", str(cases)])
    assert code == 1, err
    # in the summary table and in the case's own heading, as typed
    assert out.count("[bold red]loud[/bold red] case") == 2 and out.count("[x] and [i]") == 2, out


def test_random_points_of_an_expression_without_variables(cg):
    # every random point is the same point; the batch's value is one number, not an array
    code, out, err = cg(["check", "2+3", "--expect", "5", "--random", "3", "--format", "json"])
    assert code == 0 and json.loads(out)["status"] == "pass" and "Traceback" not in err
    code, out, err = cg(
        ["check", "bce(0.5, x)", "--random", "5", "--format", "json"]
    )  # a constant input of bce in a batch
    assert code == 0 and json.loads(out)["status"] == "pass"


@pytest.mark.parametrize("expr, x", [("sin(x)", "1e5"), ("sin(x)", "1e7"), ("tanh(x-1e6)", "1e6")])
def test_a_right_gradient_far_from_0_passes(expr, x):
    # a step that grew with |x| (0.1 at 1e5) made these fail by truncation: the step stays absolute
    code, report, err = check_json(run_cli, expr, "--x", x)
    assert (code, report["status"]) == (0, "pass"), report


@pytest.mark.parametrize(
    "given, message", [(["x", "x"], "names x twice"), (["x", " "], "has an empty name")]
)
def test_name_lists_given_as_lists_are_checked_as_text_is(given, message):
    from cgcli import api

    with pytest.raises(api.CgError, match=message):
        api.grad(
            "x*y", {"x": 1, "y": 2}, wrt=given
        )  # wrt=['x', 'x'] dropped the repeat without a word
    with pytest.raises(api.CgError, match=message.replace("x", "sigmoid")):
        api.fuse("sigmoid(x)", [g.replace("x", "sigmoid") for g in given])


def test_a_case_files_gate_list_is_checked_as_the_command_lines(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[case]]\nexpr = "sigmoid(x)"\nbindings = { x = 1 }\nfuse = ["sigmoid", "sigmoid"]\n'
    )
    code, out, err = run_cli(["check", "--cases", str(path)])
    assert (code, err) == (
        2,
        f"cg: error: {path}: case #1: fuse: the list ['sigmoid', 'sigmoid'] names sigmoid twice\n",
    )


def test_a_case_file_that_is_not_utf8_points_at_the_byte_and_a_bom_is_no_text(tmp_path):
    bad, bom = tmp_path / "bad.toml", tmp_path / "bom.toml"
    bad.write_bytes(b'[[case]]\nexpr = "x"\n# \xff\n')
    bom.write_bytes(
        b'\xef\xbb\xbf[[case]]\nexpr = "x"\nbindings = { x = 1 }\n'
    )  # said "not valid TOML" before
    code, out, err = run_cli(["check", "--cases", str(bad)])
    assert (code, err.splitlines()) == (
        2,
        [
            f"cg: error: the case file {bad} is not valid UTF-8 text",
            "  line 3: # \ufffd",
            "            ^",
        ],
    )
    assert run_cli(["check", "--cases", str(bom)])[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["n*log1p(x)", "--x", "1e-14", "--n", "2", "--method", "complex"],
        ["pow1p(x,n)", "--x", "1e-10", "--n", "1e10", "--method", "complex"],
        ["pow1p(x,n)", "--x", "1e-14", "--n", "3", "--method", "complex"],
        ["bce(z,t)", "--z", "40", "--t", "1", "--method", "complex"],
        ["pow1p(x,n)", "--x", "-0.9999999999", "--n", "-2.5"],
        ["pow1p(x,n)", "--x", "1e-10", "--n", "1e10"],
        ["x**n", "--x", "1.0000000001", "--n", "1e10"],
        ["(1+x)**n", "--fuse", "--x", "1e-14", "--n", "3"],
    ],
)
def test_right_gradients_of_powers_of_1_plus_x_pass(args):
    """The complex step keeps log1p's, pow1p's and bce's digits; the numeric step stays inside
    pow1p's domain and within a large power's bend; the fused gradient that the reference
    confirms passes beside a fine-grained graph that rounded 1+x."""
    code, report, err = check_json(run_cli, *args)
    assert code == 0 and {c["status"] for c in rows(report)} == {"pass"}, report


def test_a_fused_gradient_off_the_reference_still_fails_beside_the_fine_grained_graph():
    from cgcli.check import FAIL, PASS, Row, _fine_grained_lost_digits

    numeric = Row(0, "numeric", "x", 2.0, 2.0, PASS, tolerance=1e-9)
    fused_right = Row(0, "fuse", "x", 2.0, 2.1, FAIL)
    assert _fine_grained_lost_digits(fused_right, numeric).status == PASS
    numeric_off = Row(0, "numeric", "x", 2.1, 2.0, FAIL, tolerance=1e-9)
    fused_wrong = Row(0, "fuse", "x", 2.1, 2.0, FAIL)
    assert _fine_grained_lost_digits(fused_wrong, numeric_off).status == FAIL
    both_near = Row(0, "fuse", "x", 2.0, 2.0 + 1e-10, FAIL)
    assert _fine_grained_lost_digits(both_near, numeric).status == FAIL


def test_fuse_with_nothing_to_fuse_adds_no_rows_comparing_the_graph_with_itself():
    code, report, err = check_json(run_cli, "pow1p(x,n)", "--x", "0.3", "--n", "2.5", "--fuse")
    assert code == 0 and [c["check"] for c in rows(report)] == ["numeric", "numeric"], report
    assert "nothing in the expression matches a gate" in err
