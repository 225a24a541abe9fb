"""How cg's commands are shown in their help and completed in a shell: the order of the
commands, uppercase placeholders (FILE, N, FORMAT), the --fuse option declared for the Options
list, and what a shell completes after an option or a command."""

from __future__ import annotations

# `cg --help` lists the commands in this order (click would sort them alphabetically)
COMMAND_ORDER = (
    "grad",
    "eval",
    "check",
    "diff",
    "hessian",
    "graph",
    "functions",
    "fusions",
    "grammar",
    "help",
)

HELP_OPTIONS = ["-h", "--help"]  # click's help option, and cli_args's words for it

# placeholders by click's name of the type (a choice's or a text's is the option's name)
_PLACEHOLDERS = {"path": "FILE", "int": "N", "int range": "N", "float": "NUMBER"}


def ordered(commands) -> list[str]:
    listed = [name for name in COMMAND_ORDER if name in commands]
    return listed + [name for name in commands if name not in listed]


def shape(param) -> None:
    """An option's placeholder in uppercase where none is declared (FILE, N, FORMAT), and a file
    option completed by the shell's own file-name completion."""
    if param.param_type_name != "option" or param.is_flag or getattr(param, "count", False):
        return
    kind = param.type.name
    if param.metavar is None:
        param.metavar = _PLACEHOLDERS.get(kind) or param.name.upper()
    if kind == "int range":  # the help's "[default: 1; at least 1]", not click's "x>=1"
        param.type._describe_range = lambda: range_words(param.type)
    if kind == "path" or param.metavar.startswith("FILE"):
        # no candidates: bash (-o default), zsh (_files) and fish then list file names, which
        # typer's completion of a path would not (it offers the word typed so far)
        param._custom_shell_complete = nothing


# click's shell_complete functions (ctx, param, incomplete)


def nothing(ctx, param, incomplete) -> list:
    return []


def gates(ctx, param, incomplete) -> list:
    """--fuse's gates; after a comma, the next gate of the list."""
    from .fusion import gate_names

    done, _, last = incomplete.rpartition(",")
    prefix, named = (done + "," if done else ""), done.split(",")
    return [prefix + g for g in gate_names() if g.startswith(last) and g not in named]


# typer's autocompletion functions (typer passes ctx and incomplete by name)


def function_names(incomplete) -> list[str]:
    from .ops import FUNCTIONS

    return [name for name in FUNCTIONS if name.startswith(incomplete)]


def command_names(ctx, incomplete) -> list[str]:
    commands = ctx.find_root().command.commands
    return [name for name in ordered(commands) if name.startswith(incomplete)]


def fuse_option():
    """--fuse [GATES], declared for the help and for completion: cli_args reads its words (its
    value may be left out, which click cannot say) and click never sees it."""
    from typer.core import TyperOption

    option = TyperOption(
        param_decls=["--fuse"],
        type=str,
        metavar="[GATES]",
        expose_value=False,
        help=(
            "Replace known subgraphs (1/(1+exp(-z)) and others) by one gate with a "
            "hand-written local gradient: all of them, or the GATES named "
            "(--fuse sigmoid,softplus). `cg fusions` lists them."
        ),
    )
    option._custom_shell_complete = gates
    return option


def range_words(kind) -> str:
    """'at least 1', 'from 1 to 17' (a closed range of whole numbers)."""
    if kind.min is not None and kind.max is not None:
        return f"from {kind.min} to {kind.max}"
    return f"at least {kind.min}" if kind.min is not None else f"at most {kind.max}"


def range_message(param, spelled: str, value: str) -> str | None:
    """'--order must be at least 1, got 0' for a whole number outside its option's range, or
    '--order takes a whole number, got 1.5'; None for another kind of value."""
    kind = param.type.name
    if kind not in ("int", "int range"):
        return None
    try:
        number = int(value)
    except ValueError:
        return f"{spelled} takes a whole number, got {value!r}"
    return f"{spelled} must be {range_words(param.type)}, got {number}"


EXIT_CODES = (
    "Exit codes: 0 ok; 2 bad usage or input; 3 the value or a printed gradient is not finite "
    "(the output is still printed)."
)


def epilog(examples: list[str], exit_codes: str = EXIT_CODES) -> str:
    """A command's help ends with its examples, each on one line however narrow the terminal
    (click keeps a paragraph that starts with \\b as it is), then its exit codes."""
    lines = "\n".join(f"  {example}" for example in examples)
    return f"Examples:\n\n\b\n{lines}\n\n{exit_codes}\n"
