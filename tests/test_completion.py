"""Shell completion through the installed cg: the script each shell sources, bash's completion
function run on partial command lines, fish's own completer, zsh's protocol, and installing."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import COMMANDS, cg_binary, run_bin

BIN = str(Path(cg_binary()).parent)


def script(shell: str) -> str:
    code, out, err = run_bin(["--show-completion", shell])
    assert (code, err) == (0, ""), err
    return out


def env_with_cg() -> dict:
    return dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")


def bash_completes(*words: str) -> list[str]:
    """COMPREPLY of bash's completion function for the command line `words` (the last one being
    completed), with the script `cg --show-completion bash` prints sourced."""
    program = (
        'source /dev/stdin <<< "$CG_SCRIPT"\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()\n'
        "_cg_completion cg\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "-c", program, "bash", *words],
        capture_output=True,
        env=dict(env_with_cg(), CG_SCRIPT=script("bash")),
        timeout=60,
    )
    assert proc.stderr == b"", proc.stderr.decode()
    return [line for line in proc.stdout.decode().splitlines() if line]


def test_the_bash_script_registers_its_function_with_file_names_as_the_fallback():
    proc = subprocess.run(
        ["bash", "-c", 'source /dev/stdin <<< "$CG_SCRIPT"; complete -p cg'],
        capture_output=True,
        env=dict(os.environ, CG_SCRIPT=script("bash")),
    )
    assert proc.stdout.decode().strip() == "complete -o default -F _cg_completion cg"


@pytest.mark.parametrize(
    "words, expected",
    [
        (["cg", ""], [*COMMANDS, "help"]),
        (["cg", "gr"], ["grad", "graph", "grammar"]),
        (["cg", "grad", "--fo"], ["--format"]),
        (["cg", "check", "x", "--x", "1", "--exp"], ["--expect", "--expect-grad"]),
        (
            ["cg", "grad", "x", "--x", "1", "--format", ""],
            ["human", "json", "plain", "csv", "tree", "table", "text"],
        ),
        (["cg", "eval", "--format=j"], ["json"]),
        (["cg", "grad", "--fuse", "so"], ["softplus", "softmax"]),
        (["cg", "grad", "--fuse", "sigmoid,so"], ["sigmoid,softplus", "sigmoid,softmax"]),
        (["cg", "functions", "log1"], ["log10", "log1p"]),
        (["cg", "help", "h"], ["hessian", "help"]),
        (["cg", "--show-completion", "f"], ["fish"]),
        (["cg", "--ver"], ["--version"]),
        # nothing to offer: bash falls back to file names (complete -o default)
        (["cg", "grad", "-f", ""], []),
        (["cg", "grad", "x", "--points", ""], []),
        (["cg", "check", "--cases", "a.toml", "--cases", "ch"], []),
        (["cg", "check", "x", "--junit", ""], []),
        (["cg", "graph", "x", "-o", ""], []),
        # words cg would refuse do not stop completion, nor print anything
        (["cg", "grad", "(x", "--x", "--fo"], ["--format"]),
        (["cg", "grad", "--bogus", "--wr"], ["--wrt"]),
        (["cg", "--version", "he"], ["hessian", "help"]),
    ],
)
def test_bash_completes(words, expected):
    assert bash_completes(*words) == expected


def test_every_option_of_a_command_is_offered():
    offered = bash_completes("cg", "check", "--")
    for option in ("--cases", "--junit", "--format", "--fuse", "--expect-grad", "--help"):
        assert option in offered


def test_fish_completes_with_the_script(tmp_path):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    (tmp_path / "cg.fish").write_text(script("fish"))
    program = 'source cg.fish; complete -C "cg gr"; complete -C "cg grad --format "'
    proc = subprocess.run(
        ["fish", "--no-config", "-c", program], capture_output=True, env=env_with_cg(), cwd=tmp_path
    )
    offered = [line.split("\t")[0] for line in proc.stdout.decode().splitlines()]
    assert offered == [  # fish sorts
        *("grad", "grammar", "graph"),
        *("csv", "human", "json", "plain", "table", "text", "tree"),
    ]
    assert subprocess.run(["fish", "--no-execute", tmp_path / "cg.fish"]).returncode == 0


def test_the_zsh_script_is_valid_zsh_and_the_protocol_answers():
    if shutil.which("zsh") is not None:
        proc = subprocess.run(["zsh", "-n"], input=script("zsh").encode(), capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()
    assert "compdef _cg_completion cg" in script("zsh")
    code, out, err = run_bin(
        [], env={"_CG_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "cg grad --format j"}
    )
    assert (code, out.strip(), err) == (0, """_arguments '*: :(("json"))'""", "")
    code, out, err = run_bin(
        [], env={"_CG_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "cg grad -f "}
    )
    assert out.strip() == "_files"  # zsh's own file-name completion


def test_powershell_script_is_printed():
    assert "Register-ArgumentCompleter -Native -CommandName cg" in script("pwsh")


def test_a_shell_cg_does_not_complete_in_is_an_error():
    code, out, err = run_bin(["--show-completion", "tcsh"])
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == (
        "cg: error: --show-completion tcsh: cg completes in bash, zsh, fish, powershell and pwsh"
    )


def test_install_writes_the_script_and_adds_one_line_to_the_startup_file(tmp_path):
    home = {"HOME": str(tmp_path)}
    (tmp_path / ".bashrc").write_text("alias ll='ls -l'")  # no newline at its end
    code, out, err = run_bin(["--install-completion", "bash"], env=home)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"cg: bash completion written to {tmp_path}/.bash_completions/cg.sh",
        f"cg: added to {tmp_path}/.bashrc: source ~/.bash_completions/cg.sh",
        "It takes effect in a new shell.",
    ]
    assert (tmp_path / ".bash_completions/cg.sh").read_text() == script("bash")
    assert (tmp_path / ".bashrc").read_text() == (
        "alias ll='ls -l'\nsource ~/.bash_completions/cg.sh\n"
    )
    code, out, err = run_bin(["--install-completion", "bash"], env=home)  # again: no new line
    assert "added" not in out
    assert (tmp_path / ".bashrc").read_text().count("cg.sh") == 1
    code, out, err = run_bin(["--install-completion=fish"], env=home)
    assert (tmp_path / ".config/fish/completions/cg.fish").read_text() == script("fish")
    assert len(out.splitlines()) == 2  # fish reads its completions folder: no startup file


def test_install_for_a_powershell_that_is_not_there_is_an_error(tmp_path):
    if shutil.which("pwsh") is not None:
        pytest.skip("PowerShell is installed")
    code, out, err = run_bin(["--install-completion", "pwsh"], env={"HOME": str(tmp_path)})
    assert (code, out) == (2, "")
    assert err == "cg: error: cannot install completion: pwsh: No such file or directory\n"
