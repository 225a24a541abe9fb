"""cg: a command-line gradient calculator. See README.md."""

__version__ = "0.1.0"

from .api import (  # noqa: E402
    CgError,
    Result,
    constant,
    directional,
    evaluate,
    fuse,
    grad,
    hessian,
    parse,
)

__all__ = [
    "CgError",
    "Result",
    "constant",
    "directional",
    "evaluate",
    "fuse",
    "grad",
    "hessian",
    "parse",
    "__version__",
]
