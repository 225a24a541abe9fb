"""Shell completion: `cg --show-completion [SHELL]` prints the script a shell sources,
`cg --install-completion [SHELL]` writes it where the shell looks and says every file it wrote
or changed. The script runs cg with _CG_COMPLETE set (typer's protocol); what completes after
each word is declared with the options (cli_help)."""

from __future__ import annotations

from pathlib import Path

import typer

from .cli_args import WordError
from .errors import CgError

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
SHOW, INSTALL = "--show-completion", "--install-completion"
COMPLETE_VAR = "_CG_COMPLETE"

# where each shell finds cg's script, and the line its startup file needs to load it (relative
# to the home folder); PowerShell's profile is typer's to find and extend
INSTALLED = {
    "bash": (".bash_completions/cg.sh", ".bashrc", "source ~/.bash_completions/cg.sh"),
    "zsh": (".zfunc/_cg", ".zshrc", "fpath+=~/.zfunc; autoload -Uz compinit; compinit"),
    "fish": (".config/fish/completions/cg.fish", None, None),
}


def options() -> list:
    """The two options, for `cg --help` and completion; cg reads their words itself (asked)."""
    from typer.core import TyperOption

    def option(spelling: str, help: str):
        option = TyperOption(
            param_decls=[spelling], type=str, metavar="[SHELL]", expose_value=False, help=help
        )
        option._custom_shell_complete = lambda ctx, param, incomplete: [
            s for s in SHELLS if s.startswith(incomplete)
        ]
        return option

    return [
        option(SHOW, "Print the completion script of SHELL (bash, zsh, fish; default: this one)."),
        option(INSTALL, "Install completion for SHELL (default: this one), saying what it writes."),
    ]


def prepare() -> None:
    """typer's completion for each shell, registered with click when a shell asks cg to complete
    a word (registering costs an import on every run)."""
    import os

    if os.environ.get(COMPLETE_VAR):
        from typer._completion_classes import completion_init

        completion_init()


def asked(words: list[str]) -> None:
    """When the first word asks for completion, do it and exit: --show-completion [SHELL] or
    --install-completion [SHELL] (the word after it, if any, names the shell)."""
    if not words or words[0].partition("=")[0] not in (SHOW, INSTALL):
        return
    spelled, eq, shell = words[0].partition("=")
    if not eq and len(words) > 1:
        shell = words[1]
    if len(words) > 1 + (not eq):
        raise WordError(f"{spelled} takes one word, the shell's name", 1 + (not eq))
    shell = shell or _this_shell(spelled)
    if shell not in SHELLS:
        raise WordError(
            f"{spelled} {shell}: cg completes in {', '.join(SHELLS[:-1])} and {SHELLS[-1]}",
            0 if eq else 1,
        )
    if spelled == SHOW:
        typer.echo(script(shell))
    else:
        for line in install(shell):
            typer.echo(line)
    raise typer.Exit(0)


def _this_shell(spelled: str) -> str:
    from typer._completion_shared import _get_shell_name

    shell = _get_shell_name()
    if shell is None:
        raise WordError(f"cannot tell which shell runs cg: name it ({spelled} bash)", 0)
    return shell


def script(shell: str) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="cg", complete_var=COMPLETE_VAR, shell=shell)


def install(shell: str) -> list[str]:
    """Write the script where the shell looks for it, add the line that loads it to the shell's
    startup file when the line is not there yet; the lines that say what was written."""
    from . import files

    if shell not in INSTALLED:  # PowerShell: typer's installer asks it for its profile
        from typer._completion_shared import install as typer_install

        try:
            _, path = typer_install(shell=shell, prog_name="cg", complete_var=COMPLETE_VAR)
        except OSError as e:  # PowerShell is not installed
            raise CgError(f"cannot install completion: {e.filename}: {e.strerror}") from None
        return [f"cg: {shell} completion added to {path}", "It takes effect in a new shell."]
    where, startup, line = INSTALLED[shell]
    home = Path.home()
    path = home / where
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_bytes(path, (script(shell) + "\n").encode())
        said = [f"cg: {shell} completion written to {path}"]
        if startup is not None:
            rc = home / startup
            old = rc.read_text(encoding="utf-8") if rc.exists() else ""
            if line not in old.splitlines():
                ending = "" if old.endswith("\n") or not old else "\n"
                files.write_bytes(rc, f"{old}{ending}{line}\n".encode())
                said.append(f"cg: added to {rc}: {line}")
    except OSError as e:
        raise CgError(f"cannot install completion: {e.filename}: {e.strerror}") from None
    return [*said, "It takes effect in a new shell."]
