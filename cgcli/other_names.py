"""The names other languages and textbooks give cg's functions (ln, arctan, sgn …), and how cg
writes what has no function of its own (sum, sqr, sec …): the hint for an unknown function."""

from __future__ import annotations

# another name → cg's function of that name
SAME_FUNCTION = {
    "ln": "log",  # cg's log is the natural logarithm
    "lg": "log10",
    "ld": "log2",
    "lb": "log2",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arctg": "atan",
    "arctan2": "atan2",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arsinh": "asinh",
    "arcosh": "acosh",
    "artanh": "atanh",
    "tg": "tan",
    "fabs": "abs",
    "absolute": "abs",
    "power": "pow",
    "sgn": "sign",
    "signum": "sign",
    "logistic": "sigmoid",
    "expit": "sigmoid",
    "maximum": "max",
    "minimum": "min",
    "fmax": "max",
    "fmin": "min",
}

# another name → how cg writes it
WRITTEN_AS = {
    "sum": "x + y",
    "mean": "(x + y)/2",
    "avg": "(x + y)/2",
    "sqr": "x**2",
    "square": "x**2",
    "cube": "x**3",
    "exp10": "10**x",
    "sec": "1/cos(x)",
    "csc": "1/sin(x)",
    "cosec": "1/sin(x)",
    "cot": "1/tan(x)",
    "cotan": "1/tan(x)",
    "ctg": "1/tan(x)",
    "logit": "log(x/(1-x))",
    "silu": "x*sigmoid(x)",
    "swish": "x*sigmoid(x)",
    "clip": "min(max(x, lo), hi)",
    "clamp": "min(max(x, lo), hi)",
}


def hint(name: str) -> str:
    """' (did you mean log? cg's log is the natural logarithm)' for ln, '; write x + y instead'
    for sum, '' for a name not in the tables."""
    same = SAME_FUNCTION.get(name.lower())
    if same is not None:
        note = " cg's log is the natural logarithm" if same == "log" else ""
        return f" (did you mean {same}?{note})"
    written = WRITTEN_AS.get(name.lower())
    return f"; write {written} instead" if written is not None else ""
