// The circuit page's script: stepping through the forward pass and backprop, and recomputing
// every number when a variable changes. B (the backend) and OPS (the ops table, its local
// gradients written by cg from cgcli/ops.py) come before it. The page's data is JSON, read with
// JSON.parse: no text of the user's is ever run as code.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("cg-data").textContent);
  const COLORS = DATA.colors;

  function num(v) {
    if (v === null || typeof v === "number") return v;
    return v === "nan" ? NaN : v === "inf" ? Infinity : -Infinity;
  }

  // A number as cg prints it (Python's shortest repr, without a trailing .0).
  function fmt(v) {
    if (v !== v) return "nan";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "-inf";
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    const [mantissa, exponent] = Math.abs(v).toExponential().split("e");
    const e = Number(exponent);
    const digits = mantissa.replace(".", "");
    const sign = v < 0 ? "-" : "";
    if (e >= -4 && e < 16) {
      if (e < 0) return sign + "0." + "0".repeat(-e - 1) + digits;
      const whole = digits.slice(0, e + 1).padEnd(e + 1, "0");
      const fraction = digits.slice(e + 1);
      return sign + whole + (fraction ? "." + fraction : "");
    }
    const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    return sign + m + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }

  function stripZeros(text) {
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }

  // A number to `digits` significant digits, as the pictures print it (Python's "g"; 0 for -0).
  function rounded(v, digits) {
    if (digits >= 17) return fmt(v);
    if (v !== v || v === Infinity || v === -Infinity) return fmt(v);
    if (v === 0) return "0";
    const [m, exponent] = v.toExponential(digits - 1).split("e");
    const e = Number(exponent);
    if (e < -4 || e >= digits) {
      return stripZeros(m) + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
    }
    return stripZeros(v.toFixed(Math.max(0, digits - 1 - e)));
  }

  // A variable's text as cg reads a number: decimal or scientific, or inf, -inf, nan.
  function parseNumber(text) {
    const t = text.trim();
    if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(t)) return NaN;
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
    return null;
  }

  // The forward pass and backprop over one circuit, in the order cg runs them (cgcli/engine.py):
  // the same sums in the same order give the same floats.
  function compute(view, env) {
    const nodes = view.nodes;
    const values = new Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      if (node.op === "var") values[i] = env.get(node.name);
      else if (node.op === "const") values[i] = num(node.constant);
      else values[i] = OPS[node.op].forward(...node.inputs.map((j) => values[j]));
    }
    const grads = new Array(nodes.length).fill(null);
    grads[view.output] = 1;
    const trace = [];
    for (const step of view.backward) {
      if (step.fork !== undefined) continue;
      const inputs = nodes[step.gate].inputs;
      const upstream = grads[step.gate];
      const op = OPS[nodes[step.gate].op];
      // an op with `local` (tanh, logsumexp of any number of inputs) computes its local
      // gradients from all its inputs at once
      const local = op.local
        ? op.local(inputs.map((j) => values[j]), values[step.gate])[step.k]
        : op.grads[step.k](values[inputs[0]], values[inputs[1]], values[step.gate]);
      const contribution = upstream * local;
      grads[step.to] = grads[step.to] === null ? contribution : grads[step.to] + contribution;
      trace.push([upstream, local, contribution]);
    }
    return { values, grads, trace };
  }

  const views = DATA.views.map((view, v) => {
    const forward = view.nodes.length;
    const gateIndex = []; // backward step → its place among the gate steps (the trace)
    const wireStep = new Array(view.wires.length).fill(-1); // wire → the backward step filling it
    const lastInto = new Array(view.nodes.length).fill(-1); // node → its last contribution's step
    let g = 0;
    view.backward.forEach((step, j) => {
      if (step.fork !== undefined) { gateIndex.push(-1); return; }
      gateIndex.push(g++);
      wireStep[step.wire] = j;
      lastInto[step.to] = j;
    });
    const svg = (id) => document.getElementById(`v${v}-${id}`);
    const texts = (group, color) => group ? [...group.querySelectorAll("text")]
      .filter((t) => (t.getAttribute("fill") || "").toLowerCase() === color) : [];
    const wires = view.wires.map((w, k) => {
      const group = svg(`w${k}`);
      return { group, value: texts(group, COLORS.value)[0], grad: texts(group, COLORS.grad)[0] };
    });
    const nodes = view.nodes.map((node, i) => {
      const group = svg(`g${i}`);
      return { group, total: node.op === "var" ? texts(group, COLORS.grad)[0] : undefined };
    });
    return {
      data: view, forward, total: forward + view.backward.length, gateIndex, wireStep, lastInto,
      wires, nodes, numbers: {
        values: view.values.map(num), grads: view.grads.map(num),
        trace: view.trace.map((t) => t.map(num)),
      },
      at: forward + view.backward.length, aligned: false, panel: document.querySelector(
        `[data-view-panel="${v}"]`),
    };
  });

  const env = new Map(DATA.variables.map((v) => [v.name, num(v.value)]));
  let active = 0;
  let timer = null;

  // Graphviz anchors a label's text at its left end; numbers change width, so each is centred.
  function align(view) {
    if (view.aligned) return;
    view.aligned = true;
    const all = [];
    for (const w of view.wires) all.push(w.value, w.grad);
    for (const n of view.nodes) all.push(n.total);
    for (const t of all) {
      if (!t) continue;
      const box = t.getBBox();
      t.setAttribute("x", box.x + box.width / 2);
      t.setAttribute("text-anchor", "middle");
    }
  }

  function stepText(view, s) {
    const data = view.data, nodes = data.nodes, { values, grads, trace } = view.numbers;
    if (s < view.forward) {
      const node = nodes[s];
      if (node.op === "var") return `#${s} var ${node.text}: ${node.text} = ${fmt(values[s])}`;
      if (node.op === "const") return `#${s} const ${node.text}: ${fmt(values[s])}`;
      const args = node.inputs.map((j) => fmt(values[j])).join(", ");
      return `#${s} ${node.op} ${node.text}: ${node.op}(${args}) = ${fmt(values[s])}`;
    }
    const j = s - view.forward;
    const step = data.backward[j];
    if (step.fork !== undefined) {
      const parts = step.parts.map((p) => fmt(trace[view.gateIndex[p]][2])).join(" + ");
      return `fork at #${step.fork} ${nodes[step.fork].text}: ${parts} = ${fmt(grads[step.fork])}`;
    }
    const [upstream, local, contribution] = trace[view.gateIndex[j]];
    return `#${step.gate} ${nodes[step.gate].op} gate ${nodes[step.gate].text}: upstream ` +
      `${fmt(upstream)} × local ${fmt(local)} = ${fmt(contribution)} to #${step.to} ` +
      `${nodes[step.to].text}`;
  }

  function show(element, text, visible) {
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("pending", !visible);
  }

  // Where nan or inf first appears, as cg says it (cgcli/engine.py): a nan is news when no input
  // is nan; an inf when every input is finite, and only until the first warning.
  function isNews(v, args, nanOnly) {
    if (v !== v) return args.every((a) => a === a);
    return !nanOnly && !Number.isFinite(v) && args.every(Number.isFinite);
  }

  function warning(view) {
    const nodes = view.data.nodes, { values, trace } = view.numbers;
    const said = [];
    for (const [name, v] of env) if (!Number.isFinite(v)) said.push(`variable ${name} is ${fmt(v)}`);
    let first = null;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i], args = node.inputs.map((j) => values[j]);
      if (!node.inputs.length || Number.isFinite(values[i]) || !isNews(values[i], args, first !== null)) continue;
      said.push(`value ${fmt(values[i])} first appears at node #${i} (${node.op}) ` +
        `'${node.text}' from input ${args.map(fmt).join(", ")}`);
      if (first !== null || values[i] !== values[i]) break;
      first = i;
    }
    const sums = new Map();
    for (const [j, step] of view.data.backward.entries()) {
      if (step.fork !== undefined) continue;
      const [upstream, local, contribution] = trace[view.gateIndex[j]];
      const gate = nodes[step.gate], to = nodes[step.to];
      if (!Number.isFinite(contribution) && isNews(contribution, [upstream], false)) {
        said.push(`gradient ${fmt(contribution)} first appears at node #${step.gate} ` +
          `(${gate.op}) '${gate.text}': upstream ${fmt(upstream)} × local gradient ` +
          `${fmt(local)} for input '${to.text}'`);
        break;
      }
      if (!sums.has(step.to)) { sums.set(step.to, contribution); continue; }
      const sum = sums.get(step.to) + contribution;
      sums.set(step.to, sum);
      if (!Number.isFinite(sum) && isNews(sum, [contribution], false)) {
        said.push(`gradient ${fmt(sum)} first appears at node #${step.to} '${to.text}', ` +
          "where its contributions add up");
        break;
      }
    }
    return said.join("; ");
  }

  function render() {
    const view = views[active], data = view.data, at = view.at, digits = DATA.digits;
    const { values, grads } = view.numbers;
    document.querySelector('[data-value="f"]').textContent = fmt(values[data.output]);
    document.querySelector("[data-warning]").textContent = warning(view);
    for (const out of document.querySelectorAll("[data-grad]")) {
      const i = data.nodes.findIndex((n) => n.op === "var" && n.name === out.dataset.grad);
      out.textContent = i < 0 || grads[i] === null ? "0" : fmt(grads[i]);
    }
    const backDone = at - view.forward; // backward steps done (negative: forward still running)
    for (const el of document.querySelectorAll(".circuit .current")) el.classList.remove("current");
    data.wires.forEach(([from, to], k) => {
      const wire = view.wires[k];
      show(wire.value, rounded(values[from], digits), from < at);
      const g = to < 0 ? 1 : grads === null ? null : wireGrad(view, k);
      if (wire.grad) show(wire.grad, rounded(g, digits), to < 0 ? backDone >= 0 : view.wireStep[k] < backDone);
    });
    data.nodes.forEach((node, i) => {
      const total = view.nodes[i].total;
      if (total) show(total, `∂f/∂${node.name} = ${rounded(grads[i], digits)}`, view.lastInto[i] < backDone);
    });
    const current = at - 1;
    if (current >= 0 && current < view.forward) {
      highlight(view.nodes[current].group);
      data.wires.forEach(([from], k) => { if (from === current) highlight(view.wires[k].group); });
    } else if (current >= view.forward) {
      const step = data.backward[current - view.forward];
      if (step.fork !== undefined) {
        highlight(view.nodes[step.fork].group);
        for (const p of step.parts) highlight(view.wires[data.backward[p].wire].group);
      } else {
        highlight(view.nodes[step.gate].group);
        highlight(view.wires[step.wire].group);
      }
    }
    const phase = at === 0 ? "" : at <= view.forward ? " · forward pass" : " · backprop";
    document.querySelector("[data-counter]").textContent = `step ${at} of ${view.total}${phase}`;
    document.querySelector("[data-step]").textContent = at === 0
      ? "Press next (→) to run the forward pass gate by gate, then backprop from ∂f/∂f = 1."
      : stepText(view, at - 1);
    document.querySelector('[data-action="prev"]').disabled = at === 0;
    document.querySelector('[data-action="next"]').disabled = at === view.total;
  }

  function wireGrad(view, k) {
    const j = view.wireStep[k];
    return j < 0 ? null : view.numbers.trace[view.gateIndex[j]][2];
  }

  function highlight(group) {
    if (group) group.classList.add("current");
  }

  function go(to) {
    const view = views[active];
    view.at = Math.max(0, Math.min(view.total, to));
    render();
  }

  function stop() {
    if (timer === null) return;
    clearInterval(timer);
    timer = null;
    const play = document.querySelector('[data-action="play"]');
    play.textContent = "▶ play";
    play.setAttribute("aria-pressed", "false");
  }

  function play() {
    if (timer !== null) { stop(); return; }
    const view = views[active];
    if (view.at === view.total) go(0);
    const button = document.querySelector('[data-action="play"]');
    button.textContent = "⏸ pause";
    button.setAttribute("aria-pressed", "true");
    timer = setInterval(() => {
      const v = views[active];
      if (v.at >= v.total) stop(); else go(v.at + 1);
    }, 700);
  }

  function recompute() {
    for (const view of views) view.numbers = compute(view.data, env);
    render();
  }

  function choose(index) {
    stop();
    active = index;
    for (const [i, view] of views.entries()) if (view.panel) view.panel.hidden = i !== index;
    for (const b of document.querySelectorAll("[data-view]")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.view) === index));
    }
    align(views[index]);
    render();
  }

  function setVariable(name, value) {
    env.set(name, value);
    recompute();
  }

  for (const field of document.querySelectorAll("[data-var]")) {
    const name = field.dataset.var;
    const row = field.closest(".var");
    const slider = row.querySelector("[data-slider]");
    const note = row.querySelector(".note");
    const start = env.get(name);
    const span = Number.isFinite(start) ? 2 * Math.max(1, Math.abs(start)) : 1;
    slider.min = String(Number.isFinite(start) ? start - span : -1);
    slider.max = String(Number.isFinite(start) ? start + span : 1);
    slider.step = "any";
    slider.value = String(Number.isFinite(start) ? start : 0);
    field.addEventListener("input", () => {
      const value = parseNumber(field.value);
      if (value === null) {
        field.setAttribute("aria-invalid", "true");
        note.textContent = `not a number: the circuit keeps ${name} = ${fmt(env.get(name))}`;
        return;
      }
      field.removeAttribute("aria-invalid");
      note.textContent = "";
      if (Number.isFinite(value)) slider.value = String(value);
      setVariable(name, value);
    });
    slider.addEventListener("input", () => {
      field.value = slider.value;
      field.removeAttribute("aria-invalid");
      note.textContent = "";
      setVariable(name, Number(slider.value));
    });
  }

  document.querySelector('[data-action="prev"]').addEventListener("click", () => { stop(); go(views[active].at - 1); });
  document.querySelector('[data-action="next"]').addEventListener("click", () => { stop(); go(views[active].at + 1); });
  document.querySelector('[data-action="play"]').addEventListener("click", play);
  for (const b of document.querySelectorAll("[data-view]")) {
    b.addEventListener("click", () => choose(Number(b.dataset.view)));
  }
  document.addEventListener("keydown", (event) => {
    const tag = event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key in moves) { stop(); go(views[active].at + moves[event.key]); }
    else if (event.key === "Home") { stop(); go(0); }
    else if (event.key === "End") { stop(); go(views[active].total); }
    else return;
    event.preventDefault();
  });
  window.addEventListener("beforeprint", () => { stop(); go(views[active].total); });

  choose(0);
})();
