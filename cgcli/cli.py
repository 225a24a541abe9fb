"""The `cg` command line: each command turns its words into a request, calls cgcli.api and
renders the result. Reading the words is cli_args's; no math here."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from . import __version__, api, cli_args, cli_help, files
from .cli_args import WordError
from .cli_command import Command, Commands, WithBindings
from .cli_errors import TYPED, about, shown, wrt_named
from .cli_input import (
    Request,
    bind,
    case_files,
    conflict,
    constant_option,
    differentiate_by,
    directional,
    first_with_many_points,
    functions_named,
    fused,
    line_of,
    load,
    no_case_settings,
    no_output_over_input,
    no_values,
    read_source,
    wrt_names,
)
from .cli_output import (
    NO_DIR_COLUMN,
    Format,
    Shown,
    exit_if_not_finite,
    printable,
    view,
    warn,
    write_points,
)
from .errors import (
    CgError,
)
from .text import U_ESCAPE, Terminal, ascii_only, did_you_mean

EPILOG = cli_help.epilog(
    [
        'cg grad "(x+y)**2" --x 1 --y 2',
        'cg check "sigmoid(z)" --z 0.5 --random 100',
        'cg diff "x*x*x" --wrt x',
        "cg help grad",
    ],
    "Exit codes: 0 ok; 1 a check failed (cg check); 2 bad usage or input; 3 the value or a "
    "printed gradient is not finite (the output is still printed); 4 cg check could not tell "
    "(inconclusive); 5 the output could not be written.",
)


app = typer.Typer(
    cls=Commands,
    help="cg: gradients of expressions by backprop over a computation graph.",
    epilog=EPILOG,
    add_completion=False,  # cg's own --show-completion and --install-completion (cli_completion)
    context_settings={"help_option_names": cli_help.HELP_OPTIONS},
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:  # not while a shell completes the next word
        typer.echo(f"cg {__version__}")
        raise typer.Exit()


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    color: Color = typer.Option(
        Color.auto,
        "--color",
        help="Colours: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces them), always, never.",
    ),
    ascii: bool = typer.Option(
        False,
        "--ascii",
        help="ASCII only: +-- guides, df/dx (the default on a terminal that is not UTF-8).",
    ),
) -> None:
    """cg: gradients of expressions by backprop over a computation graph."""
    Terminal.color, Terminal.ascii = color.value, ascii
    for stream in (sys.stdout, sys.stderr):
        # a character the terminal cannot show is written as \u03b8, never a crash, never dropped
        if ascii_only(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="ascii", errors=U_ESCAPE)


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
    Format.human,
    "--format",
    help="Output: human (a tree; tree, table, text: the same), json, plain, or csv (one row per point).",
)


def shown_format(human: str) -> Shown:
    """--format of a command without csv, whose human view is `human` (table, a program)."""
    return typer.Option(
        Shown.human,
        "--format",
        help=f"Output: human ({human}; tree, table, text: the same), json, or plain.",
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


def _run(
    ctx, file, format, nodes, points, output, with_grad, wrt=None, explain=False, direction=None
):
    """cg grad, and cg eval (the forward pass only)."""
    with shown(ctx):
        line, loaded = line_of(ctx), load(ctx, file, points)
        many = bool(first_with_many_points(loaded.env))
        conflict(Request(format, "format" in line.given, output, nodes, explain, many), line)
        printable(loaded, format, output, nodes)
        # per-node values are needed only to show the nodes; without them a batch runs in chunks
        keep = output is None and (view(format) == "human" or (format is Format.json and nodes))
        if with_grad:
            with wrt_named():
                result = api.grad(loaded.graph, loaded.env, wrt_names(wrt), explain, keep)
        else:
            result = api.evaluate(loaded.graph, loaded.env, keep_nodes=keep)
        along = None if direction is None else directional(loaded, line)
        warn(result.warnings)
        from . import result_output

        if output is not None or format is Format.csv:
            if along is not None:
                warn([NO_DIR_COLUMN.format("a file of points" if output else "--format csv")])
            write_points(result, loaded.env, output)
        else:
            result_output.write_result(
                result, view(format), sys.stdout, nodes, loaded.fused_from, explain, along
            )
    exit_if_not_finite([result.value, *result.gradients.values(), *(along[1:] if along else ())])


@app.command(
    cls=WithBindings,
    epilog=cli_help.epilog(
        [
            'cg grad "(x+y)**2" --x 1 --y 2',
            'cg grad "sigmoid(w*x+b)" --w 2 --x -1 --b -3 --wrt w',
            'echo "a = x*y; a + sin(a)" | cg grad - --x 1 --y 2',
            'cg grad "x*y" --x 1 --y 2 --format json',
            'cg grad "x**2 + y" --points points.csv -o out.csv',
            'cg grad "1/(1+exp(-z))" --z 0.5 --fuse --explain',
        ]
    ),
)
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
    """Value and gradient of EXPR by backprop. Bind variables with --NAME VALUE."""
    _run(ctx, file, format, nodes, points, output, True, wrt, explain, direction)


@app.command(
    "eval",
    cls=WithBindings,
    epilog=cli_help.epilog(
        [
            'cg eval "hypot(3, 4)"',
            'cg eval "sin(x)**2 + cos(x)**2" --x 1.5 --format plain',
            'cg eval "x*y" --points points.csv --format csv',
        ]
    ),
)
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
    """Value of EXPR (the forward pass only). Bind variables with --NAME VALUE."""
    _run(ctx, file, format, nodes, points, output, with_grad=False)


@app.command(cls=Command)
def functions(
    ctx: typer.Context,
    names: list[str] | None = typer.Argument(
        None,
        metavar="[NAME]...",
        help="Only these functions or operators (log, +, atan2 …).",
        autocompletion=cli_help.function_names,
        show_default=False,
    ),
) -> None:
    """Every function and operator, with its local gradients and the convention at kinks."""
    from . import listings

    with shown(ctx):
        ops = functions_named(line_of(ctx), names or [])
    listings.write_functions(sys.stdout, ops)


@app.command(
    cls=WithBindings,
    epilog=cli_help.epilog(
        [
            'cg check "(x+y)**2" --x 1 --y 2 --expect-grad x=6',
            'cg check "sigmoid(z)" --z 0.5 --random 100',
            'cg check "x**3" --x 2 --against x="3*x**2"',
            'cg check "sin(x)" --x 1e11 --method complex',
            "cg check --cases checks.toml --junit report.xml",
        ],
        "Exit codes: 0 every check passed; 1 a check failed; 2 bad usage or input; 3 a value "
        "or gradient is not finite (the report is still printed); 4 no check failed, but some "
        "are inconclusive (rounding noise swamps the reference); 5 the output could not be written.",
    ),
)
def check(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    method: str | None = typer.Option(
        None,
        "--method",
        metavar="METHOD",
        help="The numeric reference: ridders (extrapolated central differences) or complex "
        "(the complex step; analytic ops only).  [default: ridders]",
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
    cases: list[str] = typer.Option(
        [],
        "--cases",
        metavar="FILE.toml",
        help="Run the named cases of a TOML file (repeatable; a quoted 'checks/*.toml' is expanded).",
        show_default=False,
    ),
    junit: Path | None = typer.Option(
        None,
        "--junit",
        metavar="FILE.xml",
        help="Also write a JUnit XML report.",
        show_default=False,
    ),
    format: Shown = shown_format("a table"),
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

    with shown(ctx):
        line = line_of(ctx)
        no_output_over_input(line)
        eps, rtol, atol = (
            constant_option(text, option)
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
        case_paths = case_files(line, cases)
        if case_paths:
            no_case_settings(line, file, ", ".join(case_paths))
            specs = [
                spec
                for path in case_paths
                for spec in check_cases.load(path, settings, option_name)
            ]
        else:
            if not line.exprs and file is None:
                raise WordError(
                    "no expression given: cg check EXPR [--x VALUE ...], or cg check --cases FILE.toml",
                    len(line.typed),
                )
            graph = api.parse(read_source(line, file, ctx.info_name))
            cli_args.no_mistyped_options(line, graph.variables)
            specs = [
                check_cases.from_values(
                    graph, bind(line), expect, expect_grad, against, settings, option_name
                )
            ]
        report = checks.run(specs, ", ".join(case_paths) or None)
        if junit is not None:
            try:
                files.write_bytes(junit, reports.junit_xml(report))
            except OSError as e:
                raise CgError(f"cannot write {junit}: {e.strerror}", file=str(junit)) from None
    warn(report.warnings)
    if view(format) == "json":
        reports.write_json(report, sys.stdout)
    elif view(format) == "plain":
        reports.write_plain(report, sys.stdout)
    else:
        reports.write_table(report, sys.stdout)
    raise typer.Exit(report.exit_code)


@app.command(
    cls=WithBindings,
    epilog=cli_help.epilog(
        [
            'cg diff "x*x*x" --wrt x',
            'cg eval "$(cg diff "sin(x)*y" --wrt x)" --x 1 --y 2',
            'cg diff "x**2*y**3" --wrt x | cg diff - --wrt y',
            'cg diff "1/(1+exp(-z))" --wrt z --order 2 --fuse',
        ],
        "Exit codes: 0 ok; 2 bad usage or input.",
    ),
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
    format: Shown = shown_format("a program in cg's language"),
) -> None:
    """The derivative of EXPR as an expression in cg's language, tidied: paste it into `cg eval`.

    With several variables each derivative is a block headed by a comment line, such as
    '# df/dx', and blocks are separated by a blank line; every block is a program on its own.
    """
    from . import derivative_output, derive

    with shown(ctx):
        line = line_of(ctx)
        no_values(line, wrt)
        graph = api.parse(read_source(line, file, ctx.info_name))
        fuse = line.optional.get("--fuse")
        if fuse is not None:
            graph = fused(graph, fuse)
        names, warnings = differentiate_by(graph, wrt)
        derivatives = {name: derive.derivative(graph, name, order).source for name in names}
    warn(warnings)
    if view(format) == "json":
        derivative_output.write_derivatives_json(
            graph.source, order, derivatives, warnings, sys.stdout
        )
    elif view(format) == "plain":
        derivative_output.write_derivatives_plain(derivatives, sys.stdout)
    else:
        derivative_output.write_derivatives(order, derivatives, sys.stdout)


@app.command(
    cls=WithBindings,
    epilog=cli_help.epilog(
        [
            'cg hessian "x*y" --x 1 --y 2',
            'cg hessian "x**2 + 2*x*y" --x 0 --y 0 --format json',
            'cg hessian "log(exp(a)+exp(b))" --a 0 --b 1 --fuse',
        ]
    ),
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
    format: Shown = shown_format("a table"),
) -> None:
    """The matrix of second derivatives of EXPR at the point: backprop over each ∂f/∂x.

    Bind variables with --NAME VALUE (lists and ranges give one matrix per point).
    """
    from . import hessian_output

    with shown(ctx):
        format = view(format)
        loaded = load(ctx, file, points)
        if format == "plain" and first_with_many_points(loaded.env):
            raise CgError("--format plain is for one point: use --format json (or human) for many")
        with wrt_named():
            result = api.hessian(loaded.graph, loaded.env, wrt_names(wrt))
    warn(result.warnings)
    if format == "json":
        hessian_output.write_hessian_json(result, loaded.graph.source, sys.stdout)
    elif format == "plain":
        hessian_output.write_hessian_plain(result, sys.stdout)
    else:
        hessian_output.write_hessian_table(result, sys.stdout)
    printed = [v for row in result.matrix for v in row]
    if format != "plain":  # the table and json show f and the gradient too
        printed += [result.value, *result.gradients.values()]
    exit_if_not_finite(printed)


@app.command(cls=Command)
def fusions() -> None:
    """Every gate --fuse knows: the shapes it replaces, its forward and its hand-written local gradient."""
    from . import listings

    listings.write_fusions(sys.stdout)


@app.command(cls=Command)
def grammar() -> None:
    """Print the grammar of cg's language (the Lark file the parser is generated from)."""
    from importlib.resources import files

    packaged = files("cgcli") / "grammar" / "cg.lark"  # in an installed wheel
    source_tree = Path(__file__).resolve().parent.parent / "grammar" / "cg.lark"  # in a checkout
    path = packaged if packaged.is_file() else source_tree
    sys.stdout.write(path.read_text(encoding="utf-8"))


@app.command(
    cls=WithBindings,
    epilog=cli_help.epilog(
        [
            'cg graph "(x+y)*z" --x 1 --y 2 --z 3 -o graph.svg',
            'cg graph "w*x+b" --w 2 --x -1 --b -3 -o neuron.html',
            'cg graph "x*x + x" --x 3 -o graph.dot --digits 17',
        ]
    ),
)
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
    """Draw the computation graph: values on the wires above, gradients below."""
    from . import picture

    with shown(ctx):
        with about("-o", str(output)):
            kind = picture.format_for(output)
        loaded = load(ctx, file)
        many = first_with_many_points(loaded.env)
        if many:
            raise CgError(
                f"cg graph draws the numbers of one point: give {many} one value (cg grad shows many points)",
                variable=many,
            )
        result = api.grad(loaded.graph, loaded.env, trace=True)
        try:
            data = picture.draw(result, kind, digits)
        except picture.GraphvizError as e:  # missing, too slow, or the graph too big for it
            e.file = str(output)  # the caret under -o's file
            raise
        try:
            files.write_bytes(output, data)
        except OSError as e:
            raise CgError(f"cannot write {output}: {e.strerror}", file=str(output)) from None
    warn(result.warnings)
    exit_if_not_finite([result.value, *result.gradients.values()])  # drawn, as cg grad shows them


@app.command("help", cls=Command)
def help_(
    ctx: typer.Context,
    command: str | None = typer.Argument(
        None,
        metavar="[COMMAND]",
        help="The command whose help to show.",
        autocompletion=cli_help.command_names,
        show_default=False,
    ),
) -> None:
    """Show the help of cg, or of COMMAND (as cg COMMAND -h does)."""
    group = ctx.parent.command
    with shown(ctx):
        if command is not None and command not in group.commands:
            hint = did_you_mean(command, group.commands)
            raise WordError(f"no such command {command!r}{hint}", len(ctx.meta[TYPED]) - 1)
    if command is None:
        typer.echo(group.get_help(ctx.parent))
    else:
        shown_command = group.commands[command]
        typer.echo(shown_command.get_help(typer.Context(shown_command, ctx.parent, command)))


def run() -> None:
    """Entry point of the `cg` script."""
    import signal

    if hasattr(signal, "SIGPIPE"):
        # the reader went away (cg … | head -1): stop there, as other Unix tools do (the shell sees
        # 141), not a "cannot write" error or click's exit code 1 (cg's "a check failed")
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    from .cli_errors import closed_stdout_said, memory_said_at_top
    from .cli_output import writing_guarded

    if sys.stdout is None:  # cg … >&-: Python leaves no stream to write the results to
        closed_stdout_said()

    def command_line() -> None:
        try:
            app(prog_name="cg")
        except MemoryError:  # raised outside a command's `shown`, while its output is rendered
            memory_said_at_top()

    sys.exit(writing_guarded(command_line))
