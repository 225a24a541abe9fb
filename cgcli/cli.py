"""The `cg` command line. It reads input and options, calls cgcli.api, prints; no math here."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path

import typer
from typer.core import TyperGroup

try:  # typer 0.2x's own copy of click
    from typer._click.exceptions import BadOptionUsage, NoArgsIsHelpError, UsageError
    from typer._click.globals import get_current_context
except ImportError:  # older typer: click itself (NoArgsIsHelpError since click 8.2)
    from click import exceptions as _click_exceptions
    from click import get_current_context
    from click.exceptions import BadOptionUsage, UsageError

    NoArgsIsHelpError = getattr(_click_exceptions, "NoArgsIsHelpError", ())

from . import __version__, api
from .errors import EXIT_BAD_INPUT, EXIT_NOT_FINITE, U_ESCAPE, CgError, text_of
from .syntax import NAME

EPILOG = """\
Examples:

  cg grad "(x+y)**2" --x 1 --y 2

  cg grad "1/(1+exp(-(w0*x0+w1*x1+w2)))" --w0 2 --x0 -1 --w1 -3 --x1 -2 --w2 -3 --format json

  echo "a = x*y; a + sin(a)" | cg grad - --x 1 --y pi/4 --format plain

Exit codes: 0 ok; 1 a check failed (cg check); 2 bad usage or input; 3 the value or a
printed gradient is not finite (the output is still printed).
"""

# Bindings such as --x 1 are not options typer knows: they arrive as extra arguments.
BINDINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


class _Commands(TyperGroup):
    """cg's commands, with the words click would misread made safe before it reads them.

    click reads a word that starts with '-' as short options: the value -log(2) as -l and
    -o g(2), the expression -x**3*cos(y) (what cg diff prints) as -x, -o … Bindings
    `--name VALUE` are joined into `--name=VALUE`; an expression that starts with '-' is
    handed over under a stand-in that _words() puts back.
    """

    def parse_args(self, ctx, args):
        ctx.meta[_TYPED] = list(args)
        return super().parse_args(
            ctx, _join_bindings(self, args, ctx.meta.setdefault(_STANDING_IN, {}))
        )

    # click's own usage errors (an unknown command, --format xml, --random abc) in cg's form: one line,
    # the command line with a caret under the word, exit 2

    def make_context(self, info_name, args, parent=None, **extra):
        typed = list(args)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as e:
            raise _usage_error(e, typed) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UsageError as e:
            raise _usage_error(e, ctx.meta.get(_TYPED, [])) from None


def _usage_error(e: Exception, typed: list[str]) -> Exception:
    """click's UsageError as a CgError (cg: error: …, the words with a caret), or itself for 'no
    arguments: show the help'."""
    if isinstance(e, NoArgsIsHelpError):
        return e
    message = e.format_message().rstrip(".")
    return _fail(_on_command_line(message[:1].lower() + message[1:], typed, _culprit(e, typed)))


def _on_command_line(message: str, typed: list[str], at: tuple[int, int] | None) -> CgError:
    """An error about the command line: the words as typed after `cg`, the caret `at` (which
    word, how far into it; word len(typed): just after the end), or none."""
    import shlex

    shown, starts = "cg", []
    for word in typed:
        starts.append(len(shown) + 1)
        shown += " " + shlex.quote(word)
    if at is None:
        return CgError(message)
    word, offset = at
    if word == len(typed):
        return CgError(message, shown, len(shown))
    quoted = (
        shown[starts[word]] == "'" and typed[word][:1] != "'" and typed[word] != ""
    )  # '' : under its first quote
    return CgError(message, shown, starts[word] + offset + quoted)


class WordError(CgError):
    """A CgError about one word of the command line (an unknown option, a name bound twice):
    _fail shows the command line with a caret under that word (_last_word finds it), or after
    the end for the word "" (something is missing)."""

    def __init__(self, message: str, word: str):
        super().__init__(message, word=word)


def _culprit(e: Exception, typed: list[str]) -> tuple[int, int] | None:
    """Where a usage error is: (which word, how far into it), or None. Word len(typed): a value
    missing at the end."""
    option = getattr(e, "option_name", None)
    param = getattr(e, "param", None)
    if param is not None and getattr(param, "opts", None):
        for i, word in enumerate(typed):
            if word in param.opts:
                return (i + 1, 0) if i + 1 < len(typed) else (i, 0)  # the value after the option
            for o in param.opts:
                if word.startswith(f"{o}="):
                    return i, len(o) + 1  # --format=xml
        if "Missing" in e.format_message():  # cg graph x without -o FILE
            return len(typed), 0
    if option:
        i = _last_word(typed, option)  # the last: an option given twice is wrong the second time
        if i is not None:
            missing = "requires an argument" in e.format_message() and i + 1 == len(typed)
            return (len(typed), 0) if missing else (i, 0)
    message = e.format_message()
    if message.startswith("No such command"):
        return next(((i, 0) for i, word in enumerate(typed) if not word.startswith("-")), None)
    extra = re.search(r"unexpected extra argument\S* \(([^)\s]+)", message)  # cg functions extra
    if extra:
        i = _last_word(typed, extra.group(1))
        return None if i is None else (i, 0)
    return None


def _last_word(typed: list[str], word: str) -> int | None:
    """The last of the typed words that is `word`, `word=…` (--x=1) or `…=word` (--var=x)."""
    for i in range(len(typed) - 1, -1, -1):
        if typed[i] == word or typed[i].startswith(word + "=") or typed[i].endswith("=" + word):
            return i
    return None


def _place(error: CgError, typed: list[str]) -> int | None:
    """Which typed word an error without a text of its own is about: the word it names ("" for
    after the end), where the variable it names was bound, or the option its message starts with
    (--wrt z: …; of a repeated option, the one with that value: --box 3:1: …)."""
    if error.word == "":
        return len(typed)
    if error.word is not None:
        at = _last_word(typed, error.word)
        return at if at is not None else _path_word(typed, error.word)
    if error.binding:
        return _binding_word(typed, error.binding)
    option = re.match(r"--?[^\W\d][\w-]*", error.message)
    if not option:
        return None
    at = _last_word(typed, option.group())
    value = re.match(r" (\S+?): ", error.message[option.end() :])  # '--box 3:1: …' → 3:1
    return at if value is None else _option_with_value(typed, option.group(), value.group(1), at)


def _path_word(typed: list[str], path: str) -> int | None:
    """The typed word that gives the file `path` as Path() shows it (./a.cg is a.cg), also glued
    to an option (-o/tmp/a.csv, --output=a.csv)."""
    for i in range(len(typed) - 1, -1, -1):
        w = typed[i]
        for given in (
            w,
            w.partition("=")[2] if w[:2] == "--" else "",
            w[2:] if w[:1] == "-" and w[:2] != "--" else "",
        ):
            if given and str(Path(given)) == path:
                return i
    return None


def _option_with_value(
    typed: list[str], option: str, value: str, otherwise: int | None
) -> int | None:
    """The last typed `option value…` or `option=value…` (--expect-grad y=1 for '--expect-grad y'),
    else `otherwise`."""
    for i in range(len(typed) - 1, -1, -1):
        given = (
            typed[i + 1]
            if typed[i] == option and i + 1 < len(typed)
            else typed[i].partition("=")[2]
            if typed[i].startswith(option + "=")
            else None
        )
        if given is not None and (
            given == value or given.startswith(value + "=")
        ):  # 3:1, or y=1 for 'y'
            return i
    return otherwise


def _binding_word(typed: list[str], name: str) -> int | None:
    """The typed word that binds `name`: --x (its value follows), --x=…, -v x=…, or else the file
    given to --points."""
    at = _last_word(typed, f"--{name}")
    if at is not None:
        return _value_word(typed, at, f"--{name}")
    for i in range(len(typed) - 1, -1, -1):
        if typed[i].startswith((f"-v{name}=", f"--var={name}=")):  # -vx=1,2
            return i
        if typed[i].startswith(f"{name}=") and i and typed[i - 1] in ("-v", "--var"):  # -v x=1,2
            return i
    at = _last_word(typed, "--points")
    return None if at is None else _value_word(typed, at, "--points")


def _value_word(typed: list[str], at: int, option: str) -> int:
    """The word holding the value of the option typed at `at`: the next one, unless --option=value."""
    return at + 1 if typed[at] == option and at + 1 < len(typed) else at


_STANDING_IN = (
    "cg: expressions that start with -"  # ctx.meta key: stand-in → the word the user typed
)
_TYPED = "cg: the words as typed"  # ctx.meta key: the command line after `cg`, for usage errors


def _join_bindings(group, args: list[str], stand_ins: dict) -> list[str]:
    """`--x -log(2)` → `--x=-log(2)` for every `--name` the command does not know as an option;
    `-x**3` (a word that starts with '-' and is an expression, not options) → a stand-in."""
    at = next((i for i, a in enumerate(args) if a in group.commands), None)
    if at is None:
        return args
    command = group.commands[args[at]]
    if not command.context_settings.get("allow_extra_args"):
        return args  # cg functions, fusions, grammar: no bindings, no expression
    known = {"--help", *_option_words(command)}
    takes_value = {
        o
        for p in command.params
        if p.param_type_name == "option" and not p.is_flag and not p.count
        for o in p.opts
    }
    # options given at most once: click would keep the last silently (--expect 5 --expect 1 checks 1)
    once = {
        o: p.name
        for p in command.params
        if p.param_type_name == "option" and not p.is_flag and not p.count and not p.multiple
        for o in p.opts
    }
    given: set[str] = set()
    joined, i = args[: at + 1], at + 1
    while i < len(args):
        arg, before = args[i], joined[-1]
        # the word after an option that takes a value is that value (-v --v, --format json), and
        # after an unknown cluster such as -2f click may give it to -f: either way, leave it to click
        attached = (
            before[:2] in takes_value and len(before) > 2 and before[:2] != "--"
        )  # -oa.csv has its value
        value_of_before = before in takes_value or (
            before[:1] == "-"
            and before not in ("-", *known, *stand_ins)
            and before[:2] != "--"
            and not attached  # "-": stdin
        )
        if arg == "--":
            joined += args[i:]
            break
        word = arg.partition("=")[0] if arg[:2] == "--" else arg
        if (
            arg[:2] in once
            and len(arg) > 2
            and arg[:2] != "--"
            and not value_of_before
            and not _expression_word(arg, takes_value)
        ):
            word = arg[:2]  # -oa.csv: -o with its value attached
        if not value_of_before and word in once:
            if once[word] in given:
                raise BadOptionUsage(arg, f"{word} is given twice: give it once")
            given.add(once[word])
        if value_of_before:
            joined.append(arg)
        elif (
            arg[:2] in takes_value and arg[2:3] == "="
        ):  # click would take -o=a.dot as the file '=a.dot'
            value, long = (
                arg[3:],
                next(
                    o for p in command.params for o in p.opts if arg[:2] in p.opts and o[:2] == "--"
                ),
            )
            raise BadOptionUsage(
                arg,
                f"write {arg[:2]} {value} or {long}={value} (after a short option, '=' would be part of the value)",
            )
        elif (
            arg.startswith("--")
            and NAME.match(arg[2:])
            and arg not in known
            and args[i + 1 : i + 2] == ["--"]
        ):
            raise BadOptionUsage(
                arg, f"{arg} needs a value: {arg} VALUE"
            )  # click would drop the --
        elif (
            arg.startswith("--")
            and NAME.match(arg[2:])
            and arg not in known
            and i + 1 < len(args)
            and args[i + 1] not in known
        ):
            joined.append(f"{arg}={args[i + 1]}")
            i += 1
        elif (
            arg[:1] == "-"
            and arg[:2] != "--"
            and arg not in known
            and _expression_word(arg, takes_value)
        ):
            stand_in = f"\0{len(stand_ins)}"  # no word on a command line can hold a NUL
            stand_ins[stand_in] = arg
            joined.append(stand_in)
        else:
            joined.append(arg)
        i += 1
    return joined


def _expression_word(arg: str, takes_value: set) -> bool:
    """Whether a word that starts with '-' is an expression, not short options."""
    if arg[:2] == "-f" and Path(arg[2:]).exists():
        return False  # -fFILE: the file option with its value attached
    if _parses(arg):
        return True
    if arg[:2] in takes_value:
        return False  # -ofile.csv, -vx=1: an option with its value attached
    return not re.fullmatch(
        r"-\w+", arg
    )  # -cos(x: an expression with a syntax error, which cg reports


def _parses(text: str) -> bool:
    try:
        api.parse(text)
    except CgError:
        return False
    return True


def _words(ctx, expr) -> list[str]:
    """The command's words that are not options (the expression, bindings), as the user typed them."""
    stand_ins = ctx.meta.get(_STANDING_IN, {})
    return [stand_ins.get(w, w) for w in ([expr] if expr is not None else []) + list(ctx.args)]


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
    from .render import ascii_only

    for stream in (sys.stdout, sys.stderr):
        # a character the terminal cannot show is written as \u03b8, never a crash, never dropped
        if ascii_only(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=U_ESCAPE)


# ---------------------------------------------------------------------------
# reading the input


def _read_source(exprs: list[str], file: Path | None, command: str) -> str:
    if file is not None:
        if exprs:
            raise WordError(
                f"give the expression either as an argument or with -f, not both (got {exprs[0]!r})",
                exprs[0],
            )
        if str(file) == "-":
            return _decode(sys.stdin.buffer.read())
        try:
            return _decode(Path(file).read_bytes())
        except OSError as e:
            raise WordError(f"cannot read {file}: {e.strerror}", str(file)) from None
    if not exprs:
        values = "" if command == "diff" else " [--x VALUE ...]"
        raise WordError(
            f"no expression given: cg {command} EXPR{values} (EXPR '-' reads standard input)", ""
        )
    if len(exprs) > 1:
        short = next((w for w in exprs if re.fullmatch(r"-[^\W\d]", w)), None)
        if (
            short
        ):  # -o, -z: read as the expression -o unless it is an option, and cg {command} has none
            raise WordError(
                f"unknown option {short}: cg {command} has no option {short} (for the expression {short}, quote it together with the rest)",
                short,
            )
        raise WordError(
            f"more than one expression: {' '.join(exprs)!r}; quote the expression", exprs[1]
        )
    if exprs[0] == "-":
        return _decode(sys.stdin.buffer.read())
    return exprs[0]


def _decode(data: bytes) -> str:
    return text_of(data, "the input")


def _take_fuse(args: list[str]) -> tuple[list[str], str | None]:
    """Take `--fuse`, `--fuse GATES` or `--fuse=GATES` out of the arguments.

    click has no option with an optional value, so cg reads this one itself. The word after
    --fuse is taken as the gate list when it names gates (or nearly: a typo is an error).
    """
    from .fusion import gate_names

    rest, fuse, i = [], None, 0
    while i < len(args):
        arg = args[i]
        if arg == "--fuse" or arg.startswith("--fuse="):
            if fuse is not None:
                raise CgError("--fuse is given twice")
            fuse = arg.partition("=")[2] or "all"
            following = args[i + 1] if i + 1 < len(args) else ""
            if arg == "--fuse" and re.fullmatch(r"[\w\s,]+", following):
                names = following.split(",")
                # a list (no expression has a comma outside parentheses), or gates (or nearly: a typo)
                if (
                    len(names) > 1
                    or names[0] in gate_names()
                    or _did_you_mean(names[0], gate_names())
                ):
                    fuse, i = following, i + 1
        else:
            rest.append(arg)
        i += 1
    return rest, fuse


def _split_bindings(args: list[str], var: list[str], known: list[str]):
    """Separate `--name value` / `--name=value` bindings from the expression arguments."""
    exprs, bindings = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if not NAME.match(name):
                raise WordError(_unknown_option(arg, known, "--" + name), arg.partition("=")[0])
            if not eq:
                if i + 1 >= len(args):
                    hint = _did_you_mean(arg, known)
                    raise WordError(
                        _unknown_option(arg, known)
                        if hint or arg in known or _elsewhere(arg)
                        else f"{arg} needs a value: {arg} VALUE",
                        arg,
                    )
                i += 1
                value = args[i]
            bindings.append((name, value, "--" + name))
        else:
            exprs.append(arg)
        i += 1
    for item in var:
        name, eq, value = item.partition("=")
        if not eq or not NAME.match(name.strip()):
            raise WordError(f"-v/--var takes NAME=VALUE, got {item!r}", item)
        bindings.append((name.strip(), value, f"--var {name.strip()}"))
    return exprs, bindings


def _no_mistyped_options(graph, bindings, known: list[str]) -> None:
    """A binding for a name the expression does not use is only a warning (scripts pass one set of
    bindings to many expressions), unless it looks like one of the command's options: --expct 5
    would otherwise make cg check check nothing and pass."""
    for name, _, spelled in bindings:
        if (
            name in graph.variables or len(name) < 3 or spelled.startswith("--var ")
        ):  # x, t, e, -v foo=1: names, not mistyped options
            continue
        if spelled in known:  # written after --
            raise WordError(f"{spelled} is an option: give options before --", spelled)
        elsewhere = _elsewhere(spelled)
        if elsewhere:  # cg eval x --x 1 --wrt x: grad's option, not a binding for wrt
            raise WordError(elsewhere, spelled)
        hint = _did_you_mean(spelled, known)
        if hint:
            raise WordError(
                f"unknown option {spelled}{hint}; the expression has no variable {name} (bind one with -v {name}=VALUE)",
                spelled,
            )


def _unknown_option(spelled: str, known: list[str], word: str | None = None) -> str:
    if spelled in known:  # only after -- does an option reach cg as a word
        return f"{spelled} is an option: give options before --"
    return _elsewhere(spelled) or f"unknown option {spelled}{_did_you_mean(word or spelled, known)}"


def _elsewhere(option: str) -> str:
    """'cg eval has no option --explain (cg grad has it)' when another command has the option; else ''."""
    ctx = get_current_context(silent=True)
    group = ctx and ctx.parent and ctx.parent.command
    if not ctx or not hasattr(group, "commands"):
        return ""
    have = [
        f"cg {name}" for name, command in group.commands.items() if option in _option_words(command)
    ]
    if not have or option in _option_words(ctx.command):
        return ""
    return f"cg {ctx.info_name} has no option {option} ({', '.join(have)} {'has' if len(have) == 1 else 'have'} it)"


def _did_you_mean(word: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _wrt(wrt: str | None) -> list[str] | None:
    """The names --wrt gives, or None; an error names --wrt."""
    if not wrt:
        return None
    try:
        return api.names(wrt)
    except CgError as e:
        raise e.prefixed("--wrt: ") from None


def _fused(graph, fuse: str):
    """The graph with the gates --fuse names (or all) fused; an error names --fuse, as cg check's do."""
    try:
        return api.fuse(graph, None if fuse == "all" else api.names(fuse))
    except CgError as e:
        raise e.prefixed("--fuse: ") from None


def _bind(bindings, known: list[str]) -> dict[str, float]:
    env: dict[str, float] = {}
    for name, value, spelled in bindings:
        if name in env:
            raise WordError(
                f"{name} is bound twice ({spelled} {value})",
                spelled if " " not in spelled else f"{name}={value}",
            )
        try:
            said: list[str] = []
            env[name] = api.points(value, said)
            _warn(f"{spelled}: {message}" for message in said)
        except CgError as e:
            if (
                e.source is not None and not e.source.strip()
            ):  # --x '': the command line shows where
                raise CgError(f"{spelled}: no value", binding=name) from None
            if (
                spelled in known
            ):  # cg grad -- -x --format plain: after --, every --name is a binding
                hint = f"; {spelled} is an option: give options before --"
            elif not spelled.startswith("--") or " " in spelled:  # -v x=…: not an option's spelling
                hint = ""
            else:
                hint = _did_you_mean(spelled, known)
                hint = f"; is {spelled} a mistyped option?{hint}" if hint else ""
            raise e.prefixed(f"{spelled}: ", hint) from None
    return env


def _say(text: str, stream=None) -> None:
    """A line to stdout (or `stream`). Not typer.echo: on an ASCII-only stream click writes UTF-8
    bytes anyway; Python's stream writes what it cannot encode as a \\u escape (main)."""
    stream = stream or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _constant_option(text: str | None, option: str) -> float | None:
    """An option's number, written as a constant expression (2**-20); an underflow is said."""
    if text is None:
        return None
    said: list[str] = []
    value = api.constant_within(text, text, 0, said, f"{option}: ")
    _warn(f"{option}: {message}" for message in said)
    return value


def _warn(messages: list[str]) -> None:
    for message in messages:
        _say(f"cg: warning: {message}", sys.stderr)


def _fail(error: CgError) -> typer.Exit:
    ctx = get_current_context(silent=True)
    if ctx is not None and error.source is None:
        at = _place(error, ctx.meta.get(_TYPED, []))
        if at is not None or error.word is not None:
            error = _on_command_line(
                error.message, ctx.meta.get(_TYPED, []), None if at is None else (at, 0)
            )
    from .render import ascii_only

    _say(error.render(ascii_only(sys.stderr)), sys.stderr)
    return typer.Exit(EXIT_BAD_INPUT)


def _option_words(command) -> list[str]:
    """Every word that is one of the command's options (--fuse is read by cg itself, _take_fuse)."""
    return [o for p in command.params for o in (*p.opts, *p.secondary_opts)] + ["--fuse"]


def _options_of(ctx: typer.Context) -> list[str]:
    return [o for o in _option_words(ctx.command) if o.startswith("--")]


def _many(env: dict) -> str | None:
    """The first variable bound to many points, or None."""
    return next((name for name, v in env.items() if hasattr(v, "__len__")), None)


def _exit_if_not_finite(numbers) -> None:
    """Exit code 3 when a reported number is not finite (after the output is written)."""
    if not all(_all_finite(v) for v in numbers):
        raise typer.Exit(EXIT_NOT_FINITE)


def _load(ctx, expr, var, file, points_file=None):
    """What every command that evaluates reads: the graph (fused if asked), its size before
    fusing, and the bindings (from options and from a points file)."""
    known = _options_of(ctx)
    args, fuse = _take_fuse(_words(ctx, expr))
    exprs, bindings = _split_bindings(args, var, known)
    if points_file == "-" and (exprs == ["-"] or str(file) == "-"):
        raise CgError(
            "standard input can hold the expression or the points, not both: put one of them in a file"
        )
    graph = api.parse(_read_source(exprs, file, ctx.info_name))
    _no_mistyped_options(graph, bindings, known)
    fine_nodes = len(graph.nodes)
    if fuse is not None:
        graph = _fused(graph, fuse)
    env = _bind(bindings, known)
    if points_file is not None:
        from .pointsio import read_points

        for name, column in read_points(points_file).items():
            if name in env:
                raise CgError(
                    f"{name} is bound twice (--{name} and a column of {points_file})",
                    word=str(points_file),
                )
            env[name] = column
    return graph, (fine_nodes if fuse is not None else None), env


# ---------------------------------------------------------------------------
# commands

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


def _run(
    ctx,
    expr,
    var,
    file,
    fmt,
    wrt,
    nodes,
    with_grad,
    explain=False,
    points_file=None,
    output=None,
    direction=None,
):
    try:
        graph, fused_from, env = _load(ctx, expr, var, file, points_file)
        if output is not None and not output.lower().endswith((".csv", ".npz")):
            raise CgError(f"-o {output}: write a .csv or a .npz file")
        source = ctx.get_parameter_source("format")
        if not nodes and (
            fmt is not Format.json or output is not None
        ):  # --no-nodes would change nothing
            raise CgError(
                "--no-nodes leaves the node list out of --format json; there is none to leave out here"
            )
        if (
            output is not None
            and fmt is not Format.csv
            and source is not None
            and source.name == "COMMANDLINE"
        ):
            raise CgError(
                f"-o {output} writes the results to the file and prints nothing: --format {fmt.value} would have nothing to print"
            )
        if fmt is Format.plain and _many(env):
            raise CgError("--format plain is for one point: use --format csv (or json) for many")
        # per-node values are needed only to show the nodes; without them a batch runs in chunks
        keep = output is None and (fmt is Format.tree or (fmt is Format.json and nodes))
        if with_grad:
            if explain and (fmt in (Format.plain, Format.csv) or output is not None):
                raise CgError(
                    "--explain shows steps: use it with --format tree (the default) or json"
                )
            if explain and _many(env):
                raise CgError(
                    "--explain shows the steps at one point: give each variable one value"
                )
            result = api.grad(graph, env, wrt=_wrt(wrt), trace=explain, keep_nodes=keep)
        else:
            result = api.evaluate(graph, env, keep_nodes=keep)
        along = None
        if direction is not None:
            along = api.directional(graph, env, api.parse_direction(direction))
    except CgError as e:
        raise _fail(e) from None
    except MemoryError:
        raise _fail(
            CgError(
                "not enough memory: use fewer points, or -o FILE.npz (which keeps no per-node arrays)"
            )
        ) from None
    _warn(result.warnings)
    from . import render

    out = sys.stdout
    if output is not None or fmt is Format.csv:
        from . import pointsio

        if along is not None:
            _warn(
                [
                    "--dir: a file of points has no column for the directional derivative; use --format json or tree to see it"
                ]
            )
        try:
            cols = pointsio.columns(_as_batch(result), [n for n in result.graph.variables], env)
            if output is None:
                pointsio.write_csv(cols, out)
            elif output.lower().endswith(".npz"):
                pointsio.write_npz(cols, output)
            else:
                with open(output, "w", encoding="utf-8") as f:
                    pointsio.write_csv(cols, f)
        except OSError as e:
            raise _fail(
                CgError(f"cannot write {output}: {e.strerror or e}", word=str(output))
            ) from None
        except CgError as e:
            raise _fail(e) from None
    elif fmt is Format.json:
        render.write_json(
            result, out, nodes=nodes, fused_from=fused_from, explain=explain, directional=along
        )
    elif explain:
        render.write_explain(result, out)
    elif fmt is Format.plain:
        render.write_plain(result, out)
    else:
        render.write_tree(result, out, fused_from=fused_from)
    if along is not None and fmt in (Format.tree, Format.plain):
        render.write_directional(along, out)
    _exit_if_not_finite([result.value, *result.gradients.values(), *(along[1:] if along else ())])


def _all_finite(v) -> bool:
    if getattr(v, "ndim", 0):
        import numpy as np

        return bool(np.isfinite(v).all())
    return v - v == 0


def _as_batch(result):
    """A single-point result seen as a batch of one, for csv and npz output."""
    if result.points is None:
        import numpy as np

        result.points = 1
        result.values[result.graph.output] = np.atleast_1d(result.value)
        result.gradients = {k: np.atleast_1d(v) for k, v in result.gradients.items()}
    return result


@app.command(context_settings=BINDINGS, epilog=EPILOG)
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
    _run(
        ctx,
        expr,
        var,
        file,
        format,
        wrt,
        nodes,
        with_grad=True,
        explain=explain,
        points_file=points,
        output=output,
        direction=direction,
    )


@app.command("eval", context_settings=BINDINGS, epilog=EPILOG)
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
    _run(
        ctx,
        expr,
        var,
        file,
        format,
        None,
        nodes,
        with_grad=False,
        points_file=points,
        output=output,
    )


@app.command()
def functions() -> None:
    """Every function and operator, with its local gradients and the convention at kinks."""
    from . import render

    render.write_functions(sys.stdout)


@app.command(
    context_settings=BINDINGS,
    epilog="""\
Examples:

  cg check "(x+y)**2" --x 1 --y 2 --expect 9 --expect-grad x=6

  cg check "sigmoid(z)" --z 0.5 --against z="sigmoid(z)*(1-sigmoid(z))"

  cg check "1/(1+exp(-(w*x+b)))" --random 100 --box -5:5 --seed 1 --fuse

  cg check --cases checks.toml --junit report.xml

Exit codes: 0 every check passed; 1 a check failed; 2 bad usage or input;
3 a value or gradient is not finite (the report is still printed).
""",
)
def check(
    ctx: typer.Context,
    expr: str | None = ExprArg,
    var: list[str] = VarOpt,
    file: Path | None = FileOpt,
    eps: str | None = typer.Option(
        None,
        "--eps",
        metavar="H",
        help="Finite-difference step h.  [default: 1e-6]",
        show_default=False,
    ),
    rtol: str | None = typer.Option(
        None,
        "--rtol",
        metavar="R",
        help="Relative tolerance: pass when |cg-ref| <= atol + rtol*|ref|.  [default: 1e-3]",
        show_default=False,
    ),
    atol: str | None = typer.Option(
        None, "--atol", metavar="A", help="Absolute tolerance.  [default: 1e-5]", show_default=False
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
    A check passes when |cg - reference| <= atol + rtol*|reference| (torch.autograd.gradcheck's rule).
    """
    from . import cases as check_cases
    from . import check as checks
    from . import report as reports

    def option_name(key: str) -> str:  # what the command line calls a setting: eps is --eps
        return "--" + key.replace("_", "-")

    known = _options_of(ctx)
    try:
        if format not in ("table", "json"):
            raise CgError(f"--format {format}: cg check writes table or json")
        args, fuse = _take_fuse(_words(ctx, expr))
        exprs, bindings = _split_bindings(args, var, known)
        eps, rtol, atol = (
            _constant_option(text, option)
            for text, option in ((eps, "--eps"), (rtol, "--rtol"), (atol, "--atol"))
        )
        settings = dict(eps=eps, rtol=rtol, atol=atol, random=random, seed=seed, box=box, fuse=fuse)
        if cases is not None:
            given = [
                name
                for name, value in [
                    ("expression", exprs or file),
                    ("bindings", bindings),
                    ("--expect", expect),
                    ("--expect-grad", expect_grad),
                    ("--against", against),
                ]
                if value
            ]
            if given:  # the caret under the first of them
                first = exprs[0] if exprs else "-f" if file else None if bindings else given[0]
                raise CgError(
                    f"--cases runs the cases of {cases}: give no {', '.join(given)} (they belong in a [[case]])",
                    binding=bindings[0][0] if first is None else None,
                    word=first,
                )
            specs = check_cases.load(cases, settings, option_name)
        else:
            if not exprs and file is None:
                raise WordError(
                    "no expression given: cg check EXPR [--x VALUE ...], or cg check --cases FILE.toml",
                    "",
                )
            graph = api.parse(_read_source(exprs, file, ctx.info_name))
            _no_mistyped_options(graph, bindings, known)
            specs = [
                check_cases.from_values(
                    graph,
                    _bind(bindings, known),
                    expect,
                    expect_grad,
                    against,
                    settings,
                    option_name,
                )
            ]
        report = checks.run(specs, cases)
        if junit is not None:
            try:
                junit.write_bytes(reports.junit_xml(report))
            except OSError as e:
                raise CgError(f"cannot write {junit}: {e.strerror}", word=str(junit)) from None
    except CgError as e:
        raise _fail(e) from None
    _warn(report.warnings)
    if format == "json":
        reports.write_json(report, sys.stdout)
    else:
        reports.write_table(report, sys.stdout)
    raise typer.Exit(report.exit_code)


@app.command(
    context_settings=BINDINGS,
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
    from . import derive

    known = _options_of(ctx)
    try:
        if format not in ("text", "json"):
            raise CgError(f"--format {format}: cg diff writes text or json")
        args, fuse = _take_fuse(_words(ctx, expr))
        exprs, bindings = _split_bindings(args, [], known)
        var = next(
            (
                i
                for i, w in enumerate(exprs)
                if i and (w == "-v" or w.startswith("-v") and "=" in w)
            ),
            None,
        )
        if (
            var is not None
        ):  # -v x=1: cg eval's option (cg diff has none; click would read -v as the expression -v)
            given = " ".join(exprs[var : var + 2]) if exprs[var] == "-v" else exprs[var]
            raise WordError(
                f'cg diff prints a formula and takes no values ({given}): bind them in cg eval "$(cg diff …)" {given}',
                exprs[var],
            )
        if bindings:
            name, value, spelled = bindings[0]
            if spelled in known or _did_you_mean(spelled, known):
                raise WordError(_unknown_option(spelled, known), spelled)
            raise CgError(
                f'cg diff prints a formula and takes no values ({spelled} {value}): bind them in cg eval "$(cg diff …)" --{name} {value}',
                binding=name,
            )
        graph = api.parse(_read_source(exprs, file, ctx.info_name))
        if fuse is not None:
            graph = _fused(graph, fuse)
        names = _wrt(wrt) or list(graph.variables)
        if not names:
            raise CgError(
                "the expression has no variables: there is nothing to differentiate",
                graph.source,
                0,
            )
        warnings = list(graph.warnings)
        for name in names:
            if not NAME.match(name):
                raise CgError(f"--wrt {name}: not a variable name")
            if name not in graph.variables:
                warnings.append(
                    f"--wrt {name}: the expression does not use {name}, so its derivative is 0"
                )
        derivatives = {
            name: derive.derivative(graph, name, order).source for name in dict.fromkeys(names)
        }
    except CgError as e:
        raise _fail(e) from None
    _warn(warnings)
    if format == "json":
        import json

        data = {
            "expression": graph.source,
            "order": order,
            "wrt": list(derivatives),
            "derivatives": derivatives,
            "warnings": warnings,
        }
        from .render import ascii_only

        _say(json.dumps(data, ensure_ascii=ascii_only(sys.stdout)))
    elif len(derivatives) == 1:
        _say(next(iter(derivatives.values())))
    else:
        power = "" if order == 1 else f"^{order}"
        blocks = [f"# d{power}f/d{name}{power}\n{text}" for name, text in derivatives.items()]
        _say("\n\n".join(blocks))


@app.command(
    context_settings=BINDINGS,
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

    try:
        if format not in ("table", "json", "plain"):
            raise CgError(f"--format {format}: cg hessian writes table, json or plain")
        graph, _, env = _load(ctx, expr, var, file, points)
        if format == "plain" and _many(env):
            raise CgError("--format plain is for one point: use --format json (or table) for many")
        result = api.hessian(graph, env, _wrt(wrt))
    except CgError as e:
        raise _fail(e) from None
    _warn(result.warnings)
    if format == "json":
        render.write_hessian_json(result, graph.source, sys.stdout)
    elif format == "plain":
        render.write_hessian_plain(result, sys.stdout)
    else:
        render.write_hessian_table(result, sys.stdout)
    printed = [v for row in result.matrix for v in row]
    if format != "plain":  # the table and json show f and the gradient too
        printed += [result.value, *result.gradients.values()]
    _exit_if_not_finite(printed)


@app.command()
def fusions() -> None:
    """Every gate --fuse knows: the shapes it replaces, its forward and its hand-written local gradient."""
    from . import render

    render.write_fusions(sys.stdout)


@app.command()
def grammar() -> None:
    """Print the grammar of cg's language (the Lark file the parser is generated from)."""
    from importlib.resources import files

    packaged = files("cgcli") / "grammar" / "cg.lark"  # in an installed wheel
    source_tree = Path(__file__).resolve().parent.parent / "grammar" / "cg.lark"  # in a checkout
    path = packaged if packaged.is_file() else source_tree
    sys.stdout.write(path.read_text(encoding="utf-8"))


@app.command(context_settings=BINDINGS, epilog=EPILOG)
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

    try:
        kind = picture.format_for(output)
        graph, _, env = _load(ctx, expr, var, file)
        if _many(env):
            raise CgError(
                f"cg graph draws the numbers of one point: give {_many(env)} one value (cg grad shows many points)",
                binding=_many(env),
            )
        result = api.grad(graph, env, trace=True)
        data = picture.draw(result, kind, digits)
        try:
            output.write_bytes(data)
        except OSError as e:
            raise CgError(f"cannot write {output}: {e.strerror}", word=str(output)) from None
    except CgError as e:
        raise _fail(e) from None
    _warn(result.warnings)
    _exit_if_not_finite(
        [result.value, *result.gradients.values()]
    )  # the picture shows them, as cg grad would


def run() -> None:
    """Entry point of the `cg` script."""
    import signal

    if hasattr(signal, "SIGPIPE"):
        # the reader went away (cg … | head -1): stop there, as other Unix tools do (the shell sees
        # 141), not a "cannot write" error or click's exit code 1 (cg's "a check failed")
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app(prog_name="cg")
