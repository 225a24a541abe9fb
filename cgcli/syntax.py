"""Text → computation graph, through the grammar in grammar/cg.lark.

lark computes the grammar's LALR(1) tables once, at development time
(grammar/make_parser.py writes them to cgcli/_tables.py). Here a regular
expression cuts the text into tokens and a loop drives the tables: shift a
token, or reduce a rule by calling the GraphMaker method named after it. The
graph is built bottom-up from the parser's own stack; no parse tree is ever
made and nothing recurses over the expression. Every value the methods pass
around is a Ref: a node id and the span of source text it came from.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from . import _tables
from .errors import CgError
from .graph import Graph, GraphBuilder
from .ops import CONSTANTS, FUNCTIONS

_OPERAND_END = {"NUMBER", "NAME", "RPAR"}
_OPERAND_START = {"NUMBER", "NAME", "LPAR"}
_SHOWN = {
    "$END": "end of input",
    "_NL": "a new line",
}
_TOKEN = re.compile(_tables.TOKEN_RE)
_IGNORE = frozenset(_tables.IGNORE)


class Token(NamedTuple):
    type: str
    text: str
    start: int
    end: int


class Ref(NamedTuple):
    node: int
    start: int
    end: int


class SyntaxFailure(Exception):
    """The parser met a token it has no action for."""

    def __init__(self, token: Token, expected: set[str], lexer: "Lexer"):
        self.token, self.expected, self.lexer = token, expected, lexer


class Lexer:
    """Cuts the text into tokens; a newline inside parentheses continues the line, as in Python.

    It remembers the last two tokens and the open parentheses, for error messages.
    """

    def __init__(self, source: str):
        self.source = source
        self.open: list[int] = []  # positions of unclosed '('
        self.prev = self.last = None
        self.unmatched = None  # a ')' with no '(' open

    def __iter__(self):
        source, match, opened = self.source, _TOKEN.match, self.open
        pos, end = 0, len(source)
        while pos < end:
            m = match(source, pos)
            if m is None:
                raise CgError(f"unexpected character {source[pos]!r}", source, pos)
            kind, pos = m.lastgroup, m.end()
            if kind in _IGNORE or (kind == "_NL" and opened):
                continue
            tok = Token(kind, m.group(), m.start(), pos)
            if kind == "LPAR":
                opened.append(tok.start)
            elif kind == "RPAR":
                if opened:
                    opened.pop()
                else:
                    self.unmatched = tok
            self.prev, self.last = self.last, tok
            yield tok
        yield Token("$END", "", end, end)


def run_tables(lexer: Lexer, callbacks):
    """The LALR loop: shift tokens, reduce rules by calling `callbacks`' methods."""
    actions, rules, end_state = _tables.ACTIONS, _tables.RULES, _tables.END
    methods = {name: getattr(callbacks, name) for _, _, name, _, single in rules if name and not single}
    # Unit rules (?product: unary) only change the state on top of the stack; a chain of
    # them is followed once per (state below, state on top, token) and remembered.
    chains: dict[tuple, int] = {}
    state = _tables.START
    states, values = [state], []
    push_state, push_value = states.append, values.append
    for tok in lexer:
        kind = tok.type
        while True:
            act = actions[state].get(kind)
            if act is None:
                expected = {k for k in actions[state] if k.isupper() or k == "$END"}
                raise SyntaxFailure(tok, expected, lexer)
            if act >= 0:
                state = act
                push_state(state)
                push_value(tok)
                break
            origin, size, name, keep, single = rules[~act]
            if single:
                key = (states[-2], state, kind)
                top = chains.get(key)
                if top is None:
                    top = chains[key] = _follow_unit_rules(actions, rules, states[-2], state, kind)
                states[-1] = state = top
                continue
            children = values[-size:] if size else []
            if size:
                del values[-size:]
                del states[-size:]
            kids = []
            for i, splice in keep:
                if splice:
                    kids.extend(children[i])
                else:
                    kids.append(children[i])
            push_value(kids if name is None else methods[name](kids))
            state = actions[states[-1]][origin]
            if state == end_state:
                return values[-1]
            push_state(state)


def _follow_unit_rules(actions, rules, below: int, state: int, kind: str) -> int:
    act = actions[state].get(kind)
    while act is not None and act < 0 and rules[~act][4]:
        state = actions[below][rules[~act][0]]
        act = actions[state].get(kind)
    return state


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
        value = float(tok.text)
        if value == 0 and tok.text.lower().partition("e")[0].strip("0.") != "":
            # 1e-400 is 0 in float64: said, not silently changed (1e309, inf, is reported by the engine)
            self.build.graph.warnings.append(f"the number {tok.text} is too small for float64: it becomes 0")
        return Ref(self.build.const(value, tok.start, tok.end), tok.start, tok.end)

    def name(self, c):
        (tok,) = c
        name, start, end = tok.text, tok.start, tok.end
        if name in self.scope:
            self.used.add(self.statement_of[name])
            return Ref(self.scope[name], start, end)
        if name in CONSTANTS:
            node = self.build.const(CONSTANTS[name], start, end)
            self.build.label(node, name)
            return Ref(node, start, end)
        return Ref(self.build.var(name, start, end), start, end)

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
        return Ref(self.build.apply("neg", (a.node,), tok.start, a.end), tok.start, a.end)

    def pos(self, c):
        tok, a = c  # unary plus is the identity: no gate
        return Ref(a.node, tok.start, a.end)

    def paren(self, c):
        lpar, a, rpar = c
        return Ref(a.node, lpar.start, rpar.end)

    def call(self, c):
        tok, rpar = c[0], c[-1]
        args = c[2:-1]
        op = FUNCTIONS.get(tok.text)
        if op is None:
            raise CgError(_unknown_function(tok.text), self.source, tok.start)
        if len(args) != op.arity:
            raise CgError(
                f"{tok.text}() takes {op.arity} argument{'s' * (op.arity > 1)}, got {len(args)}",
                self.source,
                tok.start,
            )
        node = self.build.apply(op.name, tuple(a.node for a in args), tok.start, rpar.end)
        return Ref(node, tok.start, rpar.end)

    # programs
    def assign(self, c):
        tok, value = c
        self.scope[tok.text] = value.node
        self.statement_of[tok.text] = len(self.statements)
        self.build.label(value.node, tok.text)
        self.statements.append((tok.text, self.build.graph.nodes[value.node]))
        return None

    def start(self, c):
        result = [r for r in c if isinstance(r, Ref)][-1]
        graph = self.build.finish(result.node)
        kept = {id(n) for n in graph.nodes} if self.statements else set()
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
    if source.translate(_WHITESPACE).isprintable():  # the common case, checked in C
        return
    for i, ch in enumerate(source):
        if not ch.isprintable() and ch not in "\n\t\r\f":
            what = "a NUL byte" if ch == "\0" else f"the control character U+{ord(ch):04X}"
            raise CgError(f"input contains {what}; expressions are text", source, i)


_WHITESPACE = str.maketrans("", "", "\n\t\r\f")


def parse(source: str) -> Graph:
    """Parse a cg program into its computation graph; CgError on bad input."""
    check_text(source)
    if not source.strip() or _only_comments(source):
        raise CgError("empty expression", source, len(source))
    lexer = Lexer(source)
    try:
        return run_tables(lexer, GraphMaker(source))
    except SyntaxFailure as e:
        raise _syntax_error(source, e) from None


def _only_comments(source: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


def _show(tok) -> str:
    return _SHOWN.get(tok.type, repr(tok.text))


def _syntax_error(source: str, e: SyntaxFailure) -> CgError:
    tok, lexer = e.token, e.lexer
    prev = lexer.last if tok.type == "$END" else lexer.prev
    if tok.type == "$END":
        end = len(source)
        if "NUMBER" in e.expected:
            return CgError("unexpected end of input: expected a number, a name or '('", source, end)
        if lexer.open:
            return CgError("missing ')' at the end of the input", source, end)
        if "_NL" in e.expected:
            return CgError("the input ends with an assignment; the last statement must be the expression f", source, end)
        return CgError("unexpected end of input", source, end)
    pos = tok.start
    if tok.type == "_NL":
        return CgError("unexpected new line: expected a number, a name or '('", source, pos)
    if prev is not None and prev.type in _OPERAND_END and tok.type in _OPERAND_START:
        if prev.type == "NAME" and prev.text in FUNCTIONS and tok.type != "LPAR":
            return CgError(f"function arguments need parentheses: write {prev.text}({tok.text})", source, pos)
        if prev.type == "NUMBER" and tok.type == "NAME":
            return CgError(f"implicit multiplication is not supported: write {prev.text}*{tok.text}", source, pos)
        if tok.type == "LPAR" or prev.type == "RPAR":
            return CgError(f"implicit multiplication is not supported: write '*' between {_show(prev)} and {_show(tok)}", source, pos)
        return CgError(f"missing operator between {_show(prev)} and {_show(tok)}", source, pos)
    if tok is lexer.unmatched:
        return CgError("unmatched ')'", source, pos)
    if "NUMBER" in e.expected:
        return CgError(f"unexpected {_show(tok)}: expected a number, a name or '('", source, pos)
    return CgError(f"unexpected {_show(tok)}: expected an operator", source, pos)
