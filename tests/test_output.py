"""What cg writes, through the installed cg: one --format vocabulary for every command, plain
`name value` lines, colours, ASCII terminals, narrow tables, and writes that fail."""

import json
import math

import pytest
from conftest import run_bin

from cgcli.api import grad

# each command with a point to run it at, and what its json holds
COMMANDS = {
    "grad": ["grad", "x*y + sin(x)", "--x", "1", "--y", "2"],
    "eval": ["eval", "x*y + sin(x)", "--x", "1", "--y", "2"],
    "check": ["check", "x*y + sin(x)", "--x", "1", "--y", "2"],
    "diff": ["diff", "x*y + sin(x)"],
    "hessian": ["hessian", "x*y + sin(x)", "--x", "1", "--y", "2"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_human_and_its_other_names_json_and_plain(command):
    args = COMMANDS[command]
    code, default, err = run_bin(args)
    assert (code, err) == (0, "")
    for name in ("human", "tree", "table", "text"):
        assert run_bin([*args, "--format", name]) == (0, default, ""), name
    code, out, err = run_bin([*args, "--format", "json"])
    assert (code, err) == (0, "") and isinstance(json.loads(out), dict)
    code, out, err = run_bin([*args, "--format", "plain"])
    assert (code, err) == (0, "")
    assert all(len(line.split(" ", 1)) == 2 for line in out.splitlines()), out


def test_csv_is_for_the_commands_that_write_points():
    code, out, err = run_bin([*COMMANDS["hessian"], "--format", "csv"])
    assert code == 2 and "'csv' is not one of 'human', 'json', 'plain'" in err


def test_plain_reads_with_while_read_name_value():
    want = grad("x*y + sin(x)", {"x": 1, "y": 2})
    code, out, err = run_bin([*COMMANDS["grad"], "--format", "plain"])
    pairs = [line.split(" ") for line in out.splitlines()]
    assert [name for name, _ in pairs] == ["f", "x", "y"]
    assert [float(v) for _, v in pairs] == [want.value, want.gradients["x"], want.gradients["y"]]


def test_check_plain_says_the_counts_and_the_status_last():
    code, out, err = run_bin([*COMMANDS["check"], "--random", "3", "--format", "plain"])
    assert (code, err) == (0, "")
    assert out.splitlines() == ["pass 8", "status pass"]  # 2 gradients at 4 points
    code, out, err = run_bin(
        ["check", "x*x", "--x", "3", "--expect-grad", "x=5", "--format", "plain"]
    )
    assert (code, out.splitlines()) == (1, ["pass 1", "fail 1", "status fail"])


def test_diff_plain_is_one_program_per_line_that_cg_eval_reads():
    expr = "sin(x*y)*exp(x*y)"
    code, out, err = run_bin(["diff", expr, "--format", "plain"])
    assert (code, err) == (0, "")
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert list(lines) == ["x", "y"] and "; " in lines["x"]  # a statement and the result
    want = grad(expr, {"x": 0.5, "y": 2})
    for name, program in lines.items():
        code, value, err = run_bin(["eval", program, "--x", "0.5", "--y", "2", "--format", "plain"])
        assert code == 0, err
        assert math.isclose(float(value.split()[1]), want.gradients[name], rel_tol=1e-14)


# ---------------------------------------------------------------------------
# writes that fail


def _to_dev_full(args):
    import subprocess

    from conftest import cg_binary

    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [cg_binary(), *args], stdout=full, stderr=subprocess.PIPE, timeout=120
        )
    return proc.returncode, proc.stderr.decode()


@pytest.mark.parametrize(
    "args",
    [
        COMMANDS["grad"],
        [*COMMANDS["grad"], "--format", "json"],
        ["grad", "x", "--x", "1,2", "--format", "csv"],
        COMMANDS["check"],
        COMMANDS["diff"],
        [*COMMANDS["hessian"], "--format", "plain"],
        ["functions"],
        ["--help"],
        ["grad", "--help"],
        ["--version"],
    ],
)
def test_a_full_disk_is_one_line_and_exit_4(args):
    code, err = _to_dev_full(args)
    assert (code, err) == (4, "cg: error: cannot write standard output: No space left on device\n")
