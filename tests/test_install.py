"""The installed wheel works on its own: it carries the grammar and runs from any directory.

.ci/run installs cg non-editable into a fresh venv and sets CG_REQUIRE_INSTALLED=1,
so there these tests must see the installed package, not this checkout.
"""

import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from conftest import REPO, run_bin

import cgcli

FROM_CHECKOUT = Path(cgcli.__file__).resolve().is_relative_to(REPO)


@pytest.fixture
def installed():
    if FROM_CHECKOUT:
        if os.environ.get("CG_REQUIRE_INSTALLED"):
            pytest.fail(
                f"cgcli was imported from the checkout ({cgcli.__file__}), not from the installed wheel"
            )
        pytest.skip("cgcli is imported from the checkout; .ci/run tests the installed wheel")


def test_wheel_carries_the_grammar(installed):
    packaged = files("cgcli") / "grammar" / "cg.lark"
    assert packaged.read_text(encoding="utf-8") == (REPO / "grammar" / "cg.lark").read_text(
        encoding="utf-8"
    )


def test_installed_cg_runs_from_another_directory(tmp_path):
    code, out, err = run_bin(
        ["grad", "(x+y)**2", "--x", "1", "--y", "2", "--format", "plain"], cwd=tmp_path
    )
    assert (code, out, err) == (0, "f 9\nx 6\ny 6\n", "")
    code, out, err = run_bin(["grammar"], cwd=tmp_path)
    assert code == 0 and out == (REPO / "grammar" / "cg.lark").read_text(encoding="utf-8")


def test_installed_cg_does_not_use_the_checkout(installed, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", "import cgcli; print(cgcli.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert not Path(proc.stdout.strip()).resolve().is_relative_to(REPO)
