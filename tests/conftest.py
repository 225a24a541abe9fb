"""Helpers shared by the tests: run cg in-process and as the installed binary."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cgcli.cli import app

REPO = Path(__file__).resolve().parent.parent
# the commands in the order `cg --help` lists them and a shell completes them (help is last)
COMMANDS = ["grad", "eval", "check", "diff", "hessian", "graph", "functions", "fusions", "grammar"]


def cg_binary() -> str:
    """The `cg` script installed next to this interpreter (or on PATH)."""
    here = Path(sys.executable).parent / "cg"
    found = str(here) if here.exists() else shutil.which("cg")
    if not found:
        pytest.fail("the cg script is not installed: pip install . first")
    return found


def _runner() -> CliRunner:
    try:  # click before 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:  # click 8.2 and typer's own copy keep them apart, and take no such argument
        return CliRunner()


def run_cli(args, input=None, env=None):
    """cg in-process through typer's CliRunner: (exit code, stdout, stderr)."""
    result = _runner().invoke(app, list(args), input=input, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def run_bin(args, input=None, env=None, cwd=None):
    """The installed cg in a subprocess: (exit code, stdout, stderr)."""
    full_env = dict(os.environ, **(env or {}))
    if isinstance(input, str):
        input = input.encode()
    proc = subprocess.run(
        [cg_binary(), *args], input=input, capture_output=True, env=full_env, cwd=cwd, timeout=120
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture(params=["in-process", "binary"])
def cg(request):
    """Run cg both ways: every test using this fixture checks both."""
    return run_cli if request.param == "in-process" else run_bin
