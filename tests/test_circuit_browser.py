"""The circuit page (cg graph -o FILE.html) in a real browser: Chromium, headless, driven by
Playwright. Its steps are compared with cg grad --explain --format json, its recomputed numbers
with cg grad --format json at the new point, its JavaScript backend with cg's own (scalar.py and
the ops table's local gradients) at kinks and across every op."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from conftest import run_bin

from cgcli import engine, ops
from cgcli.text import shortest_float

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (.ci/run installs Debian's chromium)"
)
if shutil.which("dot") is None:
    pytestmark = pytest.mark.skip(reason="Graphviz is not installed (.ci/run installs it)")

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_POINT = {"w0": "2", "x0": "-1", "w1": "-3", "x1": "-2", "w2": "-3"}
SQUARE = "(x+y)**2"
SQUARE_POINT = {"x": "1", "y": "2"}
FORK = "x*y + sin(x)*x"  # x's gradient is the sum of three wires'
FORK_POINT = {"x": "0.5", "y": "-3"}
NAN = "log(x)*y + 2*3"  # nan at x < 0; -inf, then nan (-inf*0), at x = 0
NAN_POINT = {"x": "-1", "y": "0"}
PAGES = [
    ("neuron", NEURON, NEURON_POINT),
    ("square", SQUARE, SQUARE_POINT),
    ("fork", FORK, FORK_POINT),
    ("nan", NAN, NAN_POINT),
    # an op of three inputs whose local gradients come from all of them at once
    ("softmax", "softmax(a, b, c)*tanh(b)", {"a": "2", "b": "-1", "c": "0.5"}),
]


def bindings(point: dict) -> list[str]:
    return [word for name, value in point.items() for word in (f"--{name}", value)]


def cg_json(*args) -> dict:
    code, out, err = run_bin([*args, "--format", "json"])
    assert code in (0, 3), err  # 3: not finite, the numbers still written
    return json.loads(out)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The pages of the neuron and of (x+y)**2, written by the installed cg."""
    where = tmp_path_factory.mktemp("circuits")
    made = {}
    for name, expr, point in PAGES:
        path = where / f"{name}.html"
        code, out, err = run_bin(["graph", expr, *bindings(point), "-o", str(path)])
        assert code == (3 if name == "nan" else 0), err  # 3: f is not finite, as cg grad says
        made[name] = path
    return made


def open_page(browser, path: Path):
    """A new page showing `path`, with the list of every request it made and its errors."""
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def expected_steps(explain: dict) -> list[str]:
    """The text of each step, from cg's --explain JSON (the same words as `cg grad --explain`)."""

    def num(v):
        return shortest_float(float(v))  # "nan", "inf" come as strings; float reads both

    texts = []
    for s in explain["forward"]:
        if s["op"] == "var":
            texts.append(f"#{s['node']} var {s['text']}: {s['text']} = {num(s['value'])}")
        elif s["op"] == "const":
            texts.append(f"#{s['node']} const {s['text']}: {num(s['value'])}")
        else:
            args = ", ".join(num(v) for v in s["inputs"])
            texts.append(
                f"#{s['node']} {s['op']} {s['text']}: {s['op']}({args}) = {num(s['value'])}"
            )
    for s in explain["backward"]:
        if s["kind"] == "fork":
            parts = " + ".join(num(c) for c in s["contributions"])
            texts.append(f"fork at #{s['node']} {s['text']}: {parts} = {num(s['total'])}")
        else:
            texts.append(
                f"#{s['gate']} {s['op']} gate {s['text']}: upstream {num(s['upstream'])} × local "
                f"{num(s['local'])} = {num(s['contribution'])} to #{s['to']} {s['to_text']}"
            )
    return texts


@pytest.mark.parametrize("name, expr, point", PAGES)
def test_every_step_says_what_explain_says(browser, pages, name, expr, point):
    page, requests, errors = open_page(browser, pages[name])
    want = expected_steps(cg_json("grad", expr, *bindings(point), "--explain")["explain"])
    # the page opens on the finished circuit; Home goes back to before the first step
    assert (
        page.locator("[data-counter]").text_content().startswith(f"step {len(want)} of {len(want)}")
    )
    page.keyboard.press("Home")
    assert page.locator("[data-counter]").text_content() == f"step 0 of {len(want)}"
    seen = []
    for k in range(len(want)):
        if k % 2:
            page.click('[data-action="next"]')
        else:
            page.keyboard.press("ArrowRight")
        seen.append(page.locator("[data-step]").text_content())
    assert seen == want
    page.keyboard.press("ArrowLeft")
    assert page.locator("[data-step]").text_content() == want[-2]
    assert errors == []
    assert requests == [pages[name].as_uri()]  # the file itself, nothing from a network
    page.close()


def shown(page, selector: str) -> float:
    return float(page.locator(selector).first.text_content())


def assert_matches_cg(page, expr: str, point: dict, fuse: bool = False) -> None:
    """The page's f and gradients equal cg grad's at `point` (relative 1e-12)."""
    want = cg_json("grad", expr, *bindings(point), *(["--fuse"] if fuse else []))
    assert shown(page, '[data-value="f"]') == pytest.approx(want["value"], rel=1e-12, abs=0)
    for var, g in want["grad"].items():
        for out in page.locator(f'[data-grad="{var}"]').all():
            assert float(out.text_content()) == pytest.approx(g, rel=1e-12, abs=1e-300)


def test_changing_a_variable_recomputes_every_number(browser, pages):
    page, requests, errors = open_page(browser, pages["neuron"])
    point = dict(NEURON_POINT)
    assert_matches_cg(page, NEURON, point)
    # the number field
    page.fill('[data-var="w0"]', "1.25")
    point["w0"] = "1.25"
    assert_matches_cg(page, NEURON, point)
    # the slider, by keyboard: the field follows it
    page.focus('[data-slider="x1"]')
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    point["x1"] = page.input_value('[data-var="x1"]')
    assert float(point["x1"]) > -2
    assert_matches_cg(page, NEURON, point)
    # the wires show the new numbers too: f's wire holds f to 4 digits
    value = cg_json("grad", NEURON, *bindings(point))["value"]
    assert page.locator("#v0-w14 text").first.text_content() == f"{value:.4g}"
    # the fused circuit, at the same point
    switch = page.locator('[data-view="1"]')
    assert switch.text_content() == "fused: 10 nodes"
    switch.click()
    assert switch.get_attribute("aria-pressed") == "true"
    assert page.locator('[data-view-panel="1"]').is_visible()
    assert not page.locator('[data-view-panel="0"]').is_visible()
    assert_matches_cg(page, NEURON, point, fuse=True)
    page.fill('[data-var="w2"]', "-0.5")
    point["w2"] = "-0.5"
    assert_matches_cg(page, NEURON, point, fuse=True)
    assert errors == []
    assert requests == [pages["neuron"].as_uri()]
    page.close()


def test_a_fork_sums_its_recomputed_contributions(browser, pages):
    page, _, errors = open_page(browser, pages["fork"])
    point = dict(FORK_POINT)
    page.fill('[data-var="x"]', "-1.75")
    point["x"] = "-1.75"
    assert_matches_cg(page, FORK, point)
    assert page.locator("[data-step]").text_content().startswith("fork at #0 x: ")
    assert errors == []
    page.close()


def cg_warnings(expr: str, point: dict) -> str:
    return "; ".join(cg_json("grad", expr, *bindings(point))["warnings"])


def test_where_nan_and_inf_first_appear_is_said_as_cg_says_it(browser, pages):
    page, _, errors = open_page(browser, pages["nan"])
    point = dict(NAN_POINT)
    warning = page.locator("[data-warning]")
    assert warning.text_content() == cg_warnings(NAN, point) != ""
    for x in ("0", "inf", "-inf", "nan", "1e308", "2"):
        page.fill('[data-var="x"]', x)
        point["x"] = x
        assert warning.text_content() == cg_warnings(NAN, point)
    assert not warning.is_visible()  # nothing to say at x = 2
    assert errors == []
    page.close()


def test_a_variable_typed_as_text_is_shown_invalid(browser, pages):
    page, _, errors = open_page(browser, pages["square"])
    field = page.locator('[data-var="x"]')
    field.fill("abc")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator(".note").first.text_content() == "not a number: the circuit keeps x = 1"
    assert page.locator('[data-value="f"]').text_content() == "9"  # not nan
    assert page.locator('[data-grad="x"]').text_content() == "6"
    field.fill("inf")  # a word cg reads as a number
    assert field.get_attribute("aria-invalid") is None
    assert page.locator('[data-value="f"]').text_content() == "inf"
    field.fill("2")
    assert page.locator('[data-value="f"]').text_content() == "16"
    assert errors == []
    page.close()


def test_printed_the_circuit_shows_its_final_numbers(browser, pages):
    page, _, _ = open_page(browser, pages["square"])
    page.keyboard.press("Home")  # mid-way, the values are not shown yet
    first = page.locator("#v0-w0 text").first
    assert first.evaluate("t => getComputedStyle(t).visibility") == "hidden"
    page.emulate_media(media="print")
    assert first.evaluate("t => getComputedStyle(t).visibility") == "visible"
    assert not page.locator(".stepper").is_visible()
    page.close()


def test_controls_are_reachable_by_keyboard(browser, pages):
    page, _, _ = open_page(browser, pages["square"])
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                "document.activeElement.dataset.action || document.activeElement.dataset.var || document.activeElement.dataset.slider || ''"
            )
        )
    for hook in ("x", "y", "prev", "play"):
        assert hook in reached
    page.close()


# The backend against cg's own, op by op

UNARY = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    -2.5,
    3.0,
    1e-300,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
]
BINARY = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -2.5, 3.0, math.inf, -math.inf, math.nan]


def _js(v: float | None) -> str:
    """A float as a JavaScript literal; None (no second input) as undefined."""
    if v is None:
        return "undefined"
    if v != v:
        return "NaN"
    return "Infinity" if v == math.inf else "-Infinity" if v == -math.inf else repr(v)


def _same(got, want: float, rel: float) -> bool:
    if want != want:
        return got is None or got != got
    if got is None:
        return False
    if want == 0:  # and the same sign: -0 tells where a product with a negative rounded to 0
        return got == 0 and math.copysign(1, got) == math.copysign(1, want)
    if math.isinf(want):
        return got == want
    return abs(got - want) <= rel * abs(want)


@pytest.fixture(scope="module")
def backend_page(browser, pages):
    page, _, _ = open_page(browser, pages["square"])
    yield page
    page.close()


def evaluate_in_page(page, expression: str):
    """A JavaScript expression's value; nan and ±inf come back as text (JSON has none)."""
    return page.evaluate(
        f"(() => {{ const v = ({expression}); return typeof v === 'number' && !isFinite(v) ? String(v) : v; }})()"
    )


def test_every_op_of_the_table_has_its_forward_in_the_page(backend_page):
    have = set(backend_page.evaluate("Object.keys(OPS)"))
    assert {op.name for op in ops.TABLE} <= have
    assert backend_page.evaluate(
        "Object.keys(OPS).every(k => typeof OPS[k].forward === 'function')"
    )


def test_the_page_computes_every_op_as_cg_does(backend_page):
    """Forward and local gradients of every op over a grid with kinks, poles, inf and nan."""
    cases = []
    for op in ops.TABLE:
        grid = [(a,) for a in UNARY] if op.arity == 1 else [(a, b) for a in BINARY for b in BINARY]
        for args in grid:
            out = op.scalar(*args)
            grads = [f(list(args), out) for f in engine.local_gradients(op.name)]
            cases.append((op.name, args, out, grads))
    script = (
        "["
        + ",".join(
            f"[OPS[{json.dumps(name)}].forward({', '.join(map(_js, args))}), "
            + ", ".join(
                # the page calls an op's `local` where it has one (all inputs at once)
                f"OPS[{json.dumps(name)}].local([{', '.join(map(_js, args))}], {_js(out)})[{k}]"
                if ops.OPS[name].local
                else f"OPS[{json.dumps(name)}].grads[{k}]({', '.join(map(_js, (*args, None)[:2]))}, {_js(out)})"
                for k in range(len(grads))
            )
            + "]"
            for name, args, out, grads in cases
        )
        + "].map(r => r.map(v => isFinite(v) ? v : String(v)))"
    )
    results = backend_page.evaluate(script)
    wrong = []
    for (name, args, out, grads), got in zip(cases, results):
        got = [float(v) for v in got]
        for what, g, w in zip(
            ["forward", *[f"grad {k}" for k in range(len(grads))]], got, [out, *grads]
        ):
            if not _same(g, w, 1e-13):
                wrong.append(f"{name}{args} {what}: page {g!r}, cg {w!r}")
    assert not wrong, "\n".join(wrong[:20])


@pytest.mark.parametrize(
    "expression, want",
    [
        ("OPS.relu.grads[0](0, undefined, B.relu(0))", 0.0),  # relu'(0) = 0
        # three inputs: the page's local gradients see all of them
        ("OPS.logsumexp.local([1, 2, 3], B.logsumexp(1, 2, 3))[2]", 0.6652409557748218),
        ("OPS.softmax.local([3, 2, 1], B.softmax(3, 2, 1))[0]", 0.22269542653462332),
        ("OPS.abs.grads[0](0, undefined, 0)", 0.0),  # abs'(0) = 0
        ("OPS.max.grads[0](2, 2, 2)", 0.5),  # a tie: each side gets 0.5
        ("OPS.max.grads[1](2, 2, 2)", 0.5),
        ("OPS.min.grads[0](2, 2, 2)", 0.5),
        ("B.pow(0, 0)", 1.0),
        ("B.pow(1, NaN)", 1.0),
        ("B.pow(-8, 1/3)", math.nan),  # never complex
        ("B.pow(-0, -1)", -math.inf),
        ("B.log(0)", -math.inf),
        ("B.sqrt(-1)", math.nan),
        ("B.cbrt(-8)", -2.0),
        ("B.sign(-0)", 0.0),
        ("B.div(1, 0)", math.inf),
        ("B.div(0, 0)", math.nan),
        ("B.sigmoid(-1000)", 0.0),
        ("B.softplus(1000)", 1000.0),
        ("B.logaddexp(Infinity, Infinity)", math.inf),
    ],
)
def test_the_backend_keeps_cgs_conventions(backend_page, expression, want):
    got = evaluate_in_page(backend_page, expression)
    assert _same(float(got), want, 0), (expression, got)


@pytest.mark.parametrize(
    "x, y", [(1e-10, 1e10), (0.25, 3.0), (-0.4, 30.0), (-3.0, 2.0), (-1.0, 2.0), (0.0, math.inf)]
)
def test_pow1p_in_the_page_takes_log1p_where_1_plus_x_rounds(backend_page, x, y):
    """The grid above has no x in (-0.5, 0.5) but 0, where pow1p is exp(y*log1p(x))."""
    from cgcli import scalar

    out = scalar.pow1p(x, y)
    want = [out, *[f([x, y], out) for f in engine.local_gradients("pow1p")]]
    args = f"{_js(x)}, {_js(y)}, {_js(out)}"
    got = evaluate_in_page(
        backend_page,
        f"[B.pow1p({_js(x)}, {_js(y)}), OPS.pow1p.grads[0]({args}), OPS.pow1p.grads[1]({args})]"
        ".map(v => isFinite(v) ? v : String(v))",
    )
    for g, w in zip(got, want):
        assert _same(float(g), w, 1e-14), (x, y, got, want)


def test_erf_and_erfc_are_accurate(backend_page):
    """erf and erfc (the page's own; JavaScript's Math has neither) against Python's math."""
    xs = [k / 16 for k in range(-100, 101)] + [1e-300, -1e-20, 5.5, -6.0, 10.0, 26.0, 27.5, -30.0]
    got = backend_page.evaluate(f"{json.dumps(xs)}.map(x => [B.erf(x), B.erfc(x)])")
    for x, (erf, erfc) in zip(xs, got):
        assert erf == pytest.approx(math.erf(x), rel=2e-15, abs=1e-310), x
        assert erfc == pytest.approx(math.erfc(x), rel=2e-15, abs=1e-310), x
    assert evaluate_in_page(backend_page, "B.erf(NaN)") == "NaN"
    assert evaluate_in_page(backend_page, "B.erfc(-Infinity)") == 2
