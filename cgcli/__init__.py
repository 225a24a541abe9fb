"""cg: a command-line gradient calculator. See README.md."""

__version__ = "0.1.0"

from .api import CgError, Result, constant, evaluate, fuse, grad, parse  # noqa: E402

__all__ = ["CgError", "Result", "constant", "evaluate", "fuse", "grad", "parse", "__version__"]
