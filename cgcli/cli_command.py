"""How cg's commands read their words: click's group and command classes, with cg's own reading
of the command line (cgcli/cli_args.py) before click's, and cg's own options (--color, --ascii,
--version) taken after a command's name too."""

from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup

from . import api, cli_args, cli_completion, cli_help
from .cli_args import WordError
from .cli_errors import LINE, TYPED, shown
from .cli_input import names_gates, parses


class Commands(TyperGroup):
    """cg's commands: the words before the command's name are checked by cg (cli_args)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params += cli_completion.options()

    def list_commands(self, ctx):
        return cli_help.ordered(self.commands)

    def _main_shell_completion(self, ctx_args, prog_name, complete_var=None):
        cli_completion.prepare()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def parse_args(self, ctx, args):
        ctx.meta[TYPED] = list(args)
        if not ctx.resilient_parsing:  # not while a shell completes a word
            with shown(ctx):
                cli_completion.asked(args)
                cli_args.read_group(self, args)
        return super().parse_args(ctx, args)


class Command(TyperCommand):
    """A command whose words cg reads itself (cli_args.read) before click reads the options."""

    bindings = False  # whether it takes an expression and --NAME VALUE bindings

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.bindings:
            self.params.append(cli_help.fuse_option())
        for param in self.params:
            cli_help.shape(param)

    def parse_args(self, ctx, args):
        if ctx.resilient_parsing:  # a shell completes a word: whatever cg can read, no error
            try:
                line = self._read(ctx, args)
            except WordError:
                return super().parse_args(ctx, [])
            ctx.meta[LINE] = line
            return super().parse_args(ctx, line.for_click)
        with shown(ctx):
            line = self._read(ctx, args)
            ctx.meta[LINE] = line
            cli_args.whole_numbers(self, line)
            _apply_shared(ctx.parent, line, self.bindings)
            try:
                return super().parse_args(ctx, line.for_click)
            except typer.BadParameter as e:  # a value click could not convert (--format xml)
                given = line.given.get(e.param.name) if e.param is not None else None
                message = e.format_message().rstrip(".")
                if given:
                    said = cli_help.range_message(e.param, given[-1].option, given[-1].value)
                    message = said or message
                at = (given[-1].value_at, given[-1].offset) if given else (None, 0)
                raise WordError(message[:1].lower() + message[1:], *at) from None

    def _read(self, ctx, args) -> cli_args.Line:
        typed = ctx.meta.get(TYPED, list(args))
        return cli_args.read(
            self,
            ctx.info_name,
            list(args),
            typed,
            ctx.parent.command.commands,
            is_expression=parses,
            optional={"--fuse": names_gates},
            bindings=self.bindings,
            shared=_shared(ctx.parent.command),
        )


def _shared(group) -> list:
    """cg's own options (its callback's: --color, --ascii, --version), which every command takes
    after its name too. The completion options are cg's to read first (expose_value=False)."""
    return [param for param in group.params if param.expose_value]


def _apply_shared(group_ctx, line: cli_args.Line, bindings: bool) -> None:
    """cg's own options typed after the command (cg grad x --x 1 --color never): each checked as
    click checks it before the command, and cg's settings made again with them. One given on both
    sides of the command is given twice. A value that is not the option's (--color 3) where the
    expression has a variable of that name is left to the error for the unbound variable, which
    says to bind it with -v."""
    typed = [p for p in _shared(group_ctx.command) if p.name in line.given]
    for param in typed:
        given = line.given[param.name][-1]
        if getattr(group_ctx.get_parameter_source(param.name), "name", "") == "COMMANDLINE":
            raise WordError(f"{given.option} is given twice: give it once", given.at)
        try:
            value = param.process_value(group_ctx, True if given.value is None else given.value)
        except typer.BadParameter as e:
            if bindings and _a_variable(line, param.name):
                continue
            message = e.format_message().rstrip(".")
            raise WordError(
                message[:1].lower() + message[1:], given.value_at, given.offset
            ) from None
        group_ctx.params[param.name] = value
    if typed:
        group_ctx.invoke(group_ctx.command.callback, **group_ctx.params)


def _a_variable(line: cli_args.Line, name: str) -> bool:
    """Whether the expression typed on the command line has a variable `name`."""
    return any(parses(word) and name in api.parse(word).variables for word, _ in line.exprs)


class WithBindings(Command):
    """A command that reads an expression and binds its variables (`cg grad`, `cg check` …)."""

    bindings = True
