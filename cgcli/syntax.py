"""Text → computation graph, through the grammar in grammar/cg.lark.

The LALR parser calls one method of GraphMaker per reduced rule, while it
parses: the graph is built bottom-up from the parser's own stack, and no
parse tree is ever made, so nothing here recurses over the expression.
Every value passed between the methods is a Ref: a node id and the span of
source text it came from.
"""

from __future__ import annotations

from typing import NamedTuple

from . import _lalr
from .errors import CgError
from .graph import Graph, GraphBuilder
from .ops import CONSTANTS, FUNCTIONS

_OPERAND_END = {"NUMBER", "NAME", "RPAR"}
_OPERAND_START = {"NUMBER", "NAME", "LPAR"}
_SHOWN = {
    "$END": "end of input",
    "_NL": "a new line",
    "SEMICOLON": "';'",
}


class Ref(NamedTuple):
    node: int
    start: int
    end: int


class ParenLines:
    """Post-lexer: a newline inside parentheses continues the line, as in Python.

    It also remembers the last two tokens and the open parentheses, for error messages.
    """

    always_accept = ("_NL",)

    def __init__(self):
        self.open: list[int] = []  # positions of unclosed '('
        self.prev = None
        self.last = None
        self.unmatched = None  # a ')' with no '(' open

    def process(self, stream):
        for tok in stream:
            if tok.type == "_NL" and self.open:
                continue
            if tok.type == "LPAR":
                self.open.append(tok.start_pos)
            elif tok.type == "RPAR":
                if self.open:
                    self.open.pop()
                else:
                    self.unmatched = tok
            self.prev, self.last = self.last, tok
            yield tok


class GraphMaker:
    """The parser's callbacks: each grammar alternative maps to one graph operation."""

    def __init__(self, source: str):
        self.source = source
        self.build = GraphBuilder(source)
        self.scope: dict[str, int] = {}  # statement names bound so far
        self.statements: list[tuple[str, object]] = []  # name, node
        self.used: set[int] = set()  # statements whose name was used after them
        self.statement_of: dict[str, int] = {}  # name → its latest statement

    # leaves
    def number(self, c):
        (tok,) = c
        return Ref(self.build.const(float(tok), tok.start_pos, tok.end_pos), tok.start_pos, tok.end_pos)

    def name(self, c):
        (tok,) = c
        start, end = tok.start_pos, tok.end_pos
        if tok in self.scope:
            self.used.add(self.statement_of[tok])
            return Ref(self.scope[tok], start, end)
        if tok in CONSTANTS:
            node = self.build.const(CONSTANTS[tok], start, end)
            self.build.label(node, str(tok))
            return Ref(node, start, end)
        return Ref(self.build.var(str(tok), start, end), start, end)

    # operators
    def _binary(self, op, c):
        a, _, b = c
        return Ref(self.build.apply(op, (a.node, b.node), a.start, b.end), a.start, b.end)

    def add(self, c):
        return self._binary("add", c)

    def sub(self, c):
        return self._binary("sub", c)

    def mul(self, c):
        return self._binary("mul", c)

    def div(self, c):
        return self._binary("div", c)

    def pow(self, c):
        return self._binary("pow", c)

    def neg(self, c):
        tok, a = c
        return Ref(self.build.apply("neg", (a.node,), tok.start_pos, a.end), tok.start_pos, a.end)

    def pos(self, c):
        tok, a = c  # unary plus is the identity: no gate
        return Ref(a.node, tok.start_pos, a.end)

    def paren(self, c):
        lpar, a, rpar = c
        return Ref(a.node, lpar.start_pos, rpar.end_pos)

    def call(self, c):
        tok, rpar = c[0], c[-1]
        args = [a for a in c[2:-1] if isinstance(a, Ref)]
        op = FUNCTIONS.get(tok)
        if op is None:
            raise CgError(_unknown_function(str(tok)), self.source, tok.start_pos)
        if len(args) != op.arity:
            raise CgError(
                f"{tok}() takes {op.arity} argument{'s' * (op.arity > 1)}, got {len(args)}",
                self.source,
                tok.start_pos,
            )
        node = self.build.apply(op.name, tuple(a.node for a in args), tok.start_pos, rpar.end_pos)
        return Ref(node, tok.start_pos, rpar.end_pos)

    # programs
    def assign(self, c):
        tok, _, value = c
        self.scope[str(tok)] = value.node
        self.statement_of[str(tok)] = len(self.statements)
        self.build.label(value.node, str(tok))
        self.statements.append((str(tok), self.build.graph.nodes[value.node]))
        return None

    def start(self, c):
        result = [r for r in c if isinstance(r, Ref)][-1]
        graph = self.build.finish(result.node)
        kept = {id(n) for n in graph.nodes}
        for i, (name, node) in enumerate(self.statements):
            if id(node) not in kept or i not in self.used:
                graph.warnings.append(f"statement '{name}' is not used by the result")
        return graph


def _unknown_function(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else f"; to multiply, write {name}*(…)"
    return f"unknown function '{name}'{hint}"


def check_text(source: str) -> None:
    """Reject text that cannot be an expression before parsing it: control characters."""
    for i, ch in enumerate(source):
        if not ch.isprintable() and ch not in "\n\t\r\f":
            what = "a NUL byte" if ch == "\0" else f"the control character U+{ord(ch):04X}"
            raise CgError(f"input contains {what}; expressions are text", source, i)


def parse(source: str) -> Graph:
    """Parse a cg program into its computation graph; CgError on bad input."""
    check_text(source)
    if not source.strip() or _only_comments(source):
        raise CgError("empty expression", source, len(source))
    maker = GraphMaker(source)
    postlex = ParenLines()
    parser = _lalr.Lark_StandAlone(transformer=maker, postlex=postlex)
    try:
        graph = parser.parse(source)
    except _lalr.UnexpectedCharacters as e:
        raise CgError(f"unexpected character {source[e.pos_in_stream]!r}", source, e.pos_in_stream) from None
    except _lalr.UnexpectedToken as e:
        raise _syntax_error(source, e, postlex) from None
    return graph


def _only_comments(source: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


def _show(tok) -> str:
    return _SHOWN.get(tok.type, repr(str(tok)))


def _syntax_error(source: str, e, postlex: ParenLines) -> CgError:
    tok, prev = e.token, postlex.prev if e.token.type != "$END" else postlex.last
    if tok.type == "$END":
        end = len(source)
        if "NUMBER" in e.expected:
            return CgError("unexpected end of input: expected a number, a name or '('", source, end)
        if postlex.open:
            return CgError("missing ')' at the end of the input", source, end)
        if "_NL" in e.expected:
            return CgError("the input ends with an assignment; the last statement must be the expression f", source, end)
        return CgError("unexpected end of input", source, end)
    pos = tok.start_pos
    if tok.type == "_NL":
        return CgError("unexpected new line: expected a number, a name or '('", source, pos)
    if prev is not None and prev.type in _OPERAND_END and tok.type in _OPERAND_START:
        if prev.type == "NAME" and prev in FUNCTIONS and tok.type != "LPAR":
            return CgError(f"function arguments need parentheses: write {prev}({tok})", source, pos)
        if prev.type == "NUMBER" and tok.type == "NAME":
            return CgError(f"implicit multiplication is not supported: write {prev}*{tok}", source, pos)
        if tok.type == "LPAR" or prev.type == "RPAR":
            return CgError(f"implicit multiplication is not supported: write '*' between {_show(prev)} and {_show(tok)}", source, pos)
        return CgError(f"missing operator between {_show(prev)} and {_show(tok)}", source, pos)
    if tok is postlex.unmatched:
        return CgError("unmatched ')'", source, pos)
    if "NUMBER" in e.expected:
        return CgError(f"unexpected {_show(tok)}: expected a number, a name or '('", source, pos)
    return CgError(f"unexpected {_show(tok)}: expected an operator", source, pos)

