"""Shell completion: `cg --show-completion [SHELL]` prints the script a shell sources,
`cg --install-completion [SHELL]` writes it where the shell looks and says every file it wrote
or changed. The script runs cg with _CG_COMPLETE set (typer's protocol); what completes after
each word is declared with the options (cli_help)."""

from __future__ import annotations

from pathlib import Path

import typer

from .cli_args import WordError

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
SHOW, INSTALL = "--show-completion", "--install-completion"
COMPLETE_VAR = "_CG_COMPLETE"

# the startup files typer's installer adds a line to, by shell (relative to the home folder)
_STARTUP = {"bash": ".bashrc", "zsh": ".zshrc"}


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
    """Install with typer's installer; the lines that say what it wrote and which startup file
    it changed (it adds a line to ~/.bashrc or ~/.zshrc when the line is not there)."""
    from typer._completion_shared import install as typer_install

    startup = Path.home() / _STARTUP[shell] if shell in _STARTUP else None
    before = _read(startup)
    _, path = typer_install(shell=shell, prog_name="cg", complete_var=COMPLETE_VAR)
    lines = [f"cg: {shell} completion written to {path}"]
    after = _read(startup)
    if after != before:
        new = after.removeprefix(before or "") if after.startswith(before or "") else ""
        added = "; ".join(line for line in new.splitlines() if line.strip())
        lines.append(f"cg: added to {startup}: {added}" if added else f"cg: changed {startup}")
    lines.append("It takes effect in a new shell.")
    return lines


def _read(path: Path | None) -> str | None:
    try:
        return path.read_text() if path is not None else None
    except OSError:
        return None
