"""Text → computation graph, through the grammar in grammar/cg.lark.

lark computes the grammar's LALR(1) tables once, at development time
(grammar/make_parser.py writes them to cgcli/_tables.py). Here a regular
expression cuts the text into tokens and a loop drives the tables: shift a
token, or reduce a rule by calling the ParseCallbacks method named after it. The
graph is built bottom-up from the parser's own stack; no parse tree is ever
made and nothing recurses over the expression. Every value the methods pass
around is a plain tuple (node id, start, end): the node and the span of source
text it came from.
"""

from __future__ import annotations

import re
from functools import partial
from typing import NamedTuple

from . import _tables
from .errors import CgError
from .graph import Graph, GraphBuilder, cycle_collector_paused
from .ops import BINARY_OPERATORS, CONSTANTS, FUNCTIONS
from .text import closest

_OPERAND_END = {"NUMBER", "NAME", "RPAR"}
_OPERAND_START = {"NUMBER", "NAME", "LPAR"}
_SHOWN = {
    "$END": "end of input",
    "_NL": "a new line",
}
_TOKEN = re.compile(_tables.TOKEN_RE)
# a whole text that is one NAME of grammar/cg.lark, a variable's name: the token's own pattern
# (no superscript ², no digit other than 0-9), the first alternative of the tokenizer's
NAME = re.compile(_tables.TOKEN_RE.partition("(?P<NAME>)")[0] + r"\Z")
_SKIP = re.compile(_tables.SKIP_RE)  # blanks and comments, which each token swallows after itself
# Kinds of token are small numbers: the parser's action for (state, kind) is actions[state][kind].
KINDS = sorted(
    "$END" if name == "_END" else name for name in _TOKEN.groupindex
)  # kind number → name
_KIND = [None] * (_TOKEN.groups + 1)  # a match's lastindex → its kind number
for _name, _index in _TOKEN.groupindex.items():
    _KIND[_index] = KINDS.index("$END" if _name == "_END" else _name)
_NL, _LPAR, _RPAR = (KINDS.index(name) for name in ("_NL", "LPAR", "RPAR"))


class Token(NamedTuple):
    """A token, for error messages. The parser itself handles re.Match objects (cheaper: a 100,000-term
    sum has 900,000 tokens): kind _KIND[m.lastindex], span m.start() to m.end(m.lastindex) (m.end()
    includes the blanks and comments after the token)."""

    type: str
    text: str
    start: int
    end: int

    @classmethod
    def of(cls, m: re.Match) -> Token:
        start, end = m.start(), m.end(m.lastindex)
        return cls(KINDS[_KIND[m.lastindex]], m.string[start:end], start, end)


def _text(m: re.Match) -> str:
    """A token's text, without the blanks and comments it swallowed."""
    return m.string[m.start() : m.end(m.lastindex)]


class SyntaxFailure(Exception):
    """The parser met a token it has no action for."""

    def __init__(self, token: re.Match, expected: set[str]):
        self.token, self.expected = Token.of(token), expected


def tokens(source: str):
    """The tokens of the text (re.Match objects), the last one $END, an empty match at the end.

    Without a newline this is the regex's own iterator, at C speed. A newline inside parentheses
    continues the line, as in Python: text with newlines goes through Lexer, which drops those.
    Newlines only at the end (a file, a pipe) take the fast path too: they can be inside
    parentheses only when a ')' is missing, and parse() then asks Lexer for the error.
    """
    if _newline_inside(source):
        return iter(Lexer(source))
    return _matches(source)


def _newline_inside(source: str) -> bool:
    """A newline before the end of the text's last token: only Lexer knows whether it is in parentheses."""
    return "\n" in source.rstrip()


def _matches(source: str):
    return _TOKEN.finditer(
        source, _SKIP.match(source).end()
    )  # blanks at the very start: no token swallowed them


class Lexer:
    """Tokens one by one, keeping track of parentheses: newlines inside them are dropped, and it
    remembers the open ones and a ')' that closes none, for error messages."""

    def __init__(self, source: str):
        self.source = source
        self.open: list[int] = []  # positions of unclosed '('
        self.unmatched = None  # position of a ')' with no '(' open

    def __iter__(self):
        opened, kinds = self.open, _KIND
        for m in _matches(self.source):
            kind = kinds[m.lastindex]
            if kind == _NL and opened:
                continue
            if kind == _LPAR:
                opened.append(m.start())
            elif kind == _RPAR:
                if opened:
                    opened.pop()
                elif self.unmatched is None:
                    self.unmatched = m.start()
            yield m


def run_tables(tokens, callbacks):
    """The LALR loop: shift tokens (re.Match objects), reduce rules by calling `callbacks`' methods.

    A rule of one symbol with a callback (number, name) gets that symbol; a binary operator
    (add, sub, mul, div, pow) calls callbacks.binary(op, left, right); others get the list of
    their children.
    """
    actions, end_state, kinds = _ACTIONS, _tables.END, _KIND
    # per rule, at index ~rule (an action ~rule < 0 means "reduce by rule"): how its children reach
    # its callback, its number of symbols, the callback or None, which children it keeps, its gotos
    rules = [None] * len(_tables.RULES)
    for r, (_origin, size, name, keep, single) in enumerate(_tables.RULES):
        if name in BINARY:
            how, method = _BINARY, partial(callbacks.binary, name)
        elif keep != tuple((i, False) for i in range(size)):
            how, method = (
                _SOME,
                getattr(callbacks, name) if name else None,
            )  # drops or splices children
        elif not name or single:
            how, method = _LIST, None
        else:
            method = getattr(callbacks, name)
            how = _ONE if size == 1 else _CALL
        rules[~r] = (how, size, method, keep, _GOTOS[r])
    state = _tables.START
    states, values = [state], []
    push_state, push_value = states.append, values.append
    for tok in tokens:
        kind = kinds[tok.lastindex]
        while True:
            act = actions[state][kind]
            if act is None:
                raise SyntaxFailure(
                    tok, {KINDS[k] for k, a in enumerate(actions[state]) if a is not None}
                )
            if act >= 0:
                state = act
                push_state(state)
                push_value(tok)
                break
            how, size, method, keep, gotos = rules[act]
            if how is _ONE:  # number, name: replace the top
                values[-1] = method(values[-1])
                del states[-1]
            elif how is _BINARY:  # left, operator, right → one value
                right = values.pop()
                del values[-1]
                values[-1] = method(values[-1], right)
                del states[-3:]
            else:
                children = values[-size:]
                del values[-size:]
                del states[-size:]
                if how is _CALL:
                    push_value(method(children))
                elif how is _LIST:
                    push_value(children)
                else:
                    parts = keep
                    if keep and keep[0] == (0, True) and type(children[0]) is list:
                        # a list this loop made (statements, arguments so far): grow it in place,
                        # a copy per statement would make 10,000 statements cost 10,000² steps
                        kids, parts = children[0], keep[1:]
                    else:
                        kids = []
                    for i, splice in parts:
                        if splice:
                            kids.extend(children[i])
                        else:
                            kids.append(children[i])
                    push_value(kids if method is None else method(kids))
            state = gotos[states[-1]][kind]
            if state is None:
                state = gotos.follow(states[-1], kind)
            if state == end_state:
                return values[-1]
            push_state(state)


# how a rule's children reach its callback (every rule has at least one symbol)
_ONE, _BINARY, _CALL, _LIST, _SOME = (
    "the one symbol",
    "left and right",
    "all, in a list",
    "all, no callback",
    "some, or spliced",
)
# rules `left OPERATOR right`, each named after its op in the ops table, reduced by callbacks.binary
BINARY = frozenset(BINARY_OPERATORS)
assert all(size >= 1 for _, size, *_ in _tables.RULES)


class _Gotos(dict):
    """Where the parser goes after reducing one rule: self[state below][kind of the next token].

    Unit rules (?product: unary) only change the state on top of the stack: the goto and the chain
    of unit rules that follows it depend only on (state below, rule, next token). Each is followed
    once, when first needed, and remembered.
    """

    def __init__(self, origin: str):
        super().__init__()
        self.origin = origin

    def __missing__(self, below: int) -> list:
        row = self[below] = [None] * len(KINDS)
        return row

    def follow(self, below: int, kind: int) -> int:
        actions, rules = _tables.ACTIONS, _tables.RULES
        state = actions[below][self.origin]
        act = actions[state].get(KINDS[kind])
        while act is not None and act < 0 and rules[~act][4]:
            state = actions[below][rules[~act][0]]
            act = actions[state].get(KINDS[kind])
        self[below][kind] = state
        return state


_ACTIONS = [[row.get(kind) for kind in KINDS] for row in _tables.ACTIONS]  # [state][kind number]
_GOTOS = [_Gotos(origin) for origin, *_ in _tables.RULES]  # filled as parses need them


class ParseCallbacks:
    """The parser's callbacks: each grammar alternative maps to one graph operation."""

    def __init__(self, source: str):
        self.source = source
        self.build = GraphBuilder(source)
        self.apply = self.build.apply
        self.scope: dict[str, int] = {}  # statement names bound so far
        self.statements: list[tuple[str, int]] = []  # name, node id
        self.used: set[int] = set()  # statements whose name was used after them
        self.statement_of: dict[str, int] = {}  # name → its latest statement

    # leaves
    def number(self, tok):
        start, end = tok.start(), tok.end(tok.lastindex)  # tok.end() includes the blanks after it
        text = tok.string[start:end]
        value = float(text)
        if value == 0 and text.lower().partition("e")[0].strip("0.") != "":
            # 1e-400 is 0 in float64: said, not silently changed (1e309, inf, is reported by the engine)
            self.build.graph.warnings.append(
                f"the number {text} is too small for float64: it becomes 0"
            )
        return self.build.const(value, start, end), start, end

    def name(self, tok):
        start, end = tok.start(), tok.end(tok.lastindex)
        name = tok.string[start:end]
        if name in self.scope:
            self.used.add(self.statement_of[name])
            return self.scope[name], start, end
        if name in CONSTANTS:
            node = self.build.const(CONSTANTS[name], start, end)
            self.build.label(node, name)
            return node, start, end
        return self.build.var(name, start, end), start, end

    # operators
    def binary(self, op, left, right):
        a, start, _ = left
        b, _, end = right
        return self.apply(op, (a, b), start, end), start, end

    def neg(self, c):
        tok, (a, _, end) = c
        start = tok.start()
        return self.build.apply("neg", (a,), start, end), start, end

    def pos(self, c):
        tok, (a, _, end) = c  # unary plus is the identity: no gate
        return a, tok.start(), end

    def paren(self, c):
        lpar, (a, _, _), rpar = c
        return a, lpar.start(), rpar.start() + 1

    def call(self, c):
        tok, args, start, end = c[0], c[2:-1], c[0].start(), c[-1].start() + 1  # c[-1] is ')'
        name = _text(tok)
        op = FUNCTIONS.get(name)
        if op is None:
            raise CgError(_unknown_function(name), self.source, start)
        if len(args) != op.arity and not (op.variadic and len(args) > op.arity):
            more = " or more" if op.variadic else ""
            raise CgError(
                f"{name}() takes {op.arity}{more} argument{'s' * (op.arity > 1)}, got {len(args)}",
                self.source,
                start,
            )
        inputs = (args[0][0],) if op.arity == 1 else tuple(node for node, _, _ in args)
        return self.build.apply(op.name, inputs, start, end), start, end

    # programs
    def assign(self, c):
        tok, (node, _, _) = c
        name = _text(tok)
        self.scope[name] = node
        self.statement_of[name] = len(self.statements)
        self.build.label(node, name)
        self.statements.append((name, node))
        return None

    def start(self, c):
        c = c if isinstance(c, list) else [c]  # a program of one symbol gets the symbol itself
        result = [r for r in c if r is not None][-1]  # statements give None
        graph = self.build.finish(result[0])
        unused = [
            name
            for i, (name, node) in enumerate(self.statements)
            if not self.build.kept(node) or i not in self.used
        ]
        graph.warnings += [f"statement '{name}' is not used by the result" for name in unused[:10]]
        if len(unused) > 10:  # 20,000 lines of warnings would hide everything else
            graph.warnings.append(
                f"and {len(unused) - 10:,} more statements are not used by the result"
            )
        return graph


def _unknown_function(name: str) -> str:
    from .other_names import hint

    close = closest(name, FUNCTIONS)
    said = hint(name) or (f" (did you mean {close}?)" if close else "")
    return f"unknown function '{name}'{said or f'; to multiply, write {name}*(…)'}"


def check_text(source: str) -> None:
    """Reject text that cannot be an expression before parsing it: control characters."""
    if source.translate(_WHITESPACE).isprintable():  # the common case, checked in C
        return
    import unicodedata

    for i, ch in enumerate(source):
        if not ch.isprintable() and ch not in "\n\t\r\f":
            code, name = f"U+{ord(ch):04X}", unicodedata.name(ch, "")
            if ch == "\0":
                raise CgError("input contains a NUL byte; expressions are text", source, i)
            if unicodedata.category(ch) in (
                "Zs",
                "Zl",
                "Zp",
            ):  # no-break space, line separator, ...
                raise CgError(
                    f"input contains the space {code} ({name}), which cg does not read as a blank: use a plain space",
                    source,
                    i,
                )
            if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte Python could not decode (os.fsdecode)
                from .characters import not_utf8

                raise CgError(not_utf8(ch), source, i)
            what = (
                f"the control character {code}"
                if unicodedata.category(ch) == "Cc"
                else f"the invisible character {code}"
            )
            raise CgError(
                f"input contains {what}{f' ({name})' if name else ''}; expressions are text",
                source,
                i,
            )


_WHITESPACE = str.maketrans("", "", "\n\t\r\f")


def parse(source: str) -> Graph:
    """Parse a cg program into its computation graph; CgError on bad input."""
    if not isinstance(source, str):
        raise CgError(f"the expression must be text, got {type(source).__name__}")
    check_text(source)
    if not source.strip() or _only_comments(source):
        raise CgError("empty expression", source, len(source))
    try:
        with cycle_collector_paused():
            try:
                return run_tables(tokens(source), ParseCallbacks(source))
            except SyntaxFailure:
                if "\n" not in source or _newline_inside(source):  # Lexer's own answer already
                    raise
            return run_tables(
                iter(Lexer(source)), ParseCallbacks(source)
            )  # the error as Lexer sees it
    except SyntaxFailure as e:
        raise _syntax_error(source, e) from None


def _only_comments(source: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


def _show(tok) -> str:
    return _SHOWN.get(tok.type, repr(tok.text))


def _lex_up_to(source: str, tok: Token) -> tuple[Token | None, Lexer]:
    """The token before `tok`, and a Lexer that has just passed `tok` (errors can afford to lex again)."""
    lexer, prev = Lexer(source), None
    for m in lexer:
        if m.start() >= tok.start:
            break
        prev = m
    return prev and Token.of(prev), lexer


def _syntax_error(source: str, e: SyntaxFailure) -> CgError:
    tok = e.token
    if tok.type == "_BAD":
        import unicodedata

        if unicodedata.combining(tok.text[0]):
            name = unicodedata.name(tok.text[0], "a combining mark")
            return CgError(
                f"{name} cannot stand alone: write the accented letter as one character (NFC)",
                source,
                tok.start,
            )
        from .characters import unexpected_character

        return CgError(unexpected_character(source, tok.start), source, tok.start)
    prev, lexer = _lex_up_to(source, tok)
    if tok.type == "$END":
        end = len(
            source.rstrip("\r\n")
        )  # just after the last character, also in a file that ends with a newline
        if "NUMBER" in e.expected:
            return CgError("unexpected end of input: expected a number, a name or '('", source, end)
        if lexer.open:
            return CgError("missing ')' at the end of the input", source, end)
        if "_NL" in e.expected:
            return CgError(
                "the input ends with an assignment; the last statement must be the expression f",
                source,
                end,
            )
        return CgError("unexpected end of input", source, end)
    pos = tok.start
    if tok.type == "_NL":
        return CgError("unexpected new line: expected a number, a name or '('", source, pos)
    if prev is not None and prev.type in _OPERAND_END and tok.type in _OPERAND_START:
        if prev.type == "NAME" and prev.text in FUNCTIONS and tok.type != "LPAR":
            return CgError(
                f"function arguments need parentheses: write {prev.text}({tok.text})", source, pos
            )
        if prev.type == "NUMBER" and tok.type == "NAME":
            if prev.text == "0" and tok.text[:1] in "xXbBoO" and tok.start == prev.end:
                return CgError(
                    f"numbers are decimal: {prev.text}{tok.text} (hexadecimal, binary, octal) is not supported",
                    source,
                    prev.start,
                )
            if tok.text in ("e", "E") and tok.start == prev.end:  # 1e+: NUMBER 1, then NAME e
                sign = (
                    source[tok.end : tok.end + 1] if source[tok.end : tok.end + 1] in "+-" else ""
                )
                constant = f", or {prev.text}*e to multiply by the constant e" * (tok.text == "e")
                return CgError(
                    f"the number {prev.text}{tok.text}{sign} has no exponent: write its digits"
                    f" ({prev.text}{tok.text}{sign}3){constant}",
                    source,
                    pos,
                )
            if tok.text[:1] == "_" and tok.start == prev.end:
                return CgError(
                    f"digits cannot be grouped with '_': write {prev.text}{tok.text.replace('_', '')}",
                    source,
                    pos,
                )
            return CgError(
                f"implicit multiplication is not supported: write {prev.text}*{tok.text}",
                source,
                pos,
            )
        if tok.type == "LPAR" or prev.type == "RPAR":
            return CgError(
                f"implicit multiplication is not supported: write '*' between {_show(prev)} and {_show(tok)}",
                source,
                pos,
            )
        return CgError(f"missing operator between {_show(prev)} and {_show(tok)}", source, pos)
    if tok.type == "RPAR" and tok.start == lexer.unmatched:
        return CgError("unmatched ')'", source, pos)
    if "NUMBER" in e.expected:
        return CgError(f"unexpected {_show(tok)}: expected a number, a name or '('", source, pos)
    return CgError(f"unexpected {_show(tok)}: expected an operator", source, pos)
