"""Text → computation graph, through the grammar in grammar/cg.lark.

lark computes the grammar's LALR(1) tables once, at development time
(grammar/make_parser.py writes them to cgcli/_tables.py). Here a regular
expression cuts the text into tokens and a loop drives the tables: shift a
token, or reduce a rule by calling the GraphMaker method named after it. The
graph is built bottom-up from the parser's own stack; no parse tree is ever
made and nothing recurses over the expression. Every value the methods pass
around is a plain tuple (node id, start, end): the node and the span of source
text it came from.
"""

from __future__ import annotations

import re
from functools import partialmethod
from typing import NamedTuple

from . import _tables
from .errors import CgError
from .graph import Graph, GraphBuilder, cycle_collector_paused
from .ops import CONSTANTS, FUNCTIONS

_OPERAND_END = {"NUMBER", "NAME", "RPAR"}
_OPERAND_START = {"NUMBER", "NAME", "LPAR"}
_SHOWN = {
    "$END": "end of input",
    "_NL": "a new line",
}
_TOKEN = re.compile(_tables.TOKEN_RE)
_KIND = [None] * (_TOKEN.groups + 1)  # a match's lastindex → the kind of token, as the tables name it
for _name, _index in _TOKEN.groupindex.items():
    _KIND[_index] = "$END" if _name == "_END" else _name
_IGNORE = frozenset(_tables.IGNORE)
_LOOKED_AT = _IGNORE | {"_NL", "_BAD", "LPAR", "RPAR"}  # the kinds the lexer does more than pass on


class Token(NamedTuple):
    """A token, for error messages. The parser itself handles re.Match objects (cheaper: a 100,000-term
    sum has 900,000 tokens): kind _KIND[m.lastindex], text m.group(), span m.start() to m.end()."""

    type: str
    text: str
    start: int
    end: int

    @classmethod
    def of(cls, m: re.Match) -> "Token":
        return cls(_KIND[m.lastindex], m.group(), m.start(), m.end())


class SyntaxFailure(Exception):
    """The parser met a token it has no action for."""

    def __init__(self, token: re.Match, expected: set[str], lexer: "Lexer"):
        self.token, self.expected, self.lexer = Token.of(token), expected, lexer


class Lexer:
    """Cuts the text into tokens (re.Match objects); a newline inside parentheses continues the
    line, as in Python. The last token is $END, an empty match at the end of the text.

    It remembers the open parentheses and a ')' that closes none, for error messages.
    """

    def __init__(self, source: str):
        self.source = source
        self.open: list[int] = []  # positions of unclosed '('
        self.unmatched = None  # position of a ')' with no '(' open

    def __iter__(self):
        opened, kinds = self.open, _KIND
        for m in _TOKEN.finditer(self.source):
            kind = kinds[m.lastindex]
            if kind in _LOOKED_AT:
                if kind in _IGNORE or (kind == "_NL" and opened):
                    continue
                if kind == "_BAD":
                    raise CgError(f"unexpected character {m.group()!r}", self.source, m.start())
                if kind == "LPAR":
                    opened.append(m.start())
                elif kind == "RPAR":
                    if opened:
                        opened.pop()
                    elif self.unmatched is None:
                        self.unmatched = m.start()
            yield m


def token_before(source: str, tok: Token) -> Token | None:
    """The token just before `tok` (for error messages, which can afford to lex again)."""
    prev = None
    for m in Lexer(source):
        if m.start() >= tok.start:
            break
        prev = m
    return prev and Token.of(prev)


def run_tables(lexer: Lexer, callbacks):
    """The LALR loop: shift tokens, reduce rules by calling `callbacks`' methods."""
    actions, end_state, kinds = _tables.ACTIONS, _tables.END, _KIND
    # per rule: (rule's name, number of symbols, callback or None, children kept (None: all, as they are))
    rules = []
    for origin, size, name, keep, single in _tables.RULES:
        plain = keep == tuple((i, False) for i in range(size))
        rules.append((origin, size, getattr(callbacks, name) if name and not single else None, None if plain else keep, single))
    # Unit rules (?product: unary) only change the state on top of the stack. After a reduction,
    # the goto and the chain of unit rules that follows it depend only on (state below, rule's
    # name, token): followed once and remembered.
    gotos: dict[tuple, int] = {}
    state = _tables.START
    states, values = [state], []
    push_state, push_value = states.append, values.append
    for tok in lexer:
        kind = kinds[tok.lastindex]
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
            origin, size, method, keep, single = rules[~act]
            if single:  # not reached: a unit rule's symbol is always put there by a goto, which followed it
                states[-1] = state = _follow_unit_rules(actions, _tables.RULES, states[-2], state, kind)
                continue
            if size == 1 and keep is None and method is not None:  # number, name: replace the top
                values[-1] = method([values[-1]])
                del states[-1]
            else:
                children = values[-size:] if size else []
                if size:
                    del values[-size:]
                    del states[-size:]
                if keep is not None:
                    kids = []
                    for i, splice in keep:
                        if splice:
                            kids.extend(children[i])
                        else:
                            kids.append(children[i])
                    children = kids
                push_value(children if method is None else method(children))
            key = (states[-1], origin, kind)
            state = gotos.get(key)
            if state is None:
                below = states[-1]
                state = gotos[key] = _follow_unit_rules(actions, _tables.RULES, below, actions[below][origin], kind)
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
        text, (start, end) = tok.group(), tok.span()
        value = float(text)
        if value == 0 and text.lower().partition("e")[0].strip("0.") != "":
            # 1e-400 is 0 in float64: said, not silently changed (1e309, inf, is reported by the engine)
            self.build.graph.warnings.append(f"the number {text} is too small for float64: it becomes 0")
        return self.build.const(value, start, end), start, end

    def name(self, c):
        (tok,) = c
        name, (start, end) = tok.group(), tok.span()
        if name in self.scope:
            self.used.add(self.statement_of[name])
            return self.scope[name], start, end
        if name in CONSTANTS:
            node = self.build.const(CONSTANTS[name], start, end)
            self.build.label(node, name)
            return node, start, end
        return self.build.var(name, start, end), start, end

    # operators
    def _binary(self, op, c):
        (a, start, _), _, (b, _, end) = c
        return self.build.apply(op, (a, b), start, end), start, end

    add = partialmethod(_binary, "add")
    sub = partialmethod(_binary, "sub")
    mul = partialmethod(_binary, "mul")
    div = partialmethod(_binary, "div")
    pow = partialmethod(_binary, "pow")

    def neg(self, c):
        tok, (a, _, end) = c
        start = tok.start()
        return self.build.apply("neg", (a,), start, end), start, end

    def pos(self, c):
        tok, (a, _, end) = c  # unary plus is the identity: no gate
        return a, tok.start(), end

    def paren(self, c):
        lpar, (a, _, _), rpar = c
        return a, lpar.start(), rpar.end()

    def call(self, c):
        tok, args, start, end = c[0], c[2:-1], c[0].start(), c[-1].end()
        op = FUNCTIONS.get(tok.group())
        if op is None:
            raise CgError(_unknown_function(tok.group()), self.source, start)
        if len(args) != op.arity:
            raise CgError(f"{tok.group()}() takes {op.arity} argument{'s' * (op.arity > 1)}, got {len(args)}", self.source, start)
        inputs = (args[0][0],) if op.arity == 1 else tuple(node for node, _, _ in args)
        return self.build.apply(op.name, inputs, start, end), start, end

    # programs
    def assign(self, c):
        tok, (node, _, _) = c
        self.scope[tok.group()] = node
        self.statement_of[tok.group()] = len(self.statements)
        self.build.label(node, tok.group())
        self.statements.append((tok.group(), self.build.graph.nodes[node]))
        return None

    def start(self, c):
        result = [r for r in c if r is not None][-1]  # statements give None
        graph = self.build.finish(result[0])
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
        with cycle_collector_paused():
            return run_tables(lexer, GraphMaker(source))
    except SyntaxFailure as e:
        raise _syntax_error(source, e) from None


def _only_comments(source: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


def _show(tok) -> str:
    return _SHOWN.get(tok.type, repr(tok.text))


def _syntax_error(source: str, e: SyntaxFailure) -> CgError:
    tok, lexer = e.token, e.lexer
    prev = token_before(source, tok)
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
    if tok.type == "RPAR" and tok.start == lexer.unmatched:
        return CgError("unmatched ')'", source, pos)
    if "NUMBER" in e.expected:
        return CgError(f"unexpected {_show(tok)}: expected a number, a name or '('", source, pos)
    return CgError(f"unexpected {_show(tok)}: expected an operator", source, pos)
