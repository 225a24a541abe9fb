"""What a command reads: the expression, its bindings, a points file, and the options that
shape the request, each checked; a mistake is a CgError about the word that made it."""

from __future__ import annotations

from pathlib import Path

from . import api, cli_args, files
from .cli_args import WordError
from .cli_errors import LINE, about
from .cli_output import Format, warn
from .errors import CgError, UnboundVariable, text_of
from .text import did_you_mean


def line_of(ctx) -> cli_args.Line:
    return ctx.meta[LINE]


def parses(word: str) -> bool:
    """Whether a word is an expression (cli_args asks this of a word that starts with '-')."""
    try:
        api.parse(word)
    except CgError:
        return False
    return True


def names_gates(word: str) -> bool:
    """Whether the word after --fuse is its gate list: a list (no expression has a comma outside
    parentheses), a gate, or nearly one (a typo is an error, not an expression)."""
    import re

    from .fusion import gate_names

    if not re.fullmatch(r"[\w\s,]+", word):
        return False
    names = word.split(",")
    return len(names) > 1 or names[0] in gate_names() or bool(did_you_mean(names[0], gate_names()))


def read_source(line: cli_args.Line, file: Path | None, command: str) -> str:
    """The expression: its word, standard input ('-'), or the file -f names."""
    if file is None:
        word = cli_args.expression_word(line, "" if command == "diff" else " [--x VALUE ...]")
        return text_of(files.read_capped("-", "the input"), "the input") if word == "-" else word
    if line.exprs:
        word, at = line.exprs[0]
        message = f"give the expression either as an argument or with -f, not both (got {word!r})"
        raise WordError(message, at)
    try:
        data = files.read_capped(str(file), "the input" if str(file) == "-" else str(file))
    except OSError as e:
        raise CgError(f"cannot read {file}: {e.strerror}", file=str(file)) from None
    return text_of(data, "the input")


def bind(line: cli_args.Line) -> dict:
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
                close = cli_args.option_hint(b.spelled, line.known)
                hint = f"; is {b.spelled} a mistyped option?{close}" if close else ""
            raise e.prefixed(f"{b.spelled}: ", hint) from None
        warn(f"{b.spelled}: {message}" for message in said)
    return env


def fused(graph, fuse: cli_args.Given):
    """The graph with the gates --fuse names (or all) fused; an error names --fuse."""
    with about("--fuse"):
        return api.fuse(graph, None if not fuse.value else api.names(fuse.value))


def wrt_names(wrt: str | None) -> list[str] | None:
    """The names --wrt gives, or None when it is not given (--wrt '' names none: an error)."""
    if wrt is None:
        return None
    if not wrt.strip():
        raise CgError("--wrt: no variable named; give --wrt X,Y, or leave --wrt out for all")
    with about("--wrt"):
        return api.names(wrt)


def direction_of(text: str) -> dict[str, float]:
    """--dir `x=1,y=0` → {'x': 1.0, 'y': 0.0}; each component a constant expression."""
    direction: dict[str, float] = {}
    for item, at in api.split_outside_parentheses(text, ","):  # x=atan2(1,2),y=1
        spelled, eq, value = item.partition("=")
        name = spelled.strip()
        if not eq or not name:
            raise CgError(f"give NAME=VALUE,… such as x=1,y=0; got {text!r}")
        if name in direction:
            raise CgError(f"{name} is given twice")
        start = at + len(spelled) + 1
        direction[name] = api.constant_within(text, value, start, what=f"--dir {name}: ")
    return direction


def directional(loaded, line: cli_args.Line):
    """The directional derivative along --dir's vector. A vector that is not NAME=VALUE,… or that
    the expression cannot move along (the zero vector, a variable it does not have) is said with
    the caret under --dir's value."""
    given = line.given["direction"][-1]
    try:
        return api.directional(loaded.graph, loaded.env, direction_of(given.value))
    except CgError as e:
        if e.source is not None or e.variable is not None:
            raise
        raise WordError(f"--dir: {e.message}", given.value_at, given.offset) from None


def constant_option(text: str | None, option: str) -> float | None:
    """An option's number, written as a constant expression (2**-20); an underflow is said."""
    if text is None:
        return None
    said: list[str] = []
    value = api.constant_within(text, text, 0, said, f"{option}: ")
    warn(f"{option}: {message}" for message in said)
    return value


def first_with_many_points(env: dict) -> str | None:
    """The first variable bound to many points, or None."""
    return next((name for name, v in env.items() if hasattr(v, "__len__")), None)


class Loaded:
    """What every command that evaluates reads: the graph (fused if asked), its size before
    fusing (None without --fuse), and the bindings, from the command line and a points file."""

    def __init__(self, graph, fused_from: int | None, env: dict):
        self.graph, self.fused_from, self.env = graph, fused_from, env


OUTPUTS = ("output", "junit")  # the options that name a file cg writes, and those it reads
INPUTS = ("file", "points", "cases")


def no_output_over_input(line: cli_args.Line) -> None:
    """An output file that is one of the command's inputs (-o data.csv --points data.csv, or
    through another name: a link, ./data.csv) is an error before anything is read or written:
    writing it would replace what the user gave, as a compiler refuses `-o` its source."""
    for output in (g for param in OUTPUTS for g in line.given.get(param, [])):
        if not output.value or output.value == "-":
            continue
        for given in (g for param in INPUTS for g in line.given.get(param, [])):
            if given.value and given.value != "-" and files.same_file(output.value, given.value):
                raise WordError(
                    f"{output.option} {output.value} would overwrite the input"
                    f" {given.option} {given.value}: write to another file",
                    output.value_at,
                    output.offset,
                )


def load(ctx, file, points_file=None) -> Loaded:
    line = line_of(ctx)
    no_output_over_input(line)
    if points_file == "-" and ([w for w, _ in line.exprs] == ["-"] or str(file) == "-"):
        raise WordError(
            "standard input can hold the expression or the points, not both: put one of them in a file",
            line.given["points"][-1].value_at,
            line.given["points"][-1].offset,
        )
    graph = api.parse(read_source(line, file, ctx.info_name))
    cli_args.no_mistyped_options(line, graph.variables)
    fine_nodes, fuse = len(graph.nodes), line.optional.get("--fuse")
    if fuse is not None:
        graph = fused(graph, fuse)
    env = bind(line)
    if points_file is not None:
        from .pointsio import read_points

        for name, column in read_points(points_file).items():
            if name in env:
                raise CgError(
                    f"{name} is bound twice (--{name} and a column of {points_file})",
                    file=str(points_file),
                )
            env[name] = column
    option_named(line, graph, env)
    return Loaded(graph, fine_nodes if fuse is not None else None, env)


def option_named(line: cli_args.Line, graph, env: dict) -> None:
    """A variable left unbound because `--NAME VALUE` set the command's option NAME is said
    before the option's value is used (--wrt 3 is no variable to differentiate by): the error
    for the unbound variable gives the binding that works, -v NAME=VALUE."""
    typed = {given.option for given in cli_args.every_given(line)}
    for name, node in graph.variables.items():
        if name not in env and f"--{name}" in typed:
            raise UnboundVariable(name, graph.source, graph.nodes[node].start)


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


def conflict(request: Request, line: cli_args.Line) -> None:
    for when, message, option in CONFLICTS:
        if when(request):
            at = line.where(option)
            text = message.format(**vars(request))
            raise CgError(text) if at is None else WordError(text, at)


def functions_named(line: cli_args.Line, names: list[str]) -> list | None:
    """The rows of the ops table `cg functions NAME…` shows: each name a function's (log) or an
    operator's (+, the name the table's first column shows); None for every row."""
    from .ops import TABLE
    from .other_names import hint

    if not names:
        return None
    rows = []
    for k, name in enumerate(names):
        found = [op for op in TABLE if name in (op.name if op.function else "", op.infix)]
        if not found:
            known = [op.name for op in TABLE if op.function] + [op.infix for op in TABLE]
            said = hint(name) or did_you_mean(name, known)
            raise WordError(
                f"no function or operator {name!r}{said}", len(line.typed) - len(names) + k
            )
        rows += [op for op in found if op not in rows]
    return rows


def case_files(line: cli_args.Line, patterns: list[str]) -> list[str]:
    """The case files --cases names, in the order given: a name as it is, or when no file has
    that name and it holds * ? or [, the files the pattern matches (sorted; ** spans folders),
    for a pattern the shell did not expand because it was quoted. A pattern that matches
    nothing, and a file named twice, are errors."""
    import glob

    files: list[str] = []
    for k, pattern in enumerate(patterns):
        at = line.given["cases"][k].value_at
        if Path(pattern).exists() or not glob.has_magic(pattern):
            found = [pattern]
        else:
            found = sorted(glob.glob(pattern, recursive=True))
            if not found:
                raise WordError(f"--cases {pattern}: no file matches", at)
        for name in found:
            if any(Path(name).resolve() == Path(f).resolve() for f in files):
                raise WordError(f"--cases {name}: the file is named twice", at)
            files.append(name)
    return files


def no_case_settings(line: cli_args.Line, file, cases) -> None:
    """--cases takes everything from the file: an expression, a binding or an expectation on the
    command line as well is an error, the caret under the first of them."""
    given = [
        (what, at)
        for what, at in [
            ("the expression", line.exprs[0][1] if line.exprs else line.where("file")),
            ("the bindings", line.bindings[0].value_at if line.bindings else None),
            ("--expect", line.where("expect")),
            ("--expect-grad", line.where("expect_grad")),
            ("--against", line.where("against")),
        ]
        if at is not None
    ]
    if given:
        said = [what for what, _ in given]
        listed = " and ".join([", ".join(said[:-1]), said[-1]] if len(said) > 1 else said)
        raise WordError(
            f"--cases runs the cases of {cases}, each with its own expression, bindings and "
            f"expectations: leave {listed} off the command line",
            given[0][1],
        )


def differentiate_by(graph, wrt: str | None) -> tuple[list[str], list[str]]:
    """The variables cg diff differentiates by (--wrt's, or every one), and the warnings: a name
    the expression does not use has the derivative 0."""
    names = wrt_names(wrt) or list(graph.variables)
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


def no_values(line: cli_args.Line, wrt: str | None) -> None:
    """cg diff prints a formula: a value given (--x 1, or cg eval's -v x=1, which reaches cg diff
    as expression words) is a mistake, said with where values go (cg eval), unless the word is a
    mistyped option. cg eval reads one derivative: when cg diff would print several, the advice
    names one with --wrt."""
    exprs = line.exprs
    for k, (word, at) in enumerate(exprs):
        if k and (word == "-v" or word.startswith("-v") and "=" in word):
            given = " ".join(w for w, _ in exprs[k : k + 2]) if word == "-v" else word
            name = given.removeprefix("-v").strip().partition("=")[0]
            raise WordError(
                f"cg diff prints a formula and takes no values ({given}): "
                f'bind them in cg eval "$(cg diff …{_one_derivative(line, wrt, name)})" {given}',
                at,
            )
    for b in line.bindings:
        if cli_args.option_hint(b.spelled, line.known):
            raise WordError(cli_args.unknown_option(b.spelled, line), b.at)
        raise WordError(
            f"cg diff prints a formula and takes no values ({b.spelled} {b.value}): bind them in "
            f'cg eval "$(cg diff …{_one_derivative(line, wrt, b.name)})" --{b.name} {b.value}',
            b.value_at,
        )


def _one_derivative(line: cli_args.Line, wrt: str | None, name: str) -> str:
    """' --wrt x' when cg diff would print a derivative for each of several variables (which
    cg eval cannot read as one program), else ''. The variables of an expression read from a
    file or standard input are not known yet: there the advice names one all the same."""
    if wrt is not None and wrt.strip():
        names = [n.strip() for n in wrt.split(",")]
    elif line.exprs and line.exprs[0][0] != "-" and "file" not in line.given:
        try:
            names = list(api.parse(line.exprs[0][0]).variables)
        except CgError:
            names = []  # the parser says what is wrong once the values are left out
    else:
        return f" --wrt {name}"
    if len(names) < 2:
        return ""
    return f" --wrt {name if name in names else names[0]}"
