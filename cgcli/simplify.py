"""A graph builder that simplifies as it builds: a bounded sum-of-products simplifier.

Derivative expressions (cgcli/derive.py) are built node by node; this
builder's constructors fold constants and look at the *decomposition* of
their inputs, kept per node: a product is a coefficient times factors
`base**exponent`, a sum is a constant plus terms, each a product. Combining
two decompositions merges repeated factors (x*x → x**2) and like terms
(x**2 + 2*x**2 → 3*x**2), drops 1s and 0s, cancels double negations, and the
node is rebuilt from the result. Nothing walks an expression.

A decomposition holds at most PARTS entries, so each constructor does a
bounded amount of work however large the expression: a longer sum or product
is kept as one opaque part.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .graph import Graph, GraphBuilder
from .ops import OPS

PARTS = 8  # most terms of a sum, or factors of a product, that the simplifier combines


class Factor(NamedTuple):
    base: int  # a node id
    exponent: float


class Product(NamedTuple):
    """coefficient * factor * factor …; also a term of a Sum."""

    coefficient: float
    factors: tuple[Factor, ...]


class Sum(NamedTuple):
    """constant + term + term …"""

    constant: float
    terms: tuple[Product, ...]
    constant_first: bool  # written before the terms: 1 - x**2


def _integer(e: float) -> bool:
    return math.isfinite(e) and e == int(e) and abs(e) <= 2**31


def _key(factors: tuple[Factor, ...]) -> tuple:
    """Factors compared as a multiset: x*y and y*x are like terms."""
    return tuple(sorted(factors))


def _merge_factors(fa: tuple[Factor, ...], fb: tuple[Factor, ...]) -> tuple[Factor, ...]:
    """The factors of a product of two products: integer powers of the same base add up."""
    out = list(fa)
    for base, e in fb:
        for k, (other, e2) in enumerate(out):
            if other == base and _integer(e) and _integer(e2):
                out[k] = Factor(base, e + e2)
                break
        else:
            out.append(Factor(base, e))
    return tuple(f for f in out if f.exponent != 0)


def _within_bound(da, db, whole_a, whole_b):
    """Two decompositions to combine, the longer kept whole (an opaque part) when together they
    have more than PARTS parts; both kept whole when that is still too many."""
    size_a, size_b = len(da[1]), len(db[1])
    if size_a + size_b <= PARTS:
        return da, db
    if size_a >= size_b:
        da = whole_a
    else:
        db = whole_b
    if len(da[1]) + len(db[1]) > PARTS:
        da, db = whole_a, whole_b
    return da, db


def _alone(node: int) -> Product:
    """A node as a product of one factor: itself."""
    return Product(1.0, (Factor(node, 1.0),))


class SimplifyingBuilder:
    """A GraphBuilder whose constructors simplify as they build.

    Identical subexpressions are one node (GraphBuilder's hash-consing), so a
    base or a term is recognised again by its node id.
    """

    def __init__(self) -> None:
        self.build = GraphBuilder("")
        self._product: dict[int, Product] = {}  # node → its decomposition, where it has one
        self._sum: dict[int, Sum] = {}
        self._simplified = {
            "add": self.add,
            "sub": self.sub,
            "mul": self.mul,
            "div": self.div,
            "neg": self.neg,
            "pow": self.pow,
        }

    # leaves and plain nodes

    def var(self, name: str) -> int:
        return self.build.var(name, 0, 0)

    def const(self, value: float) -> int:
        return self.build.const(float(value), 0, 0)

    def _raw(self, op: str, *inputs: int) -> int:
        return self.build.apply(op, inputs, 0, 0)

    def value(self, i: int) -> float | None:
        """The node's value when it is a constant."""
        return self.build.graph.value.get(i)  # only constants have one

    def apply(self, op: str, inputs: tuple[int, ...]) -> int:
        """The node for op(inputs), constants folded and the result simplified."""
        values = [self.value(i) for i in inputs]
        if None not in values:
            folded = OPS[op].scalar(*values)
            # nan and inf have no literal: keep the expression
            return self.const(folded) if math.isfinite(folded) else self._raw(op, *inputs)
        simplified = self._simplified.get(op)
        return simplified(*inputs) if simplified else self._raw(op, *inputs)

    def finish(self, output: int) -> Graph:
        return self.build.finish(output)

    # decompositions

    def product_of(self, i: int) -> Product:
        v = self.value(i)
        if v is not None:
            return Product(v, ())
        return self._product.get(i) or _alone(i)

    def sum_of(self, i: int) -> Sum:
        v = self.value(i)
        if v is not None:
            return Sum(v, (), True)
        found = self._sum.get(i)
        if found is not None:
            return found
        return Sum(0.0, (self.product_of(i),), False)

    # products

    def mul(self, a: int, b: int) -> int:
        (ca, fa), (cb, fb) = self._bounded_products(a, b)
        return self._product_node(ca * cb, _merge_factors(fa, fb), fallback=("mul", a, b))

    def div(self, a: int, b: int) -> int:
        (ca, fa), (cb, fb) = self._bounded_products(a, b)
        if cb == 0:
            return self._raw("div", a, b)
        inverse = tuple(Factor(base, -e) for base, e in fb)
        return self._product_node(ca / cb, _merge_factors(fa, inverse), fallback=("div", a, b))

    def neg(self, a: int) -> int:
        if a in self._sum:  # -(x - 1) is 1 - x
            const, terms, first = self._sum[a]
            return self._sum_node(-const, tuple(Product(-c, f) for c, f in terms), first)
        c, f = self.product_of(a)
        return self._product_node(-c, f)

    def pow(self, a: int, b: int) -> int:
        k = self.value(b)
        if self.value(a) == 1:
            return self.const(1.0)  # 1**y is 1, also for y nan
        if k is None:
            return self._raw("pow", a, b)
        if k == 0:
            return self.const(1.0)
        ca, fa = self.product_of(a)
        if _integer(k) and all(_integer(e) for _, e in fa):  # (2*x)**2 is 4*x**2
            coef = OPS["pow"].scalar(ca, k)
            if math.isfinite(coef):
                return self._product_node(coef, tuple(Factor(base, e * k) for base, e in fa))
        return self._product_node(1.0, (Factor(a, k),))

    def _bounded_products(self, a: int, b: int) -> tuple[Product, Product]:
        return _within_bound(self.product_of(a), self.product_of(b), _alone(a), _alone(b))

    def _product_node(self, coef: float, factors: tuple[Factor, ...], fallback=None) -> int:
        """The node for coef * factors: coefficient first, negative powers below a fraction bar."""
        if not math.isfinite(coef):
            op, a, b = fallback
            return self._raw(op, a, b)
        if coef == 0 or not factors:
            return self.const(coef if factors == () else 0.0)  # 0*x is 0
        # in the order the nodes were made: x*y, y*cos(x)
        factors = tuple(sorted(factors, key=lambda f: f.base))
        up = [self._power(base, e) for base, e in factors if e > 0]
        down = [self._power(base, -e) for base, e in factors if e < 0]
        size = abs(coef)
        if size != 1 or not up:
            up.insert(0, self.const(size))
        node = self._chain("mul", up)
        if down:
            node = self._raw("div", node, self._chain("mul", down))
        if coef < 0:
            node = self._raw("neg", node)
        if node != factors[0].base:  # not a bare factor
            self._product.setdefault(node, Product(coef, factors))
        return node

    def _power(self, base: int, e: float) -> int:
        return base if e == 1 else self._raw("pow", base, self.const(e))

    def _chain(self, op: str, items: list[int]) -> int:
        node = items[0]
        for item in items[1:]:
            node = self._raw(op, node, item)
        return node

    # sums

    def add(self, a: int, b: int) -> int:
        return self._combine(a, b, 1.0)

    def sub(self, a: int, b: int) -> int:
        return self._combine(a, b, -1.0)

    def _combine(self, a: int, b: int, sign: float) -> int:
        whole_a, whole_b = Sum(0.0, (_alone(a),), False), Sum(0.0, (_alone(b),), False)
        (ca, ta, first), (cb, tb, _) = _within_bound(
            self.sum_of(a), self.sum_of(b), whole_a, whole_b
        )
        const = ca + sign * cb
        if not math.isfinite(const):
            return self._raw("add" if sign > 0 else "sub", a, b)
        terms = list(ta)
        keys = [_key(f) for _, f in terms]
        merged = False
        for c, f in tb:
            key = _key(f)
            if key in keys:  # like terms: add the coefficients
                k = keys.index(key)
                terms[k] = Product(terms[k].coefficient + sign * c, terms[k].factors)
                merged = True
            else:
                terms.append(Product(sign * c, f))
                keys.append(key)
        if not all(math.isfinite(c) for c, _ in terms):
            return self._raw("add" if sign > 0 else "sub", a, b)
        if (
            not merged
            and cb == 0
            and len(tb) == 1
            and (a in self._sum or (ca == 0 and len(ta) == 1 and ta[0].coefficient > 0))
        ):
            # one new term after a sum already in order: one node, nothing to rebuild
            c, f = terms[-1]
            node = self._raw("add" if c > 0 else "sub", a, self._product_node(abs(c), f))
            self._sum.setdefault(node, Sum(const, tuple(terms), first))
            return node
        first = first or (not ta and ca > 0)  # a constant written first stays first: 1 - x**2
        return self._sum_node(const, tuple(t for t in terms if t.coefficient != 0), first)

    def _sum_node(self, const: float, terms: tuple[Product, ...], const_first: bool) -> int:
        """The node for const + terms: a positive part first, then + and - the others."""
        if not terms:
            return self.const(const)
        if len(terms) == 1 and const == 0:
            return self._product_node(*terms[0])
        total, rest = const, list(terms)
        if const_first and const > 0:
            node, const = self.const(const), 0.0
        else:
            lead = next((k for k, (c, _) in enumerate(rest) if c > 0), None)
            if lead is None and const > 0:
                node, const = self.const(const), 0.0
            else:
                node = self._product_node(*rest.pop(lead or 0))
        for c, f in rest:
            node = self._raw("add" if c > 0 else "sub", node, self._product_node(abs(c), f))
        if const:
            node = self._raw("add" if const > 0 else "sub", node, self.const(abs(const)))
        self._sum.setdefault(node, Sum(total, terms, const_first))
        return node
