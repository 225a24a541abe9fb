"""The grammar is conflict-free, the generated parser is up to date, the ops table is complete."""

import importlib.util
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgcli import ops, scalar
from cgcli.engine import local_gradients

REPO = Path(__file__).resolve().parent.parent
GRAMMAR = REPO / "grammar" / "cg.lark"


def test_grammar_has_no_lalr_conflicts():
    # lark resolves shift/reduce conflicts silently; strict=True turns them into errors
    from lark import Lark

    Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="basic", strict=True)
    assert _make_parser_module().OPTIONS["parser"] == "lalr"  # what the tables are made with


def _make_parser_module():
    spec = importlib.util.spec_from_file_location(
        "make_parser", REPO / "grammar" / "make_parser.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_were_made_from_this_grammar():
    committed = (REPO / "cgcli" / "_tables.py").read_text(encoding="utf-8")
    assert committed.splitlines()[0] == _make_parser_module().header().rstrip("\n"), (
        "cgcli/_tables.py is stale: run python grammar/make_parser.py"
    )


class TreeMaker:
    """Callbacks that build lark-like trees as nested tuples, to compare with lark's own parse."""

    def __getattr__(self, name):
        # rules of one symbol with a callback (number, name) get the symbol itself, not a list
        return lambda children: (
            name,
            tuple(children) if isinstance(children, list) else (children,),
        )

    def binary(self, op, left, right):
        return (op, (left, right))


def lark_tuples(tree):
    # small fixed inputs: recursion is fine here
    from lark import Token, Tree

    from cgcli.syntax import BINARY

    if isinstance(tree, Token):
        return (tree.type, str(tree), tree.start_pos)
    assert isinstance(tree, Tree)
    children = tree.children
    if tree.data in BINARY:  # left OPERATOR right: the rule's name says which operator
        children = [children[0], children[2]]
    return (str(tree.data), tuple(lark_tuples(c) for c in children))


def our_tuples(value):
    import re

    from cgcli.syntax import Token

    if isinstance(value, re.Match):
        value = Token.of(value)
        return (value.type, value.text, value.start)
    name, children = value
    return (name, tuple(our_tuples(c) for c in children))


@pytest.mark.parametrize(
    "text",
    [
        "a = 1; (x+y)**2",
        "-x**2^y",
        "f(x, g(y), 3)\n",
        "x # c\n",
        "2**-x/3-+4",
        ".5e3*θ",
        "a = 1\n\nb = a;; a*b;",
        "h()",
    ],
)
def test_our_table_driver_parses_like_lark(text):
    from cgcli.syntax import run_tables, tokens

    lark_tree = _make_parser_module().lark_parser().parse(text)
    assert our_tuples(run_tables(tokens(text), TreeMaker())) == lark_tuples(lark_tree)


def test_every_op_has_a_forward_and_parsable_local_gradients():
    for op in ops.TABLE:
        assert callable(op.scalar), op.name
        formulas = local_gradients(op.name)
        assert len(formulas) == op.arity
        for formula in formulas:
            names = set(formula.graph.variables)
            assert names <= set(ops.INPUT_NAMES[: op.arity]) | {"out"}


@pytest.mark.parametrize("op", [op for op in ops.TABLE if op.arity == 1])
def test_local_gradient_formulas_match_finite_differences(op):
    # each unary op's formula against a central difference, at points inside its domain
    for x in (0.3, 0.7, 1.6, 2.5):
        x = x / 3 if op.name in ("acos", "asin", "atanh") else x + 1 if op.name == "acosh" else x
        f = op.scalar
        out = f(x)
        h = 1e-6
        numeric = (f(x + h) - f(x - h)) / (2 * h)
        (formula,) = local_gradients(op.name)
        assert formula([x], out) == pytest.approx(numeric, rel=1e-6, abs=1e-8), (op.name, x)


@pytest.mark.parametrize("op", [op for op in ops.TABLE if op.arity == 2])
def test_binary_local_gradients_match_finite_differences(op):
    f = op.scalar
    for x, y in (
        (0.7, 1.9),
        (2.5, 0.4),
        (1.3, -0.6) if op.name not in ("pow", "xlogy") else (1.3, 0.6),
    ):
        out, h = f(x, y), 1e-6
        dx = (f(x + h, y) - f(x - h, y)) / (2 * h)
        dy = (f(x, y + h) - f(x, y - h)) / (2 * h)
        gx, gy = local_gradients(op.name)
        assert gx([x, y], out) == pytest.approx(dx, rel=1e-6, abs=1e-8), (op.name, x, y)
        assert gy([x, y], out) == pytest.approx(dy, rel=1e-6, abs=1e-8), (op.name, x, y)


@pytest.mark.parametrize(
    "name, x, expected",
    [
        ("log", 0.0, -math.inf),
        ("log", -1.0, math.nan),
        ("sqrt", -1.0, math.nan),
        ("exp", 1000.0, math.inf),
        ("sinh", -1000.0, -math.inf),
        ("cosh", -1000.0, math.inf),
        ("atanh", 1.0, math.inf),
        ("atanh", -1.0, -math.inf),
        ("log1p", -1.0, -math.inf),
        ("acosh", 0.5, math.nan),
        ("sin", math.inf, math.nan),
        ("sigmoid", -1000.0, 0.0),
        ("sigmoid", 1000.0, 1.0),
        ("softplus", 1000.0, 1000.0),
        ("relu", math.nan, math.nan),
        ("sign", math.nan, math.nan),
        ("floor", math.inf, math.inf),
        ("cbrt", -8.0, -2.0),
    ],
)
def test_scalar_forward_gives_ieee_results_not_exceptions(name, x, expected):
    got = ops.OPS[name].scalar(x)
    assert isinstance(got, float)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


@pytest.mark.parametrize(
    "x, y, expected",
    [
        (-8.0, 1 / 3, math.nan),
        (0.0, -1.0, math.inf),
        (-0.0, -1.0, -math.inf),
        (-0.0, -2.0, math.inf),
        (10.0, 400.0, math.inf),
        (-10.0, 401.0, -math.inf),
        (-2.0, 3.0, -8.0),
        (math.nan, 0.0, 1.0),
    ],
)
def test_scalar_pow_is_never_complex(x, y, expected):
    got = scalar.pow(x, y)
    assert isinstance(got, float)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_scalar_division_by_zero():
    assert scalar.div(1.0, 0.0) == math.inf
    assert scalar.div(-1.0, 0.0) == -math.inf
    assert scalar.div(1.0, -0.0) == -math.inf
    assert math.isnan(scalar.div(0.0, 0.0))


_LEXER_TEXT = st.text(alphabet="x1_.e5+-*/^(),=;# \tθ2E$", max_size=40)


@settings(max_examples=300, deadline=None)
@given(_LEXER_TEXT)
def test_our_lexer_cuts_text_like_larks(text):
    # cg's token pattern is lark's, rewritten for speed (grammar/make_parser.py): same tokens, same spans
    from lark.exceptions import UnexpectedCharacters

    from cgcli.syntax import Lexer, Token, tokens

    theirs, bad = [], None
    try:
        for t in _lark_parser().lex(text):
            theirs.append((t.type, str(t), t.start_pos))
    except UnexpectedCharacters as e:
        bad = ("_BAD", text[e.pos_in_stream], e.pos_in_stream)
    # both of cg's paths: the regex's own iterator, and the Lexer used for text with newlines
    for ours in ([Token.of(m) for m in tokens(text)], [Token.of(m) for m in Lexer(text)]):
        if bad is None:
            assert ours[-1] == Token("$END", "", len(text), len(text))
            assert [(t.type, t.text, t.start) for t in ours[:-1]] == theirs
        else:  # the parser stops at the first bad character: the tokens up to it, then that one
            first_bad = next(i for i, t in enumerate(ours) if t.type == "_BAD")
            assert [(t.type, t.text, t.start) for t in ours[: first_bad + 1]] == theirs + [bad]


_LARK = []


def _lark_parser():
    if not _LARK:
        _LARK.append(_make_parser_module().lark_parser())
    return _LARK[0]


@pytest.mark.parametrize(
    "text", ["(x+1\n", "sin(x\n\n", "x+1\n", "a = 2\na*x\n", "(x+\n1)\n", "x+\n", "2 3\n", "(x))\n"]
)
def test_text_ending_in_newlines_parses_as_lexer_sees_it(text, monkeypatch):
    # such text takes the fast path (no Lexer); the result and every error must be Lexer's
    from cgcli import syntax
    from cgcli.errors import CgError

    def outcome():
        try:
            graph = syntax.parse(text)
        except CgError as e:
            return e.render()
        return graph.op, graph.inputs, graph.start, graph.end

    fast = outcome()
    monkeypatch.setattr(syntax, "tokens", lambda source: iter(syntax.Lexer(source)))
    assert fast == outcome()
