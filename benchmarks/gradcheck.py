"""cg check beside torch.autograd.gradcheck on the same cases, in the same run.

Two sets (the corpus of tests/test_check_accuracy.py):
* correct gradients at large, tiny and near-domain-edge points: a tool cries wolf when it
  fails one. cg checks its backprop against its numeric reference (Ridders' method, and the
  complex step where every op is analytic); gradcheck checks PyTorch's own autograd against
  its central difference (its defaults: eps 1e-6, atol 1e-5, rtol 1e-3).
* deliberately wrong derivatives: each tool is handed the same wrong ∂f/∂x (for PyTorch as the
  backward of a torch.autograd.Function) and must fail it. cg: check.judge, the numeric check
  of a derivative computed elsewhere.

Prints each case's verdicts and a summary line (docs/check.md quotes it).

    pip install torch   # CPU wheel; a benchmark-only extra
    python benchmarks/gradcheck.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # noqa: E402
from test_check_accuracy import CORRECT, WRONG, _methods  # noqa: E402

from cgcli import cases as check_cases  # noqa: E402
from cgcli import check as checks  # noqa: E402
from cgcli import evaluate  # noqa: E402

F = torch.nn.functional
SP = lambda v: F.softplus(v, threshold=1e308)  # noqa: E731  (no cut-over to x at 20)

# each case's f in torch, over its variables in the order cg finds them
TORCH = {
    "x**2": lambda x: x**2,
    "x+1e10": lambda x: x + 1e10,
    "(x+1e10)-1e10": lambda x: (x + 1e10) - 1e10,
    "log(x)": torch.log,
    "sqrt(x)": torch.sqrt,
    "1/x": lambda x: 1 / x,
    "sin(x)": torch.sin,
    "sin(1e5*x)": lambda x: torch.sin(1e5 * x),
    "cos(x)": torch.cos,
    "exp(x)": torch.exp,
    "tanh(x)": torch.tanh,
    "tanh(x-1e6)": lambda x: torch.tanh(x - 1e6),
    "sigmoid(x)": torch.sigmoid,
    "softplus(x)": SP,
    "log(1-sigmoid(z))": lambda z: torch.log(1 - torch.sigmoid(z)),
    "atan(x)": torch.atan,
    "acosh(x)": torch.acosh,
    "asin(x)": torch.asin,
    "atanh(x)": torch.atanh,
    "log1p(x)": torch.log1p,
    "erf(x)": torch.erf,
    "x**3 - 3*x": lambda x: x**3 - 3 * x,
    "x*y + sin(x)*cos(y)": lambda x, y: x * y + torch.sin(x) * torch.cos(y),
    "logaddexp(x, y)": torch.logaddexp,
    "hypot(x, y)": torch.hypot,
    "x**2 + 1e10*y": lambda x, y: x**2 + 1e10 * y,
    "bce(x, t)": lambda x, t: SP(x) - x * t,
    "xlogy(x, y)": torch.xlogy,
    "pow(x, y)": torch.pow,
    "relu(x)*x + abs(y)": lambda x, y: torch.relu(x) * x + torch.abs(y),
    "sin(2*x)": lambda x: torch.sin(2 * x),
    "x**3": lambda x: x**3,
    "x/y": lambda x, y: x / y,
    "x*y**2": lambda x, y: x * y**2,
    "1e-7*sin(x)": lambda x: 1e-7 * torch.sin(x),
    "3e-7*x": lambda x: 3e-7 * x,
    "1e-7*x**2": lambda x: 1e-7 * x**2,
    "sigmoid(z)": torch.sigmoid,
}


def gradcheck(f, inputs) -> str:
    try:
        ok = torch.autograd.gradcheck(f, inputs, raise_exception=False)
    except Exception as e:  # a nan in the numerical Jacobian, …
        return f"error ({type(e).__name__})"
    return "pass" if ok else "fail"


def _inputs(point):
    return tuple(torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point.values())


def wrong_function(f, var_index: int, derivative):
    """f in torch whose backward gives `derivative` (a float) for input var_index."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            ctx.save_for_backward(*args)
            with torch.enable_grad():
                detached = [a.detach().requires_grad_() for a in args]
                out = f(*detached)
                right = torch.autograd.grad(out, detached)
            ctx.right = right
            return out.detach()

        @staticmethod
        def backward(ctx, upstream):
            grads = [upstream * g for g in ctx.right]
            grads[var_index] = upstream * derivative
            return tuple(grads)

    return Wrong.apply


def main() -> None:
    cried = {"cg ridders": 0, "cg complex": 0, "gradcheck": 0}
    inconclusive = {"cg ridders": 0, "cg complex": 0}
    complex_cases = 0
    print(f"{'correct gradient':26} {'point':28} {'cg ridders':13} {'cg complex':13} gradcheck")
    for expr, point in CORRECT:
        verdicts = {}
        for method in ("ridders", "complex"):
            if method in _methods(expr):
                case = check_cases.from_values(expr, point, settings={"method": method})
                verdicts[f"cg {method}"] = checks.run_case(case).status
            else:
                verdicts[f"cg {method}"] = "-"
        complex_cases += verdicts["cg complex"] != "-"
        verdicts["gradcheck"] = gradcheck(TORCH[expr], _inputs(point))
        for tool, v in verdicts.items():
            if v not in ("pass", "inconclusive", "kink", "-"):
                cried[tool] += 1
            if v == "inconclusive":
                inconclusive[tool] += 1
        at = ", ".join(f"{k}={v:g}" for k, v in point.items())
        print(
            f"{expr:26} {at:28} {verdicts['cg ridders']:13} {verdicts['cg complex']:13} "
            f"{verdicts['gradcheck']}"
        )
    missed = {"cg ridders": 0, "cg complex": 0, "gradcheck": 0}
    print()
    print(f"{'wrong derivative':26} {'by hand':22} {'cg ridders':13} {'cg complex':13} gradcheck")
    for expr, point, var, wrong in WRONG:
        value = evaluate(wrong, point).value
        verdicts = {}
        for method in ("ridders", "complex"):
            case = check_cases.from_values(expr, point, settings={"method": method})
            verdicts[f"cg {method}"] = checks.judge(case, var, value).status
        index = list(point).index(var)
        verdicts["gradcheck"] = gradcheck(wrong_function(TORCH[expr], index, value), _inputs(point))
        for tool, v in verdicts.items():
            if v != "fail":
                missed[tool] += 1
        print(
            f"{expr:26} {var + '=' + wrong:22} {verdicts['cg ridders']:13} "
            f"{verdicts['cg complex']:13} {verdicts['gradcheck']}"
        )
    print()
    n, m = len(CORRECT), len(WRONG)
    print(
        f"summary: {n} correct gradients, {m} wrong derivatives; false alarms: "
        f"cg {cried['cg ridders']} (ridders, {inconclusive['cg ridders']} inconclusive), "
        f"cg {cried['cg complex']} (complex, {complex_cases} analytic cases, "
        f"{inconclusive['cg complex']} inconclusive), gradcheck {cried['gradcheck']}; "
        f"wrong derivatives missed: cg {missed['cg ridders']} (ridders), "
        f"{missed['cg complex']} (complex), gradcheck {missed['gradcheck']}"
    )
    assert math.isfinite(n)


if __name__ == "__main__":
    main()
