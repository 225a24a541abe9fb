"""cg check never cries wolf, and catches wrong derivatives: a corpus of correct gradients at
large, tiny and near-domain-edge points (they pass or are inconclusive, none fails), and of
deliberately wrong derivatives (each fails), under both numeric methods. The complex step's
table covers every op, and its forwards are checked against mpmath."""

import math
import xml.etree.ElementTree as ET

import mpmath
import pytest
from conftest import run_bin, run_cli

from cgcli import cases as check_cases
from cgcli import check as checks
from cgcli import complex_step, engine, ops, parse
from cgcli.errors import CgError

# correct gradients where a fixed step and gradcheck's tolerance cried wolf, and more
CORRECT = [
    ("x**2", {"x": 1e8}),
    ("x**2", {"x": 1e9}),
    ("x**2", {"x": 1e12}),
    ("x**2", {"x": 1e-300}),
    ("x**2", {"x": 0.0}),
    ("x+1e10", {"x": 1.0}),
    ("(x+1e10)-1e10", {"x": 1.0}),
    ("log(x)", {"x": 1e-5}),
    ("log(x)", {"x": 1e-300}),
    ("log(x)", {"x": 1e300}),
    ("sqrt(x)", {"x": 1e-6}),
    ("sqrt(x)", {"x": 1e-300}),
    ("1/x", {"x": 3e-5}),
    ("1/x", {"x": -1e-150}),
    ("sin(x)", {"x": 1e11}),
    ("sin(x)", {"x": 1e5}),
    ("sin(x)", {"x": 1e7}),
    ("sin(1e5*x)", {"x": 0.3}),
    ("cos(x)", {"x": 0.0}),
    ("exp(x)", {"x": 700.0}),
    ("exp(x)", {"x": -700.0}),
    ("tanh(x)", {"x": 20.0}),
    ("tanh(x-1e6)", {"x": 1e6}),
    ("sigmoid(x)", {"x": 30.0}),
    ("sigmoid(x)", {"x": -700.0}),
    ("softplus(x)", {"x": 1e3}),
    ("log(1-sigmoid(z))", {"z": 30.0}),
    ("atan(x)", {"x": 1e8}),
    ("acosh(x)", {"x": 1 + 1e-10}),
    ("asin(x)", {"x": 1 - 1e-12}),
    ("atanh(x)", {"x": -1 + 1e-9}),
    ("log1p(x)", {"x": -1 + 1e-10}),
    ("erf(x)", {"x": 5.0}),
    ("x**3 - 3*x", {"x": 1.0}),
    ("x*y + sin(x)*cos(y)", {"x": 1e3, "y": 1e-3}),
    ("logaddexp(x, y)", {"x": 700.0, "y": -700.0}),
    ("hypot(x, y)", {"x": 1e150, "y": 1e150}),
    ("x**2 + 1e10*y", {"x": 1.0, "y": 2.0}),
    ("bce(x, t)", {"x": -40.0, "t": 0.25}),
    ("xlogy(x, y)", {"x": 2.0, "y": 1e-200}),
    ("pow(x, y)", {"x": 1e-3, "y": 2.5}),
    ("relu(x)*x + abs(y)", {"x": 2.0, "y": -1e-9}),
]

# the false alarms of gradcheck's fixed step: these pass outright (not merely inconclusive)
MUST_PASS = {
    ("x**2", 1e8),
    ("x**2", 1e9),
    ("x**2", 1e12),
    ("x+1e10", 1.0),
    ("log(x)", 1e-5),
    ("sqrt(x)", 1e-6),
    ("1/x", 3e-5),
    ("sin(x)", 1e11),
    ("sin(1e5*x)", 0.3),
}


def _methods(expr):
    graph = parse(expr)
    analytic = not any(op in complex_step.NOT_ANALYTIC for op in graph.op)
    return ["ridders", "complex"] if analytic else ["ridders"]


@pytest.mark.parametrize("expr, point", CORRECT)
def test_a_correct_gradient_never_fails(expr, point):
    for method in _methods(expr):
        case = check_cases.from_values(expr, point, settings={"method": method})
        result = checks.run_case(case)
        statuses = [row.status for row in result.rows]
        assert set(statuses) <= {"pass", "inconclusive"}, (method, result.rows)
        for row in result.rows:
            if row.status == "inconclusive":
                assert row.note, row  # with its reason
        first = next(iter(point.values()))
        if (expr, first) in MUST_PASS:
            assert statuses == ["pass"], (method, result.rows)


# deliberately wrong derivatives: (expression, point, the variable, a wrong ∂f/∂var by hand)
WRONG = [
    ("sin(x)", {"x": 0.7}, "x", "-cos(x)"),  # sign
    ("sin(2*x)", {"x": 0.7}, "x", "cos(2*x)"),  # missing chain factor
    ("x**3", {"x": 1.3}, "x", "3*x**3"),  # wrong power
    ("x**3", {"x": 1.3}, "x", "2*x**2"),  # wrong coefficient and power
    ("x/y", {"x": 2.0, "y": 3.0}, "x", "1/x"),  # swapped variables
    ("x*y**2", {"x": 2.0, "y": 3.0}, "y", "2*x*x"),  # swapped variables
    ("exp(x)", {"x": 0.3}, "x", "1.0001*exp(x)"),  # coefficient off by 1e-4
    ("x**2", {"x": 1.3}, "x", "2.0002*x"),  # coefficient off by 1e-4
    ("log(x)", {"x": 1e-5}, "x", "1.0002/x"),  # 2e-4, near the domain's edge
    ("x**2", {"x": 1e8}, "x", "2.0002*x"),  # 1e-4, large
    ("1e-7*sin(x)", {"x": 0.5}, "x", "-1e-7*cos(x)"),  # sign, |∂f| ≈ 1e-7
    ("3e-7*x", {"x": 1.0}, "x", "-3e-7"),  # sign, |∂f| = 3e-7
    ("1e-7*x**2", {"x": 1.0}, "x", "1e-7*x"),  # missing factor 2, |∂f| ≈ 1e-7
    ("sigmoid(z)", {"z": 0.5}, "z", "sigmoid(z)*(1+sigmoid(z))"),  # sign inside
    ("tanh(x)", {"x": 0.5}, "x", "1-tanh(x)"),  # wrong power
]


@pytest.mark.parametrize("expr, point, var, wrong", WRONG)
def test_a_wrong_derivative_fails(expr, point, var, wrong):
    from cgcli import evaluate

    value = evaluate(wrong, point).value
    for method in _methods(expr):
        case = check_cases.from_values(expr, point, settings={"method": method})
        row = checks.judge(case, var, value)  # beside the numeric reference
        assert row.status == "fail", (method, row)
    # and beside backprop, written by hand
    case = check_cases.from_values(expr, point, against=[f"{var}={wrong}"])
    hand = [row for row in checks.run_case(case).rows if row.check == "hand-written"]
    assert [row.status for row in hand] == ["fail"]


@pytest.mark.parametrize(
    "op, formulas",
    [
        ("sin", ("-cos(x)",)),  # sign
        ("exp", ("1.0001*out",)),  # coefficient off by 1e-4
        ("pow", ("x**(y-1)", "xlogy(out, x)")),  # the factor y lost
        ("mul", ("x", "y")),  # the inputs swapped
        ("sigmoid", ("out*sigmoid(x)",)),  # a sign inside
    ],
)
def test_a_wrong_local_gradient_fails_the_numeric_check(monkeypatch, op, formulas):
    """Backprop itself made wrong (an op's local gradient): the numeric check catches it."""
    wrong = tuple(engine.Formula(text, parse(text)) for text in formulas)
    monkeypatch.setitem(engine._formulas, (op, False, 0), wrong)
    expr = {"sin": "sin(x)*y", "exp": "exp(x)*y", "pow": "x**3*y", "mul": "x*y**2"}.get(
        op, "sigmoid(x)*y"
    )
    for method in _methods(expr):
        case = check_cases.from_values(expr, {"x": 0.7, "y": 1.3}, settings={"method": method})
        statuses = [row.status for row in checks.run_case(case).rows]
        assert "fail" in statuses, (method, statuses)


def test_the_right_local_gradients_pass_where_the_wrong_ones_failed():
    for expr in ("sin(x)*y", "exp(x)*y", "x**3*y", "x*y**2", "sigmoid(x)*y"):
        case = check_cases.from_values(expr, {"x": 0.7, "y": 1.3})
        assert checks.run_case(case).status == "pass"


# ---------------------------------------------------------------------------
# inconclusive: its exit code, its JUnit element


def test_inconclusive_is_exit_4_with_its_reason(tmp_path):
    junit = tmp_path / "r.xml"
    code, out, err = run_bin(["check", "x**2", "--x", "1e-300", "--junit", str(junit)])
    assert code == 4, (out, err)
    assert "inconclusive" in out and "rounding noise" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("skipped"), suite.get("failures")) == ("1", "1", "0")
    skipped = suite.find("testcase").find("skipped")
    assert skipped is not None and skipped.get("message").startswith("inconclusive: numeric")
    # a failure elsewhere wins: exit 1
    code, out, err = run_cli(["check", "x**2+y", "--x", "1e-300", "--y", "1", "--against", "y=2"])
    assert code == 1


def test_the_issues_false_alarms_now_pass_through_the_installed_cg():
    for expr, x in [("x**2", "1e8"), ("x+1e10", "1"), ("log(x)", "1e-5"), ("sin(x)", "1e11")]:
        code, out, err = run_bin(["check", expr, "--x", x])
        assert (code, err) == (0, ""), (expr, out)
    code, out, err = run_bin(["check", "sin(1e5*x)", "--x", "0.3", "--method", "complex"])
    assert code == 0, out


def test_old_tolerances_still_run():
    # a case file's rtol and atol are slack on top of the errors: the old defaults still run
    case = check_cases.from_values(
        "x**2", {"x": 1.3}, against=["x=2.0002*x"], settings={"rtol": 1e-3, "atol": 1e-5}
    )
    assert checks.run_case(case).status == "pass"  # the user said 1e-3 is close enough
    case = check_cases.from_values("sin(x)", {"x": 0.5}, settings={"eps": 1e-6})
    assert checks.run_case(case).status == "pass"


# ---------------------------------------------------------------------------
# the complex step


def test_every_op_has_a_complex_forward_or_is_refused():
    for op in ops.TABLE:
        assert (op.name in complex_step.COMPLEX) != (op.name in complex_step.NOT_ANALYTIC), op.name
    # atan2 and hypot are analytic away from their cut and tip (on the real line: real-analytic)
    assert set(complex_step.NOT_ANALYTIC) == set(ops.KINK_OPS) - {"atan2", "hypot"}


@pytest.mark.parametrize("op", sorted(complex_step.COMPLEX))
def test_each_complex_forward_is_the_op_and_its_derivative(op):
    """Re f(a + ib) is the op's value, Im f(a + ib)/b its derivative (mpmath's, 30 digits)."""
    import numpy as np

    spec = ops.OPS[op]
    points = {1: [(0.3,), (2.5,), (-0.7,)], 2: [(0.3, 0.8), (2.5, 1.5), (-0.7, 2.0)]}[spec.arity]
    if op in ("asin", "acos", "atanh"):
        points = [(0.3,), (-0.7,), (0.9,)]
    if op in ("log", "log2", "log10", "sqrt", "acosh", "pow", "log1p"):
        points = [(1.3,) + p[1:] for p in points] + [(2.5,) + p[1:] for p in points]
    for point in points:
        for k in range(spec.arity):
            h = 1e-30
            args = [np.array([complex(v, h if i == k else 0.0)]) for i, v in enumerate(point)]
            z = complex_step.COMPLEX[op](*args)[0]
            assert z.real == pytest.approx(spec.scalar(*point), rel=1e-14, abs=1e-300)
            with mpmath.workdps(30):  # not set for the tests that run after this one
                exact = mpmath.diff(lambda t, point=point, k=k: _mp(op, point, k, t), point[k])
            assert z.imag / h == pytest.approx(float(exact), rel=1e-12, abs=1e-300), (op, k)


def _mp(op, point, k, t):
    args = [mpmath.mpf(v) for v in point]
    args[k] = t
    x = args[0]
    y = args[1] if len(args) > 1 else None
    mp = mpmath
    table = {
        "add": lambda: x + y,
        "sub": lambda: x - y,
        "mul": lambda: x * y,
        "div": lambda: x / y,
        "neg": lambda: -x,
        "pow": lambda: x**y,
        "pow1p": lambda: (1 + x) ** y,
        "exp": lambda: mp.exp(x),
        "exp2": lambda: 2**x,
        "expm1": lambda: mp.expm1(x),
        "log": lambda: mp.log(x),
        "log2": lambda: mp.log(x, 2),
        "log10": lambda: mp.log10(x),
        "log1p": lambda: mp.log1p(x),
        "xlogy": lambda: x * mp.log(y),
        "xlog1py": lambda: x * mp.log1p(y),
        "sqrt": lambda: mp.sqrt(x),
        "cbrt": lambda: mp.cbrt(x) if x >= 0 else -mp.cbrt(-x),
        "sin": lambda: mp.sin(x),
        "cos": lambda: mp.cos(x),
        "tan": lambda: mp.tan(x),
        "asin": lambda: mp.asin(x),
        "acos": lambda: mp.acos(x),
        "atan": lambda: mp.atan(x),
        "atan2": lambda: mp.atan2(x, y),
        "sinh": lambda: mp.sinh(x),
        "cosh": lambda: mp.cosh(x),
        "tanh": lambda: mp.tanh(x),
        "asinh": lambda: mp.asinh(x),
        "acosh": lambda: mp.acosh(x),
        "atanh": lambda: mp.atanh(x),
        "erf": lambda: mp.erf(x),
        "erfc": lambda: mp.erfc(x),
        "sigmoid": lambda: 1 / (1 + mp.exp(-x)),
        "softplus": lambda: mp.log(1 + mp.exp(x)),
        "logsigmoid": lambda: -mp.log(1 + mp.exp(-x)),
        "logaddexp": lambda: mp.log(mp.exp(x) + mp.exp(y)),
        "bce": lambda: mp.log(1 + mp.exp(x)) - x * y,
        "hypot": lambda: mp.sqrt(x * x + y * y),
        # the variadic ops at two inputs
        "logsumexp": lambda: mp.log(mp.exp(x) + mp.exp(y)),
        "softmax": lambda: mp.exp(x) / (mp.exp(x) + mp.exp(y)),
        "logsoftmax": lambda: x - mp.log(mp.exp(x) + mp.exp(y)),
    }
    return table[op]()


def test_the_complex_step_refuses_an_op_that_is_not_analytic():
    with pytest.raises(CgError) as e:
        check_cases.from_values("x*relu(x)", {"x": 1.0}, settings={"method": "complex"})
    assert e.value.message.startswith("method complex: relu is not analytic")
    assert e.value.pos == 2  # under relu
    code, out, err = run_cli(["check", "max(x, 1)", "--x", "2", "--method", "complex"])
    assert code == 2 and err.startswith("cg: error: --method complex: max is not analytic")


def test_the_complex_step_is_exact_where_differences_lose_digits():
    case = check_cases.from_values(
        "x**2 + 1e10*y", {"x": 1.0, "y": 2.0}, settings={"method": "complex"}
    )
    rows = checks.run_case(case).rows
    assert [(row.reference, row.status) for row in rows] == [(2.0, "pass"), (1e10, "pass")]
    case = check_cases.from_values("sin(x)", {"x": 1e11}, settings={"method": "complex"})
    (row,) = checks.run_case(case).rows
    assert row.reference == math.cos(1e11)


def test_an_op_without_a_complex_forward_is_refused_not_a_crash(monkeypatch):
    monkeypatch.delitem(complex_step.COMPLEX, "sin")
    with pytest.raises(CgError) as e:
        check_cases.from_values("x*sin(x)", {"x": 1.0}, settings={"method": "complex"})
    assert e.value.message == "method complex: sin has no complex forward; use method ridders"
