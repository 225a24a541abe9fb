// The circuit page's numeric backend: one function per op of cg's ops table (cgcli/ops.py),
// under the op's name, with the conventions of cgcli/scalar.py: IEEE float64 results, nan for a
// domain error, ±inf for a pole or an overflow, never an exception. The local-gradient formulas
// that call these functions are written into the page by cgcli/to_js.py from the ops table.
"use strict";

const LOG2 = 0.6931471805599453;

function isOddInteger(y) {
  return Number.isFinite(y) && y === Math.floor(y) && Math.abs(y % 2) === 1;
}

// erfc(x) for x >= 0.5 from its continued fraction 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), times exp(-x*x) computed in
// two parts so that rounding x*x does not cost digits when x is large.
function expMinusSquare(x) {
  const high = Math.round(x * 16) / 16; // high*high is exact
  return Math.exp(-high * high) * Math.exp(-(x - high) * (x + high));
}

function erfcLarge(x) {
  if (x > 27.3) return 0; // erfc underflows below the smallest float64
  // evaluated from its tail up, where each step shrinks the error made below it
  let f = x;
  for (let n = Math.ceil(40 + 800 / (x * x)); n >= 1; n--) f = x + n / 2 / f;
  return expMinusSquare(x) / (f * 1.7724538509055160273);
}

// erf(x) for |x| < 1 from the series 2/sqrt(pi) exp(-x²) Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose
// terms are all positive (no cancellation, unlike the alternating Taylor series).
function erfSmall(x) {
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return 1.1283791670955126 * expMinusSquare(Math.abs(x)) * sum;
}

// The largest of xs, exp(x - largest) for each x, and the sum of all terms but the largest's
// (exactly 1); null for a nan or a largest input of ±Infinity.
function shifted(xs) {
  let m = -Infinity;
  for (const x of xs) {
    if (x !== x) return null;
    if (x > m) m = x;
  }
  if (m === -Infinity || (m === Infinity && xs.filter((x) => x === Infinity).length > 1)) {
    return null;
  }
  const terms = xs.map((x) => (m === Infinity ? (x === Infinity ? 1 : 0) : Math.exp(x - m)));
  const rest = [];
  let skipped = false;
  for (const t of terms) {
    if (t === 1 && !skipped) skipped = true;
    else rest.push(t);
  }
  return { m, terms, rest: fsum(rest) };
}

// The correctly rounded sum, as Python's math.fsum (Shewchuk's partials).
function fsum(xs) {
  let partials = [];
  for (let x of xs) {
    const next = [];
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) next.push(lo);
      x = hi;
    }
    next.push(x);
    partials = next;
  }
  let hi = 0;
  while (partials.length) {
    const x = hi;
    const y = partials.pop();
    hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) {
      // round half to even as fsum does, from the next partial's sign
      if (partials.length && ((lo < 0 && partials[partials.length - 1] < 0) ||
          (lo > 0 && partials[partials.length - 1] > 0))) {
        const y2 = lo * 2, x2 = hi + y2;
        if (y2 === x2 - hi) hi = x2;
      }
      break;
    }
  }
  return hi;
}

function largestOrNaN(xs) {
  return xs.some((x) => x !== x) ? NaN : Math.max(...xs);
}

// x * log(y) (or log1p), and 0 where x = 0 unless y is nan: xlogy and xlog1py
function timesLog(log) {
  return (x, y) => (x === 0 && y === y ? 0 : x * log(y));
}

const B = {
  add(x, y) { return x + y; },
  sub(x, y) { return x - y; },
  mul(x, y) { return x * y; },
  div(x, y) { return x / y; }, // IEEE: x/±0 is ±inf, 0/0 and nan/0 are nan, as scalar.div
  neg(x) { return -x; },
  pow(x, y) {
    // C99's pow (Python's math.pow), where JavaScript's differs: 1**y and (-1)**±inf are 1
    if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
    return Math.pow(x, y); // 0**negative: ±inf as the pole's side says; negative**fraction: nan
  },
  pow1p(x, y) {
    // as cgcli/scalar.py: exp(y*log1p(x)) where 1+x would round away x's last digits
    if (x > -0.5 && x < 0.5 && (1 + x) - 1 !== x) return Math.exp(y * Math.log1p(x));
    return B.pow(1 + x, y);
  },
  exp(x) { return Math.exp(x); },
  exp2(x) { return Math.pow(2, x); },
  expm1(x) { return Math.expm1(x); },
  log(x) { return Math.log(x); },
  log2(x) { return Math.log2(x); },
  log10(x) { return Math.log10(x); },
  log1p(x) { return Math.log1p(x); },
  xlog1py: timesLog(Math.log1p),
  xlogy: timesLog(Math.log),
  sqrt(x) { return Math.sqrt(x); },
  cbrt(x) { return Math.cbrt(x); },
  sin(x) { return Math.sin(x); },
  cos(x) { return Math.cos(x); },
  tan(x) { return Math.tan(x); },
  asin(x) { return Math.asin(x); },
  acos(x) { return Math.acos(x); },
  atan(x) { return Math.atan(x); },
  atan2(x, y) { return Math.atan2(x, y); },
  sinh(x) { return Math.sinh(x); },
  cosh(x) { return Math.cosh(x); },
  tanh(x) { return Math.tanh(x); },
  asinh(x) { return Math.asinh(x); },
  acosh(x) { return Math.acosh(x); },
  atanh(x) { return Math.atanh(x); },
  sigmoid(x) {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const z = Math.exp(x); // x < 0 or nan
    return z / (1 + z);
  },
  softplus(x) {
    if (x !== x) return x;
    return (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
  },
  logaddexp(x, y) {
    if (x === y) return x + LOG2; // also inf === inf, where x - y would be nan
    const big = x > y ? x : y;
    return big + Math.log1p(Math.exp(-(x > y ? x - y : y - x)));
  },
  // any number of inputs, shifted by the largest (as cgcli/scalar.py)
  logsumexp(...xs) {
    const s = shifted(xs);
    return s === null ? largestOrNaN(xs) : s.m + Math.log1p(s.rest);
  },
  softmax(...xs) {
    const s = shifted(xs);
    return s === null ? NaN : s.terms[0] / (1 + s.rest);
  },
  logsoftmax(...xs) {
    const s = shifted(xs);
    return s === null ? NaN : (xs[0] === s.m ? 0 : xs[0] - s.m) - Math.log1p(s.rest);
  },
  // every local gradient at once, from all inputs (the table's `local`, as cgcli/scalar.py)
  logsumexp_grads(inputs, out) {
    const s = shifted(inputs);
    return s === null ? inputs.map(() => NaN) : s.terms.map((t) => t / (1 + s.rest));
  },
  softmax_grads(inputs, out) {
    const s = shifted(inputs);
    if (s === null) return inputs.map(() => NaN);
    const total = 1 + s.rest;
    return [out * (fsum(s.terms.slice(1)) / total), ...s.terms.slice(1).map((t) => -out * (t / total))];
  },
  logsoftmax_grads(inputs, out) {
    const s = shifted(inputs);
    if (s === null) return inputs.map(() => NaN);
    const total = 1 + s.rest;
    return [fsum(s.terms.slice(1)) / total, ...s.terms.slice(1).map((t) => -(t / total))];
  },
  tanh_grads(inputs, out) {
    if (Math.abs(out) < 2 / 3) return [1 - out * out];
    const c = 1 / Math.cosh(inputs[0]);
    return [c * c];
  },
  logsigmoid(x) { return -B.softplus(-x); },
  bce(x, y) { return (x > 0 ? x : 0) - x * y + Math.log1p(Math.exp(-Math.abs(x))); },
  relu(x) { return !(x <= 0) ? x : 0; }, // keeps nan; relu'(0) = sign(0) = 0
  abs(x) { return Math.abs(x); },
  sign(x) {
    if (x > 0) return 1;
    if (x < 0) return -1;
    return x !== x ? x : 0;
  },
  floor(x) { return Math.floor(x); },
  ceil(x) { return Math.ceil(x); },
  max(x, y) {
    if (x !== x || y !== y) return NaN;
    return x > y ? x : y; // y at a tie, as numpy's maximum
  },
  min(x, y) {
    if (x !== x || y !== y) return NaN;
    return x < y ? x : y;
  },
  hypot(x, y) { return Math.hypot(x, y); },
  erf(x) {
    if (x !== x) return x;
    if (Math.abs(x) < 1) return erfSmall(x);
    return x > 0 ? 1 - erfcLarge(x) : erfcLarge(-x) - 1;
  },
  erfc(x) {
    if (x !== x) return x;
    if (Math.abs(x) < 0.5) return 1 - erfSmall(x);
    return x > 0 ? erfcLarge(x) : 2 - erfcLarge(-x);
  },
};
