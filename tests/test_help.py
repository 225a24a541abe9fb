"""The help and the hints of the command line, through the installed cg: -h and `cg help`, every
option listed with an uppercase placeholder, each command's own examples (which run), the order
of the commands, and errors that say what to type instead."""

import re
import shlex
import shutil
import subprocess

import pytest
from conftest import COMMANDS, cg_binary, run_bin

WITH_EXPRESSION = ["grad", "eval", "check", "diff", "hessian", "graph"]


def help_of(*words, columns=80) -> str:
    code, out, err = run_bin([*words], env={"COLUMNS": str(columns)})
    assert (code, err) == (0, ""), err
    return out


def error_of(*words) -> str:
    code, out, err = run_bin(list(words))
    assert (code, out) == (2, ""), (out, err)
    return err.splitlines()[0]


# ---------------------------------------------------------------------------
# -h and cg help


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_h_and_cg_help_show_the_help(command):
    words = [command] if command else []
    full = help_of(*words, "--help")
    assert full.startswith(f"Usage: cg {command + ' ' if command else ''}[OPTIONS]")
    assert help_of(*words, "-h") == full
    assert help_of("help", *words) == full


def test_h_is_help_whatever_else_is_on_the_line():
    assert help_of("grad", "x*h", "--h", "1", "-h") == help_of("grad", "--help")


def test_a_variable_named_h_is_bound_with_double_dash_h_or_v():
    for binding in (["--h", "3"], ["-v", "h=3"]):
        code, out, err = run_bin(["grad", "h*h", *binding, "--format", "plain"])
        assert (code, out, err) == (0, "f 9\nh 6\n", "")
    # after --, -h is the expression
    code, out, err = run_bin(["eval", "--format", "plain", "--h", "3", "--", "-h"])
    assert (code, out) == (0, "f -3\n"), err


def test_cg_help_of_a_command_that_does_not_exist():
    assert error_of("help", "gard") == "cg: error: no such command 'gard' (did you mean grad?)"


# ---------------------------------------------------------------------------
# the Options list


def options_section(text: str) -> str:
    return text.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_listed_with_an_uppercase_placeholder(command):
    import typer.main

    from cgcli.cli import app

    declared = typer.main.get_command(app).commands[command].params
    listed = options_section(help_of(command, "--help", columns=200))
    for param in declared:
        if param.param_type_name == "option":
            for spelling in (*param.opts, *param.secondary_opts):
                assert re.search(rf"(^|[ ,/]){re.escape(spelling)}\b", listed, re.M), spelling
    # each option line: the spellings, then a placeholder in capitals (or none for a flag)
    for line in listed.splitlines():
        if line.startswith("  -"):
            spelled = re.match(r"  ((?:-[-\w]+(?:, | / )?)+)( \S+)?", line)
            placeholder = re.sub(r"\.[a-z]+", "", spelled.group(2) or "")  # FILE.toml: FILE
            assert placeholder == placeholder.upper(), line
            assert "<" not in placeholder, line


@pytest.mark.parametrize("command", COMMANDS)
def test_an_option_with_choices_names_them_in_its_help(command):
    """The placeholder of a choice is its option's name (FORMAT): the help text names the values."""
    import typer.main

    from cgcli.cli import app

    for param in typer.main.get_command(app).commands[command].params:
        for choice in getattr(param.type, "choices", []):
            assert choice in param.help, (param.name, choice)


@pytest.mark.parametrize("command", WITH_EXPRESSION)
def test_fuse_is_in_the_options_list(command):
    assert re.search(r"^  --fuse \[GATES\] ", options_section(help_of(command, "-h")), re.M)


def test_a_range_is_said_in_words():
    assert "[default: 1; at least 1]" in help_of("diff", "-h", columns=200)
    assert "[default: 4; from 1 to 17]" in help_of("graph", "-h", columns=200)
    assert error_of("diff", "x", "--order", "0") == "cg: error: --order must be at least 1, got 0"
    assert error_of("graph", "x", "--x", "1", "-o", "a.svg", "--digits", "18") == (
        "cg: error: --digits must be from 1 to 17, got 18"
    )
    assert error_of("check", "x", "--x", "1", "--seed", "1.5") == (
        "cg: error: --seed takes a whole number, got '1.5'"
    )


# ---------------------------------------------------------------------------
# examples and the order of the commands


def examples(text: str) -> list[str]:
    return text.split("Examples:\n\n", 1)[1].split("\n\n", 1)[0].splitlines()


@pytest.mark.parametrize("command", [c for c in WITH_EXPRESSION])
def test_each_command_shows_its_own_examples_each_on_one_line(command):
    narrow = examples(help_of(command, "--help", columns=60))
    assert narrow == examples(help_of(command, "--help", columns=200))
    assert len(narrow) >= 3
    for line in narrow:
        assert line.startswith("    "), line
        words = shlex.split(line)
        assert "cg" in words, line
        assert words[words.index("cg") + 1] in (command, "eval"), line  # eval "$(cg diff …)"
        assert len(line) <= 60, line


CASES = """\
[[case]]
name = "square"
expr = "(x+y)**2"
bindings = { x = 1, y = 2 }
"""


@pytest.mark.parametrize("command", [None, *WITH_EXPRESSION])
def test_the_examples_run(command, tmp_path):
    """Every example of a command's help, run by bash in a folder with the files it reads."""
    (tmp_path / "points.csv").write_text("x,y\n1,2\n3,4\n")
    (tmp_path / "checks.toml").write_text(CASES)
    path = f"{shutil.os.path.dirname(cg_binary())}:{shutil.os.environ['PATH']}"
    for line in examples(help_of(*([command] if command else []), "--help")):
        if ".svg" in line and shutil.which("dot") is None:
            continue  # an svg needs Graphviz
        proc = subprocess.run(
            ["bash", "-c", line.strip()], cwd=tmp_path, capture_output=True, env={"PATH": path}
        )
        assert proc.returncode == 0, (line, proc.stderr.decode())


def test_the_commands_are_listed_in_the_order_of_use():
    listed = help_of("--help").split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]
    assert names == [*COMMANDS, "help"]


# ---------------------------------------------------------------------------
# hints that lead somewhere


def test_a_variable_named_like_an_option_is_bound_with_v():
    assert error_of("check", "x+eps", "--x", "1", "--eps", "0.5") == (
        "cg: error: no value for the variable eps: --eps is an option of cg check, "
        "not a binding; bind the variable with -v eps=0.5"
    )
    assert error_of("grad", "dir*2", "--dir", "3").endswith(
        "--dir is an option of cg grad, not a binding; bind the variable with -v dir=3"
    )
    # said before --wrt 3 is read as a variable to differentiate by
    for command in ("grad", "hessian"):
        code, out, err = run_bin([command, "wrt*2", "--wrt", "3"])
        assert (code, out, err.splitlines()) == (
            2,
            "",
            [
                f"cg: error: no value for the variable wrt: --wrt is an option of cg {command}, "
                "not a binding; bind the variable with -v wrt=3",
                "  wrt*2",
                "  ^",
            ],
        )
    assert error_of("grad", "explain*2", "--explain", "3") == (
        "cg: error: --explain takes no value, so '3' was read as a second expression; "
        "to bind a variable explain, write -v explain=3"
    )
    code, out, err = run_bin(["check", "x+eps", "--x", "1", "-v", "eps=0.5", "--eps", "1e-4"])
    assert code == 0, err


@pytest.mark.parametrize(
    "typed, said",
    [
        ("--fus", "unknown option --fus (did you mean --fuse?)"),
        ("--formt", "unknown option --formt (did you mean --format?)"),
        ("--exlpain", "unknown option --exlpain (did you mean --explain?)"),
        ("--bogus", "--bogus needs a value: --bogus VALUE"),  # like no option: a binding
        ("--nods", "unknown option --nods (did you mean --nodes?)"),
    ],
)
def test_a_mistyped_option_suggests_only_an_option_it_is_close_to(typed, said):
    # the dashes every option has do not count: --bogus shares only "us" with --fuse
    assert error_of("grad", "x", "--x", "1", typed) == f"cg: error: {said}"


def test_fuse_with_a_word_that_is_no_gate_lists_the_gates():
    assert error_of("grad", "x", "--x", "1", "--fuse", "relu") == (
        "cg: error: --fuse relu: there is no gate relu; the gates are sigmoid, swish, tanh, "
        "softplus, logaddexp, hypot, asinh, logsigmoid, bce, log1p, expm1, pow1p, logsquare, versine, "
        "sqrt1pm1, logsumexp, softmax, logsoftmax (`cg fusions` shows them)"
    )


@pytest.mark.parametrize(
    "expr, hint",
    [
        ("ln(x)", "(did you mean log? cg's log is the natural logarithm)"),
        ("arctan(x)", "(did you mean atan?)"),
        ("arcsinh(x)", "(did you mean asinh?)"),
        ("sgn(x)", "(did you mean sign?)"),
        ("fabs(x)", "(did you mean abs?)"),
        ("sum(x, y)", "; write x + y instead"),
        ("sqr(x)", "; write x**2 instead"),
        ("sec(x)", "; write 1/cos(x) instead"),
        ("foo(x)", "(did you mean floor?)"),
        ("q(x)", "; to multiply, write q*(…)"),
    ],
)
def test_a_function_of_another_language_says_what_cg_calls_it(expr, hint):
    name = expr.split("(")[0]
    message = error_of("grad", expr, "--x", "1", "--y", "2")
    assert (
        message == f"cg: error: unknown function '{name}'" + (" " if hint[0] == "(" else "") + hint
    )


def test_every_name_a_hint_gives_is_a_function_or_parses():
    from cgcli import api
    from cgcli.ops import FUNCTIONS
    from cgcli.other_names import SAME_FUNCTION, WRITTEN_AS

    assert set(SAME_FUNCTION.values()) <= set(FUNCTIONS)
    assert not set(SAME_FUNCTION) & set(FUNCTIONS) and not set(WRITTEN_AS) & set(FUNCTIONS)
    for written in WRITTEN_AS.values():
        api.parse(written)


@pytest.mark.parametrize("word", ["--json", "--csv", "--plain", "--tree", "--table", "--text"])
def test_a_format_as_an_option_suggests_format(word):
    name = word[2:]
    said = (
        f"cg: error: unknown option {word} (did you mean --format {name}?); "
        f"to bind a variable {name}, write -v {name}=VALUE"
    )
    assert error_of("grad", "x", "--x", "1", word) == said
    assert error_of("grad", "x", word, "--x", "1") == said
    assert error_of("grad", word, "x", "--x", "1") == said
    # a variable of that name is still bound by --json VALUE
    code, out, err = run_bin(["eval", f"{name}*2", word, "3", "--format", "plain"])
    assert (code, out) == (0, "f 6\n"), err


def test_cg_functions_shows_the_rows_named():
    code, out, err = run_bin(["functions", "log", "+"])
    assert code == 0, err
    rows = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│ ")]
    assert [r for r in rows if r] == ["log(x)", "x + y"]  # in the order asked
    assert error_of("functions", "ln") == (
        "cg: error: no function or operator 'ln' (did you mean log? cg's log is the natural "
        "logarithm)"
    )


def test_in_a_terminal_of_60_columns_each_example_stays_on_one_line():
    """cg grad -h in a pseudo-terminal 60 columns wide (click reads the width from it)."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: cg on a terminal 60 columns wide; no COLUMNS to say otherwise
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 60, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        os.execve(cg_binary(), [cg_binary(), "grad", "-h"], env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert max(len(line) for line in text.splitlines()) <= 60
    assert examples(text) == examples(help_of("grad", "-h", columns=200))
