"""cli_args: a command's words sorted into options, bindings and expression words, read against
the command's declared options (their click parameters), and errors shown with a caret."""

import shlex

import pytest
from conftest import run_bin, run_cli
from typer.main import get_command

from cgcli import __version__, cli_args
from cgcli.cli import app
from cgcli.cli_args import WordError
from cgcli.cli_input import names_gates, parses

GROUP = get_command(app)
COMMANDS = GROUP.commands


def read(words, command=None, **options):
    """Read `cg WORDS` as cg does: the first word names the command."""
    name = command or words[0]
    options.setdefault("is_expression", parses)
    options.setdefault("optional", {"--fuse": names_gates})
    options.setdefault("bindings", name not in ("functions", "fusions", "grammar"))
    return cli_args.read(COMMANDS[name], name, words[1:], words, COMMANDS, **options)


def refused(words) -> tuple[str, int, int]:
    """The message of the WordError reading `words` raises, and where its caret goes."""
    with pytest.raises(WordError) as caught:
        read(words)
    return caught.value.message, caught.value.at, caught.value.offset


def bindings(line):
    return [(b.name, b.value, b.spelled, b.at, b.value_at) for b in line.bindings]


def test_the_declared_options_come_from_the_click_parameters():
    options = cli_args.Options.of(COMMANDS["grad"])
    assert {"--format", "--output", "-o", "--nodes", "--no-nodes", "--var", "-v"} <= set(
        options.by_word
    )
    assert "--explain" not in options.takes_value and "--no-nodes" not in options.takes_value
    assert {"--format", "-o", "--dir", "-f"} <= options.takes_value
    assert options.long_of("-o") == "--output"


def test_words_are_sorted_into_options_bindings_and_the_expression():
    line = read(["grad", "(x+y)**2", "--x", "1", "--y=2", "-v", "z=3", "--format", "json"])
    assert line.exprs == [("(x+y)**2", 1)]
    assert bindings(line) == [
        ("x", "1", "--x", 2, 3),
        ("y", "2", "--y", 4, 4),
        ("z", "3", "--var z", 6, 6),
    ]
    assert [(g.option, g.value, g.at, g.value_at) for g in line.given["format"]] == [
        ("--format", "json", 7, 8)
    ]
    # click gets the declared options alone, each as --long=VALUE
    assert line.for_click == ["--var=z=3", "--format=json"]


@pytest.mark.parametrize("value", ["-log(2)", "-2.5e-3", "-inf", "--", "-o"])
def test_a_bindings_value_is_the_next_word_whatever_it_starts_with(value):
    words = ["grad", "x", "--x", value]
    if value in ("--", "-o"):  # a word that cannot be a value: the binding has none
        assert refused(words) == ("--x needs a value: --x VALUE", 2, 0)
    else:
        assert bindings(read(words)) == [("x", value, "--x", 2, 3)]


@pytest.mark.parametrize("expr", ["-x**3*cos(y)", "-softplus(-z)", "-floor(z)", "-x", "-cos(x"])
def test_a_word_that_starts_with_minus_and_is_no_option_is_an_expression(expr):
    line = read(["grad", expr, "--x", "1"])
    assert line.exprs == [(expr, 1)] and line.given == {}


def test_a_short_option_takes_its_value_attached_or_next():
    line = read(["grad", "x", "-oa.csv", "-vx=1"])
    given = line.given["output"][0]
    assert (given.value, given.at, given.value_at, given.offset) == ("a.csv", 2, 2, 2)
    assert bindings(line) == [("x", "1", "--var x", 3, 3)]
    assert read(["grad", "-f-"]).given["file"][0].value == "-"
    assert refused(["grad", "x", "-o=a.csv"]) == (
        "write -o a.csv or --output=a.csv (after a short option, '=' would be part of the value)",
        2,
        0,
    )


def test_short_options_clustered_keep_the_letters_no_option_has_as_an_expression():
    line = read(["eval", "-2o", "-x"])  # -2, and -o with the value -x
    assert line.exprs == [("-2", 1)]
    assert [(g.value, g.at, g.value_at) for g in line.given["output"]] == [("-x", 1, 2)]


def test_after_double_dash_every_word_is_an_expression_or_a_binding():
    line = read(["grad", "--format", "plain", "--", "-x", "--x", "1"])
    assert line.exprs == [("-x", 4)] and bindings(line) == [("x", "1", "--x", 5, 6)]
    assert refused(["grad", "--", "-x", "--x", "1", "--format", "plain"]) == (
        "--format is an option: give options before --",
        5,
        0,
    )


@pytest.mark.parametrize(
    "words, message, at",
    [
        (
            ["grad", "x", "--format", "csv", "--format", "json"],
            "--format is given twice: give it once",
            4,
        ),
        (["grad", "x", "--wrt", "x", "--wrt=x"], "--wrt is given twice: give it once", 4),
        (["grad", "x", "-oa.csv", "-ob.csv"], "-o is given twice: give it once", 3),
        (["grad", "x", "--x", "1", "--format"], "option '--format' requires an argument", 5),
        (["grad", "x", "-o"], "option '-o' requires an argument", 3),
        (["grad", "x", "--explain=3"], "option '--explain' does not take a value", 2),
        (["grad", "x", "--help=1"], "option '--help' does not take a value", 2),
        (
            ["grad", "x", "--x", "1", "--exlpain"],
            "unknown option --exlpain (did you mean --explain?)",
            4,
        ),
        (["eval", "x", "--explain"], "cg eval has no option --explain (cg grad has it)", 2),
        (["grad", "x", "--1x", "2"], "unknown option --1x", 2),
        (["grad", "x", "-v", "x"], "-v/--var takes NAME=VALUE, got 'x'", 3),
        (["grad", "x", "--fuse", "--fuse"], "--fuse is given twice", 3),
        (["graph", "x", "--x", "1"], "missing option '--output' / '-o'", 4),
        (["functions", "--bogus"], "no such option: --bogus", 1),
        (["fusions", "extra"], "got unexpected extra argument (extra)", 1),
    ],
)
def test_mistakes_are_refused_with_the_word_they_are_about(words, message, at):
    assert refused(words)[:2] == (message, at)


def test_other_commands_options_are_counted_over_every_command():
    assert cli_args.elsewhere("--wrt", "eval", COMMANDS) == (
        "cg eval has no option --wrt (cg grad, cg diff, cg hessian have it)"
    )
    assert cli_args.elsewhere("--wrt", "grad", COMMANDS) == ""


def test_fuse_takes_the_next_word_only_when_it_names_gates():
    assert read(["grad", "x", "--fuse", "sigmoid,relu"]).optional["--fuse"].value == "sigmoid,relu"
    assert read(["grad", "x", "--fuse", "sigmod"]).optional["--fuse"].value == "sigmod"  # a typo
    line = read(["grad", "--fuse", "x*y", "--x", "1"])
    assert line.optional["--fuse"].value is None and line.exprs == [("x*y", 2)]
    assert read(["grad", "x", "--fuse=relu"]).optional["--fuse"].value == "relu"


def test_help_wins_over_whatever_else_is_wrong():
    assert read(["graph", "--bogus", "--help"]).for_click == ["--help"]
    assert read(["grad", "x", "--x", "-h"]).for_click == ["--help"]  # -h too
    assert read(["functions", "-h"]).for_click == ["--help"]
    line = read(["eval", "--h", "2", "--", "-h"])  # after --, -h is the expression
    assert (line.exprs, bindings(line)) == ([("-h", 4)], [("h", "2", "--h", 1, 2)])


def test_a_format_written_as_an_option_is_refused_unless_it_has_a_value():
    said = "unknown option --json (did you mean --format json?); to bind a variable json, "
    assert refused(["grad", "x", "--json"]) == (said + "write -v json=VALUE", 2, 0)
    assert refused(["grad", "x", "--json", "--x", "1"])[:2] == (said + "write -v json=VALUE", 2)
    assert bindings(read(["grad", "json", "--json", "1"])) == [("json", "1", "--json", 2, 3)]


def test_the_fuse_option_is_declared_and_read_by_cg():
    assert "--fuse" in cli_args.option_words(COMMANDS["hessian"])
    line = read(["hessian", "x", "--fuse", "--x", "1"])
    assert (line.for_click, line.optional["--fuse"].value) == ([], None)
    assert read(["diff", "x", "--fuse=hypot"]).for_click == []


def test_an_option_that_took_no_value_before_a_second_expression_is_named():
    line = read(["grad", "explain*2", "--explain", "3"])
    with pytest.raises(WordError) as caught:
        cli_args.expression_word(line, "")
    assert (caught.value.message, caught.value.at) == (
        "--explain takes no value, so '3' was read as a second expression; "
        "to bind a variable explain, write -v explain=3",
        3,
    )


def test_the_words_before_the_command():
    cli_args.read_group(GROUP, ["--version"])
    cli_args.read_group(GROUP, ["grad", "--bogus"])  # the command's words are the command's
    with pytest.raises(WordError) as caught:
        cli_args.read_group(GROUP, ["gradd", "x"])
    assert (caught.value.message, caught.value.at) == (
        "no such command 'gradd' (did you mean grad?)",
        0,
    )
    with pytest.raises(WordError) as caught:
        cli_args.read_group(GROUP, ["--bogus"])
    assert caught.value.message == "no such option: --bogus"
    cli_args.read_group(GROUP, ["-h"])
    cli_args.read_group(GROUP, ["--show-completion", "bash"])  # an option's value, not a command


@pytest.mark.parametrize(
    "typed, at, offset, caret",
    [
        (["grad", "x", "--x", "1"], 2, 0, "cg grad x --x 1\n          ^"),
        (["grad", "x", "--format=xml"], 2, 9, "cg grad x --format=xml\n                   ^"),
        (["grad", "x*y", "--x", "1"], 1, 0, "cg grad 'x*y' --x 1\n         ^"),  # under the x
        (["grad", "x", "--x", ""], 3, 0, "cg grad x --x ''\n              ^"),  # under the quote
        (["grad"], 1, 0, "cg grad\n       ^"),  # after the last word
    ],
)
def test_the_caret_goes_under_the_word(typed, at, offset, caret):
    error = cli_args.on_command_line("wrong", typed, at, offset)
    line, under = caret.split("\n")
    assert error.render().splitlines() == ["cg: error: wrong", "  " + line, "  " + under]


def test_an_error_that_names_an_option_is_shown_under_it():
    line = read(["check", "x", "--box", "3:1", "--box", "x=0:1", "--random", "2"])
    assert cli_args.where_named("--box 3:1: the low end is above the high end", line) == 2
    assert cli_args.where_named("--box x: no such variable", line) == 4  # x=0:1 names x
    assert cli_args.where_named("--random: too many", line) == 6
    assert cli_args.where_named("--boxes are wrong", line) is None  # not the option --box


def test_variables_and_files_are_found_where_they_were_given():
    line = read(["grad", "x+y", "--x", "1", "-v", "y=2", "-f", "./prog.cg", "--points", "p.csv"])
    assert cli_args.value_word(line, "x") == 3 and cli_args.value_word(line, "y") == 5
    assert cli_args.value_word(line, "z") is None
    assert cli_args.file_word(line, "prog.cg") == 7 and cli_args.file_word(line, "p.csv") == 9


# ---------------------------------------------------------------------------
# cg's own options (--color, --ascii, --version) after the command, and a command's before it


def test_cgs_own_options_after_the_command_are_read_apart_from_the_commands():
    shared = [p for p in GROUP.params if p.expose_value]
    line = read(["grad", "x", "--color", "never", "--ascii", "--format", "plain"], shared=shared)
    assert [(g.option, g.value) for g in line.given["color"]] == [("--color", "never")]
    assert [g.option for g in line.given["ascii"]] == ["--ascii"]
    assert line.for_click == ["--format=plain"] and line.exprs == [("x", 1)]
    assert read(["functions", "log", "--color=never"], shared=shared).for_click == ["log"]


@pytest.mark.parametrize(
    "words, colours",
    [(["--color", "never"], False), (["--color=always"], True), (["--ascii"], False)],
)
def test_cgs_own_options_work_after_the_command(cg, words, colours):
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", *words])
    assert (code, err, "\x1b[" in out, out.startswith("f")) == (0, "", colours, not colours)
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", "--format", "plain", *words])
    assert (code, out, err) == (0, "f 2\nx 2\ny 1\n", "")


def test_ascii_after_the_command_writes_ascii():
    code, out, err = run_bin(["grad", "θ*2", "--θ", "1", "--ascii"])
    assert (code, err) == (0, "") and "df/d\\u03b8 = 2" in out and out.isascii()
    code, out, err = run_bin(["grad", "x", "--x", "1", "--version"])
    assert (code, out, err) == (0, f"cg {__version__}\n", "")


@pytest.mark.parametrize(
    "typed, message, under",
    [
        (
            ["--format", "json", "grad", "x", "--x", "1"],
            "--format is an option of cg grad: write it after the command "
            "(cg grad … --format json)",
            "--format",
        ),
        (
            ["-o", "a.csv", "eval", "x", "--x", "1"],
            "-o is an option of cg eval: write it after the command (cg eval … -o a.csv)",
            "-o",
        ),
        (
            ["--explain", "grad", "x", "--x", "1"],
            "--explain is an option of cg grad: write it after the command (cg grad … --explain)",
            "--explain",
        ),
        (  # the command's name is no value of --fuse
            ["--fuse", "grad", "x", "--x", "1"],
            "--fuse is an option of cg grad: write it after the command (cg grad … --fuse)",
            "--fuse",
        ),
        (["--bogus", "grad", "x"], "no such option: --bogus", "--bogus"),
        (
            ["--color", "never", "grad", "x", "--x", "1", "--color", "always"],
            "--color is given twice: give it once",
            "--color always",
        ),
        (
            ["grad", "x", "--x", "1", "--color", "bogus"],
            "invalid value for '--color': 'bogus' is not one of 'auto', 'always', 'never'",
            "bogus",
        ),
        (
            ["grad", "color*2", "--color", "never"],  # a variable color: bound with -v
            "no value for the variable color: --color is an option of cg, not a binding; "
            "bind the variable with -v color=never",
            None,
        ),
        (
            ["grad", "color*2", "--color", "3"],  # not a colour setting: the same advice
            "no value for the variable color: --color is an option of cg, not a binding; "
            "bind the variable with -v color=3",
            None,
        ),
    ],
)
def test_options_on_the_wrong_side_of_the_command(cg, typed, message, under):
    code, out, err = cg(typed)
    shown = "cg " + " ".join(shlex.quote(w) for w in typed)
    caret = (
        ["  color*2", "  ^"]
        if under is None
        else ["  " + shown, "  " + " " * shown.rindex(under) + "^"]
    )
    assert (code, out, err.splitlines()) == (2, "", [f"cg: error: {message}", *caret])


def test_a_variable_named_like_cgs_option_is_bound_with_v():
    code, out, err = run_bin(["grad", "color*2", "-v", "color=3", "--color", "never"])
    assert (code, err) == (0, "") and "∂f/∂color = 2" in out


@pytest.mark.parametrize(
    "args, at",
    [
        (["grad", "x+bogus", "--bogus", "--x", "1"], "--bogus"),
        (["grad", "x", "--x", "--y", "1"], "--x"),
        (["grad", "x*y", "--x", "--y=2"], "--x"),
    ],
)
def test_a_binding_followed_by_another_option_needs_a_value(args, at):
    """The next word is a binding or an option (--x 1), not this binding's value: its value would
    be a constant, and --x could only be the expression -(-x)."""
    code, out, err = run_cli(args)
    lines = err.splitlines()
    assert code == 2 and lines[0] == f"cg: error: {at} needs a value: {at} VALUE", err
    assert lines[2].index("^") == lines[1].index(f" {at} ") + 1
