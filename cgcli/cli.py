"""The `cg` command line: each command turns its words into a request, calls cgcli.api and
renders the result. Reading the words is cli_args's; no math here."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import typer
from typer.core import TyperCommand, TyperGroup

from . import __version__, api, cli_args
from .cli_args import WordError
from .errors import (
    EXIT_BAD_INPUT,
    EXIT_NOT_FINITE,
    CgError,
    NotAVariable,
    UnboundVariable,
    UnknownGate,
    text_of,
)
from .text import U_ESCAPE, ascii_only, did_you_mean

EPILOG = """\
Examples:

  cg grad "(x+y)**2" --x 1 --y 2

  cg grad "1/(1+exp(-(w0*x0+w1*x1+w2)))" --w0 2 --x0 -1 --w1 -3 --x1 -2 --w2 -3 --format json

  echo "a = x*y; a + sin(a)" | cg grad - --x 1 --y pi/4 --format plain

Exit codes: 0 ok; 1 a check failed (cg check); 2 bad usage or input; 3 the value or a
printed gradient is not finite (the output is still printed).
"""

_TYPED = "cg: the words as typed"  # ctx.meta keys (the meta dict is shared by nested contexts)
_LINE = "cg: the command's words, read"


class _Commands(TyperGroup):
    """cg's commands: the words before the command's name are checked by cg (cli_args)."""

    def parse_args(self, ctx, args):
        ctx.meta[_TYPED] = list(args)
        with _shown(ctx):
            cli_args.read_group(self, args)
        return super().parse_args(ctx, args)


class _Command(TyperCommand):
    """A command whose words cg reads itself (cli_args.read) before click reads the options."""

    bindings = False  # whether it takes an expression and --NAME VALUE bindings

    def parse_args(self, ctx, args):
        typed = ctx.meta.get(_TYPED, list(args))
        with _shown(ctx):
            line = cli_args.read(
                self,
                ctx.info_name,
                list(args),
                typed,
                ctx.parent.command.commands,
                is_expression=_parses,
                optional={"--fuse": _names_gates},
                bindings=self.bindings,
            )
            ctx.meta[_LINE] = line
            try:
                return super().parse_args(ctx, line.for_click)
            except typer.BadParameter as e:  # a value click could not convert (--format xml)
                given = line.given.get(e.param.name) if e.param is not None else None
                message = e.format_message().rstrip(".")
                at = (given[-1].value_at, given[-1].offset) if given else (None, 0)
                raise WordError(message[:1].lower() + message[1:], *at) from None


class WithBindings(_Command):
    """A command that reads an expression and binds its variables (`cg grad`, `cg check` …)."""

    bindings = True


app = typer.Typer(
    cls=_Commands,
    help="cg: gradients of expressions by backprop over a computation graph.",
    epilog=EPILOG,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Format(str, Enum):
    tree = "tree"
    json = "json"
    plain = "plain"
    csv = "csv"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """cg: gradients of expressions by backprop over a computation graph."""
    for stream in (sys.stdout, sys.stderr):
        # a character the terminal cannot show is written as \u03b8, never a crash, never dropped
        if ascii_only(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=U_ESCAPE)


# ---------------------------------------------------------------------------
# errors: the library's terms (a variable, a file) turned into the words that gave them


@contextmanager
def _shown(ctx):
    """A CgError raised inside: said on stderr, with the command line and a caret when it is
    about a word of it, and exit code 2."""
    try:
        yield
    except CgError as e:
        shown = _on_command_line(e, ctx.meta.get(_LINE), ctx.meta.get(_TYPED, []))
        _write_line(shown.render(ascii_only(sys.stderr)), sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except MemoryError:
        message = (
            "not enough memory: use fewer points, or -o FILE.npz (which keeps no per-node arrays)"
        )
        _write_line(CgError(message).render(), sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _on_command_line(error: CgError, line: cli_args.Line | None, typed: list[str]) -> CgError:
    """The error as the command line says it: with advice in its words, and the typed words with
    a caret under the one that gave the variable, the file or the option it is about."""
    message = error.message
    if isinstance(error, UnboundVariable):  # the advice before the hint that ends the message
        message = message.removesuffix(error.hint) + f": pass --{error.variable} VALUE{error.hint}"
    elif isinstance(error, UnknownGate):
        message += "; `cg fusions` lists them"
    if isinstance(error, WordError):
        return cli_args.on_command_line(message, typed, error.at, error.offset)
    if error.source is not None or line is None:
        return error.saying(message)
    at = None
    if error.variable is not None:
        at = cli_args.value_word(line, error.variable)
        if at is None and line.given.get("points"):  # a column of the points file
            at = line.given["points"][-1].value_at
    elif error.file is not None:
        at = cli_args.file_word(line, error.file)
    if at is None:  # '--wrt z: …': under the option the message names first
        at = cli_args.where_named(message, line)
    return cli_args.on_command_line(message, typed, at)


@contextmanager
def _about(option: str, value: str | None = None):
    """A context in which a CgError is about `option` (and `value`): its message says so first,
    and the caret goes under the option."""
    try:
        yield
    except CgError as e:
        raise e.prefixed(f"{option} {value}: " if value is not None else f"{option}: ") from None


# ---------------------------------------------------------------------------
# reading the input


def _line(ctx) -> cli_args.Line:
    return ctx.meta[_LINE]


def _parses(word: str) -> bool:
    """Whether a word is an expression (cli_args asks this of a word that starts with '-')."""
    try:
        api.parse(word)
    except CgError:
        return False
    return True


def _names_gates(word: str) -> bool:
    """Whether the word after --fuse is its gate list: a list (no expression has a comma outside
    parentheses), a gate, or nearly one (a typo is an error, not an expression)."""
    import re

    from .fusion import gate_names

    if not re.fullmatch(r"[\w\s,]+", word):
        return False
    names = word.split(",")
    return len(names) > 1 or names[0] in gate_names() or bool(did_you_mean(names[0], gate_names()))


def _read_source(line: cli_args.Line, file: Path | None, command: str) -> str:
    """The expression: its word, standard input ('-'), or the file -f names."""
    if file is None:
        word = cli_args.expression_word(line, "" if command == "diff" else " [--x VALUE ...]")
        return text_of(sys.stdin.buffer.read(), "the input") if word == "-" else word
    if line.exprs:
        word, at = line.exprs[0]
        message = f"give the expression either as an argument or with -f, not both (got {word!r})"
        raise WordError(message, at)
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else Path(file).read_bytes()
    except OSError as e:
        raise CgError(f"cannot read {file}: {e.strerror}", file=str(file)) from None
    return text_of(data, "the input")


def _bind(line: cli_args.Line) -> dict:
    """The bindings' values: numbers, lists or ranges (api.points); what parsing them said is
    warned with the binding's name."""
    env: dict = {}
    for b in line.bindings:
        if b.name in env:
            raise WordError(f"{b.name} is bound twice ({b.spelled} {b.value})", b.at)
        said: list[str] = []
        try:
            env[b.name] = api.points(b.value, said)
        except CgError as e:
            if e.source is not None and not e.source.strip():  # --x '': shown on the command line
                raise WordError(f"{b.spelled}: no value", b.value_at) from None
            hint = ""
            if b.spelled.startswith("--") and " " not in b.spelled:  # -v x=…: no option's spelling
                close = did_you_mean(b.spelled, line.known)
                hint = f"; is {b.spelled} a mistyped option?{close}" if close else ""
            raise e.prefixed(f"{b.spelled}: ", hint) from None
        _warn(f"{b.spelled}: {message}" for message in said)
    return env


def _fused(graph, fuse: cli_args.Given):
    """The graph with the gates --fuse names (or all) fused; an error names --fuse."""
    with _about("--fuse"):
        return api.fuse(graph, None if not fuse.value else api.names(fuse.value))


def _wrt(wrt: str | None) -> list[str] | None:
    """The names --wrt gives, or None."""
    if not wrt:
        return None
    with _about("--wrt"):
        return api.names(wrt)


@contextmanager
def _wrt_named():
    """A name of --wrt that is not a variable: '--wrt z: the expression has no variable z'."""
    try:
        yield
    except NotAVariable as e:
        raise e.prefixed(f"--wrt {e.variable}: ") from None


def _direction(text: str) -> dict[str, float]:
    """--dir `x=1,y=0` → {'x': 1.0, 'y': 0.0}; each component a constant expression."""
    direction: dict[str, float] = {}
    for item, at in api.split_outside_parentheses(text, ","):  # x=atan2(1,2),y=1
        spelled, eq, value = item.partition("=")
        name = spelled.strip()
        if not eq or not name:
            raise CgError(f"--dir takes NAME=VALUE,…, got {text!r}")
        if name in direction:
            raise CgError(f"--dir: {name} is given twice")
        start = at + len(spelled) + 1
        direction[name] = api.constant_within(text, value, start, what=f"--dir {name}: ")
    return direction


def _constant_option(text: str | None, option: str) -> float | None:
    """An option's number, written as a constant expression (2**-20); an underflow is said."""
    if text is None:
        return None
    said: list[str] = []
    value = api.constant_within(text, text, 0, said, f"{option}: ")
    _warn(f"{option}: {message}" for message in said)
    return value


class Loaded:
    """What every command that evaluates reads: the graph (fused if asked), its size before
    fusing (None without --fuse), and the bindings, from the command line and a points file."""

    def __init__(self, graph, fused_from: int | None, env: dict):
        self.graph, self.fused_from, self.env = graph, fused_from, env


def _load(ctx, file, points_file=None) -> Loaded:
    line = _line(ctx)
    if points_file == "-" and ([w for w, _ in line.exprs] == ["-"] or str(file) == "-"):
        raise CgError(
            "standard input can hold the expression or the points, not both: put one of them in a file"
        )
    graph = api.parse(_read_source(line, file, ctx.info_name))
    cli_args.no_mistyped_options(line, graph.variables)
    fine_nodes, fuse = len(graph.nodes), line.optional.get("--fuse")
    if fuse is not None:
        graph = _fused(graph, fuse)
    env = _bind(line)
    if points_file is not None:
        from .pointsio import read_points

        for name, column in read_points(points_file).items():
            if name in env:
                raise CgError(
                    f"{name} is bound twice (--{name} and a column of {points_file})",
                    file=str(points_file),
                )
            env[name] = column
    return Loaded(graph, fine_nodes if fuse is not None else None, env)


# ---------------------------------------------------------------------------
# writing


def _write_line(text: str, stream=None) -> None:
    """A line to stdout (or `stream`). Not typer.echo: on an ASCII-only stream click writes UTF-8
    bytes anyway; Python's stream writes what it cannot encode as a \\u escape (main)."""
    stream = stream or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _warn(messages) -> None:
    for message in messages:
        _write_line(f"cg: warning: {message}", sys.stderr)


def _first_with_many_points(env: dict) -> str | None:
    """The first variable bound to many points, or None."""
    return next((name for name, v in env.items() if hasattr(v, "__len__")), None)


def _exit_if_not_finite(numbers) -> None:
    """Exit code 3 when a reported number is not finite (after the output is written)."""
    if not all(_all_finite(v) for v in numbers):
        raise typer.Exit(EXIT_NOT_FINITE)


def _all_finite(v) -> bool:
    if getattr(v, "ndim", 0):
        import numpy as np

        return bool(np.isfinite(v).all())
    return v - v == 0


# ---------------------------------------------------------------------------
# commands

# EXPR and -v NAME=VALUE are declared for click's help; cli_args reads their words (Line.exprs,
# Line.bindings), with the bindings --NAME VALUE that no declaration could list
ExprArg = typer.Argument(
    None,
    metavar="EXPR",
    help="The expression; '-' reads it from standard input.",
    show_default=False,
)
VarOpt = typer.Option(
    [], "--var", "-v", metavar="NAME=VALUE", help="Bind a variable (works for any name)."
)
FileOpt = typer.Option(
    None,
    "--file",
    "-f",
    help="Read the expression from a file (- reads standard input).",
    show_default=False,
)
FormatOpt = typer.Option(
    Format.tree, "--format", help="Output: tree, json, plain, or csv (one row per point)."
)
PointsOpt = typer.Option(
    None,
    "--points",
    metavar="FILE",
    help="Many points: a .csv with a header row naming the variables ('-': stdin) or a .npz.",
    show_default=False,
)
OutputOpt = typer.Option(
    None,
    "--output",
    "-o",
    metavar="FILE",
    help="Write the points and results to a .csv or .npz file.",
    show_default=False,
)


class Request:
    """What `cg grad` or `cg eval` is asked to do, for the checks of options that do not go
    together (CONFLICTS). A plain class: a dataclass costs a millisecond at every start of cg."""

    def __init__(self, format, format_typed: bool, output, nodes: bool, explain: bool, many: bool):
        self.format, self.output, self.nodes, self.explain = format, output, nodes, explain
        self.format_typed = format_typed  # --format given on the command line, not the default
        self.many = many  # a variable is bound to many points


# (when, what is wrong, the option the caret goes under), checked in this order
CONFLICTS = [
    (
        lambda r: r.output is not None and not r.output.lower().endswith((".csv", ".npz")),
        "-o {output}: write a .csv or a .npz file",
        "output",
    ),
    (
        lambda r: not r.nodes and (r.format is not Format.json or r.output is not None),
        "--no-nodes leaves the node list out of --format json; there is none to leave out here",
        "nodes",
    ),
    (
        lambda r: r.output is not None and r.format is not Format.csv and r.format_typed,
        "-o {output} writes the results to the file and prints nothing: "
        "--format {format.value} would have nothing to print",
        "output",
    ),
    (
        lambda r: r.format is Format.plain and r.many,
        "--format plain is for one point: use --format csv (or json) for many",
        "format",
    ),
    (
        lambda r: r.explain and (r.format in (Format.plain, Format.csv) or r.output is not None),
        "--explain shows steps: use it with --format tree (the default) or json",
        "explain",
    ),
    (
        lambda r: r.explain and r.many,
        "--explain shows the steps at one point: give each variable one value",
        "explain",
    ),
]


def _conflict(request: Request, line: cli_args.Line) -> None:
    for when, message, option in CONFLICTS:
        if when(request):
            at = line.where(option)
            text = message.format(**vars(request))
            raise CgError(text) if at is None else WordError(text, at)


def _run(
    ctx, file, format, nodes, points, output, with_grad, wrt=None, explain=False, direction=None
):
    """cg grad, and cg eval (the forward pass only)."""
    with _shown(ctx):
        line, loaded = _line(ctx), _load(ctx, file, points)
        many = bool(_first_with_many_points(loaded.env))
        _conflict(Request(format, "format" in line.given, output, nodes, explain, many), line)
        # per-node values are needed only to show the nodes; without them a batch runs in chunks
        keep = output is None and (format is Format.tree or (format is Format.json and nodes))
        if with_grad:
            with _wrt_named():
                result = api.grad(loaded.graph, loaded.env, _wrt(wrt), explain, keep)
        else:
            result = api.evaluate(loaded.graph, loaded.env, keep_nodes=keep)
        along = None
        if direction is not None:
            along = api.directional(loaded.graph, loaded.env, _direction(direction))
        _warn(result.warnings)
        from . import render

        if output is not None or format is Format.csv:
            if along is not None:
                _warn([_NO_DIR_COLUMN])
            _write_points(result, loaded.env, output)
        else:
            render.write_result(
                result, format.value, sys.stdout, nodes, loaded.fused_from, explain, along
            )
        if along is not None and format in (Format.tree, Format.plain):
            render.write_directional(along, sys.stdout)
    _exit_if_not_finite([result.value, *result.gradients.values(), *(along[1:] if along else ())])


_NO_DIR_COLUMN = (
    "--dir: a file of points has no column for the directional derivative; "
    "use --format json or tree to see it"
)


def _write_points(result, env: dict, output: str | None) -> None:
    """The points and results as csv on stdout, or to the .csv or .npz file `output`."""
    from . import pointsio

    cols = pointsio.columns(_as_batch(result), list(result.graph.variables), env)
    try:
        if output is None:
            pointsio.write_csv(cols, sys.stdout)
        elif output.lower().endswith(".npz"):
            pointsio.write_npz(cols, output)
        else:
            with open(output, "w", encoding="utf-8") as f:
                pointsio.write_csv(cols, f)
    except OSError as e:
        raise CgError(f"cannot write {output}: {e.strerror or e}", file=str(output)) from None


def _as_batch(result):
    """A single-point result seen as a batch of one, for csv and npz output."""
    if result.points is None:
        import numpy as np

        result.points = 1
        result.values[result.graph.output] = np.atleast_1d(result.value)
        result.gradients = {k: np.atleast_1d(v) for k, v in result.gradients.items()}
    return result


@app.command(cls=WithBindings, epilog=EPILOG)
def grad(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    format: Format = FormatOpt,
    wrt: str | None = typer.Option(
        None, "--wrt", metavar="X,Y", help="Print only these gradients."
    ),
    nodes: bool = typer.Option(True, "--nodes/--no-nodes", help="JSON: include the node list."),
    explain: bool = typer.Option(
        False, "--explain", help="Show the forward pass and backprop step by step."
    ),
    points: str | None = PointsOpt,
    output: str | None = OutputOpt,
    direction: str | None = typer.Option(
        None,
        "--dir",
        metavar="X=1,Y=0",
        help="Also the directional derivative along this vector (scaled to unit length), by forward mode.",
        show_default=False,
    ),
) -> None:
    """Value and gradient of EXPR by backprop. Bind variables with --NAME VALUE.

    --fuse [GATES] replaces known subgraphs (1/(1+exp(-z)) and others) by one gate with a
    hand-written local gradient: all of them, or only those named (--fuse sigmoid,softplus).
    `cg fusions` lists the gates.
    """
    _run(ctx, file, format, nodes, points, output, True, wrt, explain, direction)


@app.command("eval", cls=WithBindings, epilog=EPILOG)
def eval_(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    format: Format = FormatOpt,
    nodes: bool = typer.Option(True, "--nodes/--no-nodes", help="JSON: include the node list."),
    points: str | None = PointsOpt,
    output: str | None = OutputOpt,
) -> None:
    """Value of EXPR (the forward pass only). --fuse [GATES] as for grad."""
    _run(ctx, file, format, nodes, points, output, with_grad=False)


@app.command(cls=_Command)
def functions() -> None:
    """Every function and operator, with its local gradients and the convention at kinks."""
    from . import render

    render.write_functions(sys.stdout)


@app.command(
    cls=WithBindings,
    epilog="""\
Examples:

  cg check "(x+y)**2" --x 1 --y 2 --expect 9 --expect-grad x=6

  cg check "sigmoid(z)" --z 0.5 --against z="sigmoid(z)*(1-sigmoid(z))"

  cg check "1/(1+exp(-(w*x+b)))" --random 100 --box -5:5 --seed 1 --fuse

  cg check --cases checks.toml --junit report.xml

  cg check "sin(x)" --x 1e11 --method complex

Exit codes: 0 every check passed; 1 a check failed; 2 bad usage or input;
3 a value or gradient is not finite (the report is still printed);
4 no check failed, but some are inconclusive (rounding noise swamps the reference).
""",
)
def check(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    method: str | None = typer.Option(
        None,
        "--method",
        metavar="ridders|complex",
        help="The numeric reference: Ridders' extrapolated central differences, or the complex "
        "step (analytic ops only).  [default: ridders]",
        show_default=False,
    ),
    eps: str | None = typer.Option(
        None,
        "--eps",
        metavar="H",
        help="The first (largest) step of the differences.  [default: from the expression]",
        show_default=False,
    ),
    rtol: str | None = typer.Option(
        None,
        "--rtol",
        metavar="R",
        help="Relative tolerance: fail when |cg-ref| > the errors + rtol*|ref| + atol; "
        "inconclusive when the errors exceed rtol*|ref| + atol.  [default: 1e-6]",
        show_default=False,
    ),
    atol: str | None = typer.Option(
        None, "--atol", metavar="A", help="Absolute tolerance.  [default: 0]", show_default=False
    ),
    expect: str | None = typer.Option(
        None, "--expect", metavar="VALUE", help="Assert the value of EXPR.", show_default=False
    ),
    expect_grad: list[str] = typer.Option(
        [], "--expect-grad", metavar="NAME=VALUE", help="Assert a gradient (repeatable)."
    ),
    against: list[str] = typer.Option(
        [],
        "--against",
        metavar="NAME=EXPR",
        help="Compare ∂f/∂NAME with a derivative written by hand (repeatable).",
    ),
    random: int | None = typer.Option(
        None, "--random", metavar="N", help="Also check at N random points.", show_default=False
    ),
    box: list[str] = typer.Option(
        [],
        "--box",
        metavar="LO:HI|NAME=LO:HI",
        help="Where random points lie (repeatable).  [default: -3:3]",
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the random points.  [default: 0]", show_default=False
    ),
    cases: Path | None = typer.Option(
        None,
        "--cases",
        metavar="FILE.toml",
        help="Run the named cases of a TOML file.",
        show_default=False,
    ),
    junit: Path | None = typer.Option(
        None,
        "--junit",
        metavar="FILE.xml",
        help="Also write a JUnit XML report.",
        show_default=False,
    ),
    format: str = typer.Option("table", "--format", help="Output: table or json."),
) -> None:
    """Check gradients: backprop beside central finite differences, hand-written derivatives, expected numbers.

    --fuse [GATES] runs the checks on the fused graph and compares it with the fine-grained one.
    Each reference carries its error bound (extrapolation and rounding noise): a check fails when
    cg is outside it, and is inconclusive when the bound is too wide to tell.
    """
    from . import cases as check_cases
    from . import check as checks
    from . import report as reports

    def option_name(key: str) -> str:  # what the command line calls a setting: eps is --eps
        return "--" + key.replace("_", "-")

    with _shown(ctx):
        line = _line(ctx)
        if format not in ("table", "json"):
            raise CgError(f"--format {format}: cg check writes table or json")
        eps, rtol, atol = (
            _constant_option(text, option)
            for text, option in ((eps, "--eps"), (rtol, "--rtol"), (atol, "--atol"))
        )
        fuse = line.optional.get("--fuse")
        settings = dict(
            method=method,
            eps=eps,
            rtol=rtol,
            atol=atol,
            random=random,
            seed=seed,
            box=box,
            fuse=None if fuse is None else fuse.value or "all",
        )
        if cases is not None:
            _no_case_settings(line, file, cases)
            specs = check_cases.load(cases, settings, option_name)
        else:
            if not line.exprs and file is None:
                raise WordError(
                    "no expression given: cg check EXPR [--x VALUE ...], or cg check --cases FILE.toml",
                    len(line.typed),
                )
            graph = api.parse(_read_source(line, file, ctx.info_name))
            cli_args.no_mistyped_options(line, graph.variables)
            specs = [
                check_cases.from_values(
                    graph, _bind(line), expect, expect_grad, against, settings, option_name
                )
            ]
        report = checks.run(specs, cases)
        if junit is not None:
            try:
                junit.write_bytes(reports.junit_xml(report))
            except OSError as e:
                raise CgError(f"cannot write {junit}: {e.strerror}", file=str(junit)) from None
    _warn(report.warnings)
    if format == "json":
        reports.write_json(report, sys.stdout)
    else:
        reports.write_table(report, sys.stdout)
    raise typer.Exit(report.exit_code)


def _no_case_settings(line: cli_args.Line, file, cases) -> None:
    """--cases takes everything from the file: an expression, a binding or an expectation on the
    command line as well is an error, the caret under the first of them."""
    given = [
        (what, at)
        for what, at in [
            ("expression", line.exprs[0][1] if line.exprs else line.where("file")),
            ("bindings", line.bindings[0].value_at if line.bindings else None),
            ("--expect", line.where("expect")),
            ("--expect-grad", line.where("expect_grad")),
            ("--against", line.where("against")),
        ]
        if at is not None
    ]
    if given:
        raise WordError(
            f"--cases runs the cases of {cases}: give no {', '.join(w for w, _ in given)} "
            "(they belong in a [[case]])",
            given[0][1],
        )


@app.command(
    cls=WithBindings,
    epilog="""\
Examples:

  cg diff "x*x*x" --wrt x

  cg eval "$(cg diff "sin(x)*y" --wrt x)" --x 1 --y 2

  cg diff "x**2*y**3" --wrt x | cg diff - --wrt y

  cg diff "1/(1+exp(-z))" --wrt z --order 2 --fuse
""",
)
def diff(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    file: Path | None = FileOpt,
    wrt: str | None = typer.Option(
        None,
        "--wrt",
        metavar="X,Y",
        help="The variables, one derivative each.  [default: every variable]",
        show_default=False,
    ),
    order: int = typer.Option(
        1, "--order", min=1, help="Differentiate this many times with respect to the same variable."
    ),
    format: str = typer.Option("text", "--format", help="Output: text (a cg program) or json."),
) -> None:
    """The derivative of EXPR as an expression in cg's language, tidied: paste it into `cg eval`.

    With several variables each derivative is a block headed by a comment line, such as
    '# df/dx', and blocks are separated by a blank line; every block is a program on its own.
    --fuse [GATES] as for grad.
    """
    from . import derive, render

    with _shown(ctx):
        line = _line(ctx)
        if format not in ("text", "json"):
            raise CgError(f"--format {format}: cg diff writes text or json")
        _no_values(line)
        graph = api.parse(_read_source(line, file, ctx.info_name))
        fuse = line.optional.get("--fuse")
        if fuse is not None:
            graph = _fused(graph, fuse)
        names, warnings = _differentiate_by(graph, wrt)
        derivatives = {name: derive.derivative(graph, name, order).source for name in names}
    _warn(warnings)
    if format == "json":
        render.write_derivatives_json(graph.source, order, derivatives, warnings, sys.stdout)
    else:
        render.write_derivatives(order, derivatives, sys.stdout)


def _differentiate_by(graph, wrt: str | None) -> tuple[list[str], list[str]]:
    """The variables cg diff differentiates by (--wrt's, or every one), and the warnings: a name
    the expression does not use has the derivative 0."""
    names = _wrt(wrt) or list(graph.variables)
    if not names:
        message = "the expression has no variables: there is nothing to differentiate"
        raise CgError(message, graph.source, 0)
    warnings = list(graph.warnings)
    for name in names:
        if not cli_args.NAME.match(name):
            raise CgError(f"--wrt {name}: not a variable name")
        if name not in graph.variables:
            warnings.append(
                f"--wrt {name}: the expression does not use {name}, so its derivative is 0"
            )
    return list(dict.fromkeys(names)), warnings


def _no_values(line: cli_args.Line) -> None:
    """cg diff prints a formula: a value given (--x 1, or cg eval's -v x=1, which reaches cg diff
    as expression words) is a mistake, said with where values go (cg eval), unless the word is a
    mistyped option."""
    exprs = line.exprs
    for k, (word, at) in enumerate(exprs):
        if k and (word == "-v" or word.startswith("-v") and "=" in word):
            given = " ".join(w for w, _ in exprs[k : k + 2]) if word == "-v" else word
            raise WordError(
                f"cg diff prints a formula and takes no values ({given}): "
                f'bind them in cg eval "$(cg diff …)" {given}',
                at,
            )
    for b in line.bindings:
        if did_you_mean(b.spelled, line.known):
            raise WordError(cli_args.unknown_option(b.spelled, line), b.at)
        raise WordError(
            f"cg diff prints a formula and takes no values ({b.spelled} {b.value}): "
            f'bind them in cg eval "$(cg diff …)" --{b.name} {b.value}',
            b.value_at,
        )


@app.command(
    cls=WithBindings,
    epilog="""\
Examples:

  cg hessian "x*y" --x 1 --y 2

  cg hessian "3*x**2 + 2*x*y - y**2" --x 0 --y 0 --format json

  cg hessian "log(exp(a)+exp(b))" --a 0 --b 1 --fuse --format plain
""",
)
def hessian(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    wrt: str | None = typer.Option(
        None,
        "--wrt",
        metavar="X,Y",
        help="The rows and columns, in this order.  [default: every variable]",
        show_default=False,
    ),
    points: str | None = PointsOpt,
    format: str = typer.Option("table", "--format", help="Output: table, json, or plain."),
) -> None:
    """The matrix of second derivatives of EXPR at the point: backprop over each ∂f/∂x.

    Bind variables with --NAME VALUE (lists and ranges give one matrix per point).
    --fuse [GATES] as for grad.
    """
    from . import render

    with _shown(ctx):
        if format not in ("table", "json", "plain"):
            raise CgError(f"--format {format}: cg hessian writes table, json or plain")
        loaded = _load(ctx, file, points)
        if format == "plain" and _first_with_many_points(loaded.env):
            raise CgError("--format plain is for one point: use --format json (or table) for many")
        with _wrt_named():
            result = api.hessian(loaded.graph, loaded.env, _wrt(wrt))
    _warn(result.warnings)
    if format == "json":
        render.write_hessian_json(result, loaded.graph.source, sys.stdout)
    elif format == "plain":
        render.write_hessian_plain(result, sys.stdout)
    else:
        render.write_hessian_table(result, sys.stdout)
    printed = [v for row in result.matrix for v in row]
    if format != "plain":  # the table and json show f and the gradient too
        printed += [result.value, *result.gradients.values()]
    _exit_if_not_finite(printed)


@app.command(cls=_Command)
def fusions() -> None:
    """Every gate --fuse knows: the shapes it replaces, its forward and its hand-written local gradient."""
    from . import render

    render.write_fusions(sys.stdout)


@app.command(cls=_Command)
def grammar() -> None:
    """Print the grammar of cg's language (the Lark file the parser is generated from)."""
    from importlib.resources import files

    packaged = files("cgcli") / "grammar" / "cg.lark"  # in an installed wheel
    source_tree = Path(__file__).resolve().parent.parent / "grammar" / "cg.lark"  # in a checkout
    path = packaged if packaged.is_file() else source_tree
    sys.stdout.write(path.read_text(encoding="utf-8"))


@app.command(cls=WithBindings, epilog=EPILOG)
def graph(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="The picture: .svg, .png, .pdf (need Graphviz), .dot, .mmd, or .html (an interactive circuit).",
    ),
    digits: int = typer.Option(
        4, "--digits", min=1, max=17, help="Significant digits on the wires (17: exact)."
    ),
) -> None:
    """Draw the computation graph: values on the wires above, gradients below. --fuse [GATES] as for grad."""
    from . import picture

    with _shown(ctx):
        with _about("-o", str(output)):
            kind = picture.format_for(output)
        loaded = _load(ctx, file)
        many = _first_with_many_points(loaded.env)
        if many:
            raise CgError(
                f"cg graph draws the numbers of one point: give {many} one value (cg grad shows many points)",
                variable=many,
            )
        result = api.grad(loaded.graph, loaded.env, trace=True)
        data = picture.draw(result, kind, digits)
        try:
            output.write_bytes(data)
        except OSError as e:
            raise CgError(f"cannot write {output}: {e.strerror}", file=str(output)) from None
    _warn(result.warnings)
    _exit_if_not_finite([result.value, *result.gradients.values()])  # drawn, as cg grad shows them


def run() -> None:
    """Entry point of the `cg` script."""
    import signal

    if hasattr(signal, "SIGPIPE"):
        # the reader went away (cg … | head -1): stop there, as other Unix tools do (the shell sees
        # 141), not a "cannot write" error or click's exit code 1 (cg's "a check failed")
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app(prog_name="cg")
