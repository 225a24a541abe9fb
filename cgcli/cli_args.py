"""The words of a cg command line, read against each command's declared options.

cg reads its command line itself before click sees it, because a cg command line holds words
click has no model for: bindings `--x VALUE` for any variable name, values and expressions that
start with '-' (`--x -log(2)`, `-x**3*cos(y)`), and `--fuse` with or without a gate list. From a
command's declared options (click's `params`: their spellings, whether they are flags, whether
they may repeat) `read` sorts the words into options, bindings and expression words, reports a
mistake with the word it is about, and hands click the options alone. cg's own options
(--color, --ascii, --version) may follow the command too: they are read with its options and
kept apart (Line.shared) for cg to apply. `on_command_line` shows an error about the command
line: the words as typed with a caret under the one at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import CgError
from .text import closest, did_you_mean

NAME = re.compile(r"[^\W\d]\w*\Z")  # a variable's name (grammar/cg.lark's NAME)
HELP = "--help"
HELPS = ("-h", HELP)  # the help option's spellings: -h is help, never a variable (--h binds h)
VAR = ("-v", "--var")  # the option that binds any name: -v NAME=VALUE
_SHORT_WORD = re.compile(r"-\w+")  # short options clustered (-2o), unless it is an expression


class WordError(CgError):
    """An error about the command line: the caret goes under the typed word number `at` (after
    the last word when `at` is their count), `offset` characters into it."""

    def __init__(self, message: str, at: int, offset: int = 0):
        super().__init__(message)
        self.at, self.offset = at, offset


class Given:
    """A declared option as typed: the spelling, its value (None for a flag), the index of the
    option's word, and where its value is (the same word for --option=value and -oVALUE)."""

    # plain classes here, not dataclasses: making one costs a millisecond at every start of cg
    __slots__ = ("option", "value", "at", "value_at", "offset")

    def __init__(self, option: str, value: str | None, at: int, value_at: int, offset: int = 0):
        self.option, self.value, self.at, self.value_at = option, value, at, value_at
        self.offset = offset


class Binding:
    """A value for a variable: `--x VALUE`, `--x=VALUE` or `-v x=VALUE`. `spelled` is how
    messages name it (--x, or --var x); `at` is the word a repeat is shown under, `value_at` the
    word holding the value."""

    __slots__ = ("name", "value", "spelled", "at", "value_at")

    def __init__(self, name: str, value: str, spelled: str, at: int, value_at: int):
        self.name, self.value, self.spelled, self.at, self.value_at = (
            name,
            value,
            spelled,
            at,
            value_at,
        )


class Line:
    """What one command's words say. Indices count the words typed after `cg`."""

    def __init__(self, typed: list[str], command: str, commands: dict):
        self.typed, self.command = typed, command
        self.commands = commands  # every command, by name
        self.given: dict[str, list[Given]] = {}  # declared options, by parameter name
        self.exprs: list[tuple[str, int]] = []  # expression words, and where they are
        self.bindings: list[Binding] = []
        self.optional: dict[str, Given] = {}  # --fuse [GATES], by spelling
        self.for_click: list[str] = []  # the declared options, as click reads them
        self.known: list[str] = []  # the command's --options, for did-you-mean
        self.shared: set[str] = set()  # the spellings of cg's own options (--color …)

    def first(self, param: str) -> Given | None:
        return next(iter(self.given.get(param, [])), None)

    def where(self, param: str) -> int | None:
        """The word of the last typed occurrence of an option (by parameter name)."""
        given = self.given.get(param)
        return given[-1].at if given else None


# ---------------------------------------------------------------------------
# a command's declared options


class Options:
    """A command's declared options, by every spelling (--output, -o, --no-nodes), and cg's own
    options that every command takes (`shared`: click parameters of the group)."""

    def __init__(self, by_word: dict, takes_value: set[str], shared: set[str]):
        self.by_word = by_word  # spelling → click parameter
        self.takes_value = takes_value  # the spellings of options that take a value
        self.shared = shared  # the spellings of cg's own options

    @classmethod
    def of(cls, command, shared=()) -> Options:
        by_word, takes_value, own = {}, set(), set()
        for param in [*command.params, *shared]:
            if param.param_type_name != "option":
                continue
            for word in (*param.opts, *param.secondary_opts):
                by_word[word] = param
                if param in shared:
                    own.add(word)
                if not param.is_flag and not getattr(param, "count", False):
                    takes_value.add(word)
        return cls(by_word, takes_value, own)

    def long_of(self, word: str) -> str:
        return next((o for o in self.by_word[word].opts if o.startswith("--")), word)


def option_words(command) -> list[str]:
    """Every spelling of the command's declared options, and the help's."""
    return [*Options.of(command).by_word, *HELPS]


# --format's values across commands: --json is taken for --format json, not a binding, unless the
# expression has a variable json
FORMAT_WORDS = ("tree", "table", "json", "plain", "csv", "text")


def format_word(spelled: str) -> bool:
    return spelled[:2] == "--" and spelled[2:] in FORMAT_WORDS


def option_hint(spelled: str, known) -> str:
    """' (did you mean --format?)' for a mistyped option, else ''. The names are compared without
    their leading dashes: every option has them, and they made --bogus look like --fuse."""
    bare = {word.lstrip("-"): word for word in known}
    close = closest(spelled.lstrip("-"), bare)
    return f" (did you mean {bare[close]}?)" if close else ""


def not_an_option(spelled: str) -> str:
    name = spelled[2:]
    return (
        f"unknown option {spelled} (did you mean --format {name}?); "
        f"to bind a variable {name}, write -v {name}=VALUE"
    )


def unknown_option(word: str, line: Line) -> str:
    """'unknown option --fromat (did you mean --format?)', or that another command has it."""
    return elsewhere(word, line.command, line.commands) or (
        f"unknown option {word}{option_hint(word, line.known)}"
    )


def elsewhere(option: str, command: str, commands: dict) -> str:
    """'cg eval has no option --explain (cg grad has it)' when other commands have the option."""
    have = [f"cg {name}" for name, c in commands.items() if option in option_words(c)]
    if not have or option in option_words(commands[command]):
        return ""
    verb = "has" if len(have) == 1 else "have"
    return f"cg {command} has no option {option} ({', '.join(have)} {verb} it)"


# ---------------------------------------------------------------------------
# reading the words


def read_group(group, words: list[str]) -> None:
    """The words before the command's name: cg's own options, then a command that exists."""
    options = Options.of(group)
    declared = {*options.by_word, *HELPS}
    value = False  # the word is an option's value
    for at, word in enumerate(words):
        if value:
            value = False
        elif word[:1] == "-" and word != "-":
            if word.partition("=")[0] not in declared:
                raise WordError(_before_the_command(group, words, at), at)
            value = word in options.takes_value
        elif word in group.commands:
            return
        else:
            raise WordError(f"no such command {word!r}{did_you_mean(word, group.commands)}", at)


def _before_the_command(group, words: list[str], at: int) -> str:
    """What to say of an option cg does not have, typed before the command's name: when it is
    the command's (cg --format json grad …), that it goes after the command."""
    word = words[at]
    spelled, eq, value = word.partition("=")
    named = next((k for k in range(at + 1, len(words)) if words[k] in group.commands), None)
    if named is None or spelled not in option_words(group.commands[words[named]]):
        return f"no such option: {word}"
    name = words[named]
    if not eq and spelled in Options.of(group.commands[name]).takes_value and at + 1 < named:
        value = words[at + 1]  # its value, when one stands between it and the command
    typed = f"{spelled} {value}" if value else spelled
    return f"{spelled} is an option of cg {name}: write it after the command (cg {name} … {typed})"


class _Reader:
    """One pass over a command's words (see read)."""

    def __init__(self, line: Line, options: Options, is_expression, optional, start: int):
        self.line, self.options = line, options
        self.is_expression: Callable[[str], bool] = is_expression
        self.optional: dict[str, Callable[[str], bool]] = optional
        self.start = start  # the index of the command's first word among the typed words

    def fail(self, message: str, at: int, offset: int = 0):
        raise WordError(message, self.start + at, offset)

    def option(self, word: str, value: str | None, at: int, value_at: int, offset: int = 0):
        """A declared option. One that takes a single value, given twice, is refused: click would
        keep the last silently (--expect 5 --expect 1 would check 1)."""
        param = self.options.by_word[word]
        given = self.line.given.setdefault(param.name, [])
        if given and not param.multiple and word in self.options.takes_value:
            self.fail(f"{word} is given twice: give it once", at)
        abs_at, abs_value_at = self.start + at, self.start + value_at
        given.append(Given(word, value, abs_at, abs_value_at, offset))
        if word in self.options.shared:  # cg's own option: cg applies it, the command's click not
            return
        if value is None:
            self.line.for_click.append(word)
        else:  # --long=VALUE: click cannot misread a value that starts with '-'
            self.line.for_click.append(f"{self.options.long_of(word)}={value}")

    def binding(self, name: str, value: str, spelled: str, at: int, value_at: int):
        self.line.bindings.append(
            Binding(name, value, spelled, self.start + at, self.start + value_at)
        )

    def var(self, item: str, value_at: int):
        """-v NAME=VALUE (the option's value `item`)."""
        name, eq, value = item.partition("=")
        if not eq or not NAME.match(name.strip()):
            self.fail(f"-v/--var takes NAME=VALUE, got {item!r}", value_at)
        self.binding(name.strip(), value, f"--var {name.strip()}", value_at, value_at)


def read(
    command,
    name: str,
    words: list[str],
    typed: list[str],
    commands: dict,
    is_expression: Callable[[str], bool] = lambda word: False,
    optional: dict[str, Callable[[str], bool]] | None = None,
    bindings: bool = True,
    shared=(),
) -> Line:
    """Sort a command's `words` (the typed words after its name) into a Line.

    Without `bindings` the command takes options only. `optional` maps an option of cg's own
    whose value may be left out (--fuse [GATES]) to whether a word is that value. `shared` are
    the group's options that every command takes too (--color never after the command).
    """
    line = Line(typed, name, commands)
    options = Options.of(command, shared)
    line.shared = options.shared
    known = (*options.by_word, *(optional or {}))
    line.known = [w for w in dict.fromkeys(known) if w.startswith("--")]
    reader = _Reader(line, options, is_expression, optional or {}, len(typed) - len(words))
    if set(HELPS) & set(words[: words.index("--") if "--" in words else len(words)]):
        line.for_click = [HELP]  # the help, whatever else is wrong
        return line
    if not bindings:
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        _read_options_only(reader, words, sum(999 if p.nargs < 0 else p.nargs for p in arguments))
    else:
        _read_words(reader, words)
    for param in command.params:
        if param.param_type_name == "option" and param.required and param.name not in line.given:
            spellings = " / ".join(repr(o) for o in param.opts)
            reader.fail(f"missing option {spellings}", len(words))
    return line


def _read_options_only(reader: _Reader, words: list[str], arguments: int) -> None:
    """Words of a command without bindings: its arguments (up to `arguments` words; an argument
    of any number of words counts 999), and no option but cg's own."""
    at, taken = 0, 0
    while at < len(words):
        word = words[at]
        if word.partition("=")[0] in reader.options.shared:
            at = _long_word(reader, words, at, False)
        elif word[:1] == "-" and word != "-":
            reader.fail(f"no such option: {word}", at)
        elif taken >= arguments:
            reader.fail(f"got unexpected extra argument ({word})", at)
        else:
            reader.line.for_click.append(word)
            taken += 1
        at += 1


def _read_words(reader: _Reader, words: list[str]) -> None:
    """Options, bindings and expression words; after `--`, no options (`-x` is an expression)."""
    at, after_dashes = 0, False
    while at < len(words):
        word = words[at]
        if word == "--" and not after_dashes:
            after_dashes = True
        elif word[:2] == "--" and len(word) > 2:
            at = _long_word(reader, words, at, after_dashes)
        elif word[:1] == "-" and len(word) > 1 and not after_dashes:
            at = _short_word(reader, words, at)
        else:
            reader.line.exprs.append((word, reader.start + at))
        at += 1


def _long_word(reader: _Reader, words: list[str], at: int, after_dashes: bool) -> int:
    """`--option`, `--option=VALUE`, `--fuse [GATES]` or a binding `--name VALUE`; returns the
    index of the last word it took."""
    options, word = reader.options, words[at]
    spelled, eq, value = word.partition("=")
    following = words[at + 1] if at + 1 < len(words) else None
    if spelled in options.by_word or spelled in reader.optional or spelled == HELP:
        if after_dashes:
            reader.fail(f"{spelled} is an option: give options before --", at)
        if spelled == HELP:  # --help=1 (--help itself was seen before reading)
            reader.fail(f"option {spelled!r} does not take a value", at)
    if spelled in reader.optional and not after_dashes:
        if spelled in reader.line.optional:
            reader.fail(f"{spelled} is given twice", at)
        takes = not eq and following is not None and reader.optional[spelled](following)
        value = following if takes else value if eq else None
        given = Given(spelled, value, reader.start + at, reader.start + at + takes)
        given.offset = len(spelled) + 1 if eq else 0
        reader.line.optional[spelled] = given
        return at + takes
    if spelled in options.by_word and not after_dashes:
        if spelled not in options.takes_value:
            if eq:
                reader.fail(f"option {spelled!r} does not take a value", at)
            reader.option(spelled, None, at, at)
            return at
        if eq:
            if spelled in VAR:
                reader.var(value, at)
            reader.option(spelled, value, at, at, len(spelled) + 1)
            return at
        if following is None:
            reader.fail(f"option {spelled!r} requires an argument", len(words))
        if spelled in VAR:
            reader.var(following, at + 1)
        reader.option(spelled, following, at, at + 1)
        return at + 1
    name = spelled[2:]
    if not NAME.match(name):
        reader.fail(unknown_option(spelled, reader.line), at)
    if eq:
        reader.binding(name, value, spelled, at, at)
        return at
    declared = {*options.by_word, *reader.optional, *HELPS}
    if format_word(spelled) and (following is None or following[:2] == "--") and not after_dashes:
        reader.fail(not_an_option(spelled), at)  # --json, --json --x 1: cg's --format json
    # the next word is an option or another binding (--bogus --x 1): not this binding's value,
    # which is a number or a constant expression (--NAME would be one only as -(-NAME), no constant)
    next_is_a_name = (
        following is not None
        and following[:2] == "--"
        and bool(NAME.match(following[2:].split("=")[0]))
    )
    if (
        following is None
        or following == "--"
        or ((following in declared or next_is_a_name) and not after_dashes)
    ):
        line = reader.line  # --exlpain at the end is a mistyped option, --x a binding with no value
        mistyped = option_hint(spelled, line.known) or elsewhere(
            spelled, line.command, line.commands
        )
        message = f"{spelled} needs a value: {spelled} VALUE"
        reader.fail(unknown_option(spelled, line) if mistyped else message, at)
    reader.binding(name, following, spelled, at, at + 1)
    return at + 1


def _short_word(reader: _Reader, words: list[str], at: int) -> int:
    """A word that starts with a single '-': an expression (-x**3*cos(y)), a short option
    (-o FILE, -oFILE, -vx=1), or short options clustered (-2o: -2 and -o)."""
    options, word = reader.options, words[at]
    following = words[at + 1] if at + 1 < len(words) else None
    short = word[:2]
    if short in options.by_word:
        if len(word) == 2:
            if short not in options.takes_value:
                reader.option(short, None, at, at)
                return at
            if following is None:
                reader.fail(f"option {short!r} requires an argument", len(words))
            return _short_value(reader, short, following, at, at + 1)
        if word[2] == "=" and short in options.takes_value:
            long = options.long_of(short)
            value = word[3:]
            reader.fail(
                f"write {short} {value} or {long}={value} "
                "(after a short option, '=' would be part of the value)",
                at,
            )
        attached = word[2:]
        if short in options.takes_value and (_exists(attached) or not reader.is_expression(word)):
            return _short_value(reader, short, attached, at, at, 2)  # -ofile.csv, -vx=1, -fprog
    if reader.is_expression(word) or not _SHORT_WORD.fullmatch(word):
        reader.line.exprs.append((word, reader.start + at))  # -cos(x: the parser says what is wrong
        return at
    # short options clustered: the letters no option has stay together, read as an expression
    unknown, word_at = "", at
    for k, letter in enumerate(word[1:], start=2):
        short = "-" + letter
        if short not in options.by_word:
            unknown += letter
        elif short not in options.takes_value:
            reader.option(short, None, at, at)
        else:
            if k < len(word):
                at = _short_value(reader, short, word[k:], at, at, k)
            elif following is None:
                reader.fail(f"option {short!r} requires an argument", len(words))
            else:
                at = _short_value(reader, short, following, at, at + 1)
            break
    if unknown:
        reader.line.exprs.append(("-" + unknown, reader.start + word_at))
    return at


def _exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).exists()


def _short_value(reader: _Reader, short: str, value: str, at: int, value_at: int, offset=0):
    if short in VAR:
        reader.var(value, value_at)
    reader.option(short, value, at, value_at, offset)
    return value_at


# ---------------------------------------------------------------------------
# what the words are for


def expression_word(line: Line, usage: str) -> str:
    """The one expression word ('-': standard input). `usage` follows EXPR in the message that
    says none was given (' [--x VALUE ...]')."""
    exprs = line.exprs
    if not exprs:
        taken = next((b for b in line.bindings if format_word(b.spelled)), None)
        if taken is not None:  # cg grad --json "x*y": json bound to the expression
            raise WordError(not_an_option(taken.spelled), taken.at)
        raise WordError(
            f"no expression given: cg {line.command} EXPR{usage} (EXPR '-' reads standard input)",
            len(line.typed),
        )
    if len(exprs) > 1:
        for word, at in exprs:
            after = _after_option_without_value(line, at)
            if after is not None:
                raise WordError(_read_as_expression(after, word), at)
        short = next(((w, at) for w, at in exprs if re.fullmatch(r"-[^\W\d]", w)), None)
        if short:  # -o, -z: read as an expression, as the command has no such option
            word, at = short
            raise WordError(
                f"unknown option {word}: cg {line.command} has no option {word} "
                f"(for the expression {word}, quote it together with the rest)",
                at,
            )
        words = " ".join(w for w, _ in exprs)
        raise WordError(f"more than one expression: {words!r}; quote the expression", exprs[1][1])
    return exprs[0][0]


def _after_option_without_value(line: Line, at: int) -> Given | None:
    """The option typed just before word `at` when it took no value: a flag (--explain), or
    --fuse without its gates."""
    return next((g for g in every_given(line) if g.at == at - 1 and g.value is None), None)


def _read_as_expression(option: Given, word: str) -> str:
    """What to say of a word read as a second expression after an option that took no value:
    `--fuse relu` names no gate; `--explain 3` binds no variable explain."""
    if option.option == "--fuse" and re.fullmatch(r"\w+", word):
        from .fusion import gate_names

        return (
            f"--fuse {word}: there is no gate {word}; the gates are "
            f"{', '.join(gate_names())} (`cg fusions` shows them)"
        )
    name = option.option.lstrip("-")
    return (
        f"{option.option} takes no value, so {word!r} was read as a second expression; "
        f"to bind a variable {name}, write -v {name}={word}"
    )


def no_mistyped_options(line: Line, variables) -> None:
    """A binding for a name the expression does not use is only a warning (scripts pass one set
    of bindings to many expressions), unless it looks like one of the command's options: --expct 5
    would otherwise make cg check check nothing and pass."""
    for b in line.bindings:
        if b.name in variables or len(b.name) < 3 or b.spelled.startswith("--var "):
            continue  # x, t, e, -v foo=1: names, not mistyped options
        if format_word(b.spelled):
            raise WordError(not_an_option(b.spelled), b.at)
        other = elsewhere(b.spelled, line.command, line.commands)
        if other:  # cg eval x --x 1 --wrt x: grad's option, not a binding for wrt
            raise WordError(other, b.at)
        hint = option_hint(b.spelled, line.known)
        if hint:
            raise WordError(
                f"unknown option {b.spelled}{hint}; the expression has no variable {b.name} "
                f"(bind one with -v {b.name}=VALUE)",
                b.at,
            )


# ---------------------------------------------------------------------------
# showing an error


def on_command_line(message: str, typed: list[str], at: int | None, offset: int = 0) -> CgError:
    """An error about the command line: `cg` and the words as typed, with a caret under word
    `at` (`offset` characters into it; after the last word when `at` is their count), or the
    message alone when `at` is None."""
    import shlex

    if at is None:
        return CgError(message)
    shown, starts = "cg", []
    for word in typed:
        starts.append(len(shown) + 1)
        shown += " " + shlex.quote(word)
    if at >= len(typed):
        return CgError(message, shown, len(shown))
    quoted = shown[starts[at]] == "'" and typed[at][:1] != "'" and typed[at] != ""
    return CgError(message, shown, starts[at] + offset + quoted)  # '': under its first quote


def where_named(message: str, line: Line) -> int | None:
    """The word an error is about when its message starts with one of the options typed (as
    cg's messages about an option do: '--box 3:1: …', '--dir: …'): the last of them, or of an
    option typed more than once, the one whose value the message names."""
    last = None
    for given in sorted(every_given(line), key=lambda g: -g.at):
        option = given.option
        if message[len(option) : len(option) + 1] not in (" ", ":") or not message.startswith(
            option
        ):
            continue
        named = message[len(option) :].removeprefix(" ").partition(": ")[0]
        value = given.value or ""
        if value == named or value.startswith(named + "="):
            return given.at
        last = given.at if last is None else last
    return last


def every_given(line: Line):
    for given in line.given.values():
        yield from given
    yield from line.optional.values()


def value_word(line: Line, variable: str) -> int | None:
    """The word holding the value of the last binding of `variable`."""
    return next((b.value_at for b in reversed(line.bindings) if b.name == variable), None)


def file_word(line: Line, path: str) -> int | None:
    """The word that gives the file `path` as Path() shows it (./a.cg is a.cg)."""
    from pathlib import Path

    for given in sorted(every_given(line), key=lambda g: -g.at):
        if given.value and str(Path(given.value)) == path:
            return given.value_at
    return None


def whole_numbers(command, line: Line) -> None:
    """The values of the command's integer options (--order, --random, --seed, --digits) written
    with the ASCII digits 0-9 and a sign only: click reads them with int(), which also takes ２,
    ١٠ and 1_0. A mistake is a WordError under the character; click still says what is out of
    range, as it does for every option."""
    for param in command.params:
        kinds = {kind.__name__ for kind in type(param.type).__mro__}
        if "IntParamType" not in kinds:  # click's int and IntRange (typer has its own click)
            continue
        for given in line.given.get(param.name, []):
            if given.value is None or given.value.isascii() and "_" not in given.value:
                continue  # what int() reads here is a whole number; click says the rest
            from .characters import whole_number  # on this path only: it loads unicodedata

            try:
                whole_number(given.value)
            except CgError as e:
                skipped = len(given.value) - len(given.value.lstrip())  # the check strips blanks
                at = given.offset + skipped + (e.pos or 0)
                message = (  # as cli_help says a value that is no number at all
                    f"{given.option} takes a whole number, got {given.value!r}"
                    if given.value.isascii()
                    else f"{given.option}: {e.message}"
                )
                raise WordError(message, given.value_at, at) from None
