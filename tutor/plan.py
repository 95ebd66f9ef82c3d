"""The step plan: the ordered quantities a learner computes, each with its Formula.

Two decompositions (docs/lesson-format.md, "The step plan"):
- *paths*: the reference article's, for networks with at most one hidden layer and elementwise
  outputs: every hidden-weight gradient is a sum over output paths, ∂E_k/∂w per path.
- *delta*: the general one, δ_u = ∂E_total/∂sum_u per unit, with
  ∂E_total/∂out_h = Σ_k δ_k · w_kh, so deep nets never list exponentially many paths.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from tutor.formula import (
    Call,
    Diff,
    Formula,
    Given,
    Neg,
    Num,
    Product,
    Quot,
    Ref,
    Softmax,
    Square,
    Sum,
    product,
    total,
)
from tutor.lesson import Lesson, Problem
from tutor.names import label_for, suggest
from tutor.numbers import Numbers
from tutor.values import Value, set_part

MAX_PATH_WEIGHTS = 64
PHASE_FORWARD, PHASE_ERROR, PHASE_OUTPUT, PHASE_HIDDEN, PHASE_UPDATE = (
    "forward",
    "error",
    "output layer",
    "hidden layer",
    "update",
)

LOSS_WORDS = {
    "half_sse": "half squared error",
    "mse": "mean squared error",
    "cross_entropy": "cross-entropy",
    "binary_cross_entropy": "binary cross-entropy",
}


class Step(Value):
    """One quantity the learner computes (or is shown)."""

    id: str
    label: str
    value: float
    phase: str
    kind: str  # sum, out, error, total, dE_dout, dout_dsum, dsum_dw, dsum_dout, path, grad, delta, update
    formula: Formula
    meaning: str
    involves: tuple[str, ...] = ()  # units, weights and biases that take part (for the diagram)
    asked: bool = True
    hints: tuple[str, ...] = ()  # lesson overrides for hint levels 1..3
    unit: str | None = None  # the unit this step is about
    param: str | None = None  # the weight or bias this step is about
    error: str | None = None  # the output error of a single path (∂E_k/∂w)

    def __init__(
        self,
        id: str,
        label: str,
        value: float,
        phase: str,
        kind: str,
        formula: Formula,
        meaning: str,
        involves: tuple[str, ...] = (),
        asked: bool = True,
        hints: tuple[str, ...] = (),
        unit: str | None = None,
        param: str | None = None,
        error: str | None = None,
    ) -> None:
        """Written out: a big network's plan makes hundreds of thousands of steps."""
        parts = (id, label, value, phase, kind, formula, meaning)
        parts += (involves, asked, hints, unit, param, error)
        for name, part in zip(self._parts, parts, strict=True):
            set_part(self, name, part)

    @property
    def depends_on(self) -> tuple[str, ...]:
        return self.formula.refs()


class Plan:
    """The ordered steps of one lesson, with the engine's numbers they were read from."""

    def __init__(self, lesson: Lesson, numbers: Numbers, form: str) -> None:
        self.lesson, self.numbers, self.form = lesson, numbers, form
        self.steps: list[Step] = []  # the steps made so far, in order
        self._index: dict[str, int] = {}
        self._source: Iterator[None] | None = None  # makes more steps when advanced (lazily)
        self._length: int | None = None  # known in advance for the δ form

    # Steps are made as they are needed: a 784-128-10 network has 200,000 of them, and a
    # learner starts at the first. Everything below makes just enough of them.
    def _more(self) -> bool:
        if self._source is None:
            return False
        try:
            next(self._source)
            return True
        except StopIteration:
            self._source = None
            return False

    def _find(self, step_id: str) -> int | None:
        while step_id not in self._index:
            if not self._more():
                return None
        return self._index[step_id]

    def complete(self) -> list[Step]:
        """Every step (makes them all)."""
        while self._more():
            pass
        return self.steps

    def __len__(self) -> int:
        return self._length if self._length is not None else len(self.complete())

    def __iter__(self) -> Iterator[Step]:
        i = 0
        while i < len(self.steps) or self._more():
            if i < len(self.steps):
                yield self.steps[i]
                i += 1

    def __getitem__(self, key: int | str) -> Step:
        if isinstance(key, str):
            i = self._find(key)
            if i is None:
                raise KeyError(key)
            return self.steps[i]
        if isinstance(key, slice) or key < 0:
            return self.complete()[key]  # type: ignore[return-value]
        while key >= len(self.steps) and self._more():
            pass
        return self.steps[key]

    def __contains__(self, step_id: object) -> bool:
        return isinstance(step_id, str) and self._find(step_id) is not None

    def index(self, step_id: str) -> int:
        i = self._find(step_id)
        if i is None:
            raise ValueError(f"{step_id!r} is not a step of this plan")
        return i

    def values(self) -> dict[str, float]:
        """Every step's engine value by id (makes every step)."""
        return {s.id: s.value for s in self.complete()}

    @property
    def trace(self) -> Any:
        """The engine's one training step: ``trace.z[layer][unit]``, ``trace.grad_W[l][r, c]``…"""
        return self.numbers.trace

    def loss_history(self, iterations: int = 20) -> list[float]:
        """E_total before each of a number of further updates (index 1 = the second forward pass)."""
        return self.numbers.loss_history(iterations)

    def training_history(self) -> list[float] | None:
        """The loss summed over the lesson's training set, epoch by epoch (None without one)."""
        training = self.lesson.training
        if training is None:
            return None
        return self.numbers.training_history(training)


def choose_form(lesson: Lesson) -> str:
    """'paths' for the article's kind of network, 'delta' otherwise (or as the lesson asks)."""
    net = lesson.network
    paths_ok = (
        len(net.layers) <= 3
        and net.layers[-1].activation != "softmax"
        and len(net.weights) <= MAX_PATH_WEIGHTS  # paths multiply: keep them to small nets
    )
    if lesson.quiz.form == "paths" and paths_ok:
        return "paths"
    if lesson.quiz.form == "auto" and paths_ok:
        return "paths"
    return "delta"


def plan_problems(lesson: Lesson, plan: Plan) -> list[Problem]:
    """Checks that need the plan: quiz patterns and hint keys must name real steps."""
    file = lesson.file
    problems = []
    if lesson.quiz.form == "paths" and plan.form != "paths":
        problems.append(
            Problem(
                file,
                "quiz.form",
                "'paths' needs at most one hidden layer, no softmax and at most 64 weights",
            )
        )
    ids = [s.id for s in plan]
    for key in ("ask", "show"):
        for k, pattern in enumerate(getattr(lesson.quiz, key) or ()):
            if not fnmatch.filter(ids, pattern):
                problems.append(Problem(file, f"quiz.{key}[{k}]", f"'{pattern}' matches no step"))
    for step_id in lesson.quiz.step_tolerance:
        if step_id not in plan:
            problems.append(
                Problem(file, f'quiz.step_tolerance."{step_id}"', "no step has this id")
            )
    for step_id in lesson.hints:
        if step_id not in plan:
            near = suggest(step_id, ids)
            more = f" (did you mean '{near}'?)" if near else ""
            problems.append(Problem(file, f'hints."{step_id}"', f"no step has this id{more}"))
    if not any(s.asked for s in plan):
        problems.append(Problem(file, "quiz", "no step is asked"))
    return problems


def build_plan(lesson: Lesson, numbers: Numbers | None = None) -> Plan:
    """Lay out the steps (made as they are needed) from the engine's numbers: given (from the
    engine process), or computed here by running the engine on the lesson's network."""
    if numbers is None:
        from tutor.arrays import compile_network
        from tutor.numbers import LocalNumbers

        numbers = LocalNumbers(compile_network(lesson.network))
    plan = Plan(lesson, numbers, choose_form(lesson))
    builder = _Builder(plan)
    plan._source = builder.build()
    if plan.form == "delta":
        plan._length = builder.count_delta()
    return plan


class _Builder:
    """Lays out the steps; one method per kind of quantity."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.lesson = plan.lesson
        self.net = plan.lesson.network
        self.trace = plan.trace
        self.numbers = plan.numbers
        self.total = self.lesson.total_name
        self.weights_into: dict[str, list] = {}
        self.weights_from: dict[str, list] = {}
        self.weights_in_layer: dict[int, list] = {}
        pos = self.net.positions  # type: ignore[attr-defined]
        for w in self.net.weights:
            self.weights_into.setdefault(w.target, []).append(w)
            self.weights_from.setdefault(w.source, []).append(w)
            self.weights_in_layer.setdefault(w.layer, []).append(w)
        for lists, end in ((self.weights_into, "source"), (self.weights_from, "target")):
            for lst in lists.values():  # in unit order (the matrix form already is)
                keys = [pos[getattr(w, end)][1] for w in lst]
                if any(a > b for a, b in zip(keys, keys[1:], strict=False)):
                    lst.sort(key=lambda w, end=end: pos[getattr(w, end)][1])
        self.eta = Given("eta", self.net.learning_rate, "η")

    # --- bookkeeping
    def add(
        self,
        step_id: str,
        formula: Formula,
        value: float,
        phase: str,
        kind: str,
        meaning: str,
        involves: tuple[str, ...] = (),
        unit: str | None = None,
        param: str | None = None,
        error: str | None = None,
    ) -> Ref:
        if step_id not in self.plan._index:
            self.plan._index[step_id] = len(self.plan.steps)
            self.plan.steps.append(
                Step(
                    step_id,
                    label_for(step_id),
                    float(value),
                    phase,
                    kind,
                    formula,
                    meaning,
                    involves,
                    unit=unit,
                    param=param,
                    error=error,
                    asked=self.lesson.quiz.asks(step_id),
                    hints=self.lesson.hints.get(step_id, ()),
                )
            )
        return self.ref(step_id)

    def ref(self, step_id: str) -> Ref:
        s = self.plan[step_id]
        return Ref(s.id, s.label, s.value)

    def has(self, step_id: str) -> bool:
        return step_id in self.plan._index

    def pos(self, unit: str) -> tuple[int, int]:
        return self.net.unit_position(unit)

    def source_term(self, unit: str) -> Formula:
        """What a unit sends forward: its input value, or out_<unit>."""
        li, j = self.pos(unit)
        if li == 0:
            return Given(unit, self.net.inputs[j])
        return self.ref(f"out_{unit}")

    def bias_of(self, unit: str) -> tuple[str, float] | None:
        li, j = self.pos(unit)
        layer = self.net.layers[li]
        if layer.bias_names is None or layer.bias_values is None:
            return None
        return layer.bias_names[j], layer.bias_values[j]

    def target(self, k: int) -> Given:
        unit = self.net.output_units[k]
        return Given(f"target_{unit}", self.net.targets[k])

    # --- the whole plan, as a generator: each yield leaves a few more steps in the plan
    def build(self) -> Iterator[None]:
        yield from self.forward()
        self.errors()
        yield
        if self.plan.form == "paths":
            self.backward_paths()
            yield
        else:
            yield from self.backward_delta()

    def count_delta(self) -> int:
        """How many steps the δ form makes, without making them."""
        net = self.net
        L = len(net.layers) - 1
        softmax_ce = net.layers[-1].activation == "softmax" and net.loss == "cross_entropy"
        n = sum(2 * len(layer.units) for layer in net.layers[1:]) + len(net.output_units) + 1
        for li in range(L, 0, -1):
            layer = net.layers[li]
            n += len(layer.units) * (1 if li == L and softmax_ce else 3)
            n += 2 * len(self.weights_in_layer.get(li, []))
            if net.update_biases:
                n += 2 * len(self.bias_units(li))
        return n

    def forward(self) -> Iterator[None]:
        for layer in self.net.layers[1:]:
            if layer.activation == "softmax":
                for u in layer.units:
                    self.add_sum(u)
                for u in layer.units:
                    self.add_out(u)
                yield
            else:
                for u in layer.units:
                    self.add_sum(u)
                    self.add_out(u)
                    yield

    def add_sum(self, u: str) -> None:
        li, j = self.pos(u)
        terms: list[Formula] = [
            product(self.source_term(w.source), Given(w.name, w.value))
            for w in self.weights_into.get(u, [])
        ]
        bias = self.bias_of(u)
        if bias:
            terms.append(Given(bias[0], bias[1]))
        involves = (
            tuple(w.source for w in self.weights_into.get(u, []))
            + (u,)
            + tuple(w.name for w in self.weights_into.get(u, []))
            + ((bias[0],) if bias else ())
        )
        bias_words = f", then add the bias {bias[0]}" if bias else ""
        self.add(
            f"sum_{u}",
            total(*terms) if terms else Num(0.0),
            self.trace.z[li - 1][j],
            PHASE_FORWARD,
            "sum",
            f"sum_{u} is the net input of unit {u}: multiply each value arriving at {u} by the "
            f"weight on its edge and add the products{bias_words}.",
            involves,
            unit=u,
        )

    def add_out(self, u: str) -> None:
        li, j = self.pos(u)
        layer = self.net.layers[li]
        act = layer.activation or "linear"
        s = self.ref(f"sum_{u}")
        formula: Formula
        if act == "softmax":
            formula = Softmax(j, tuple(self.ref(f"sum_{v}") for v in layer.units))
        elif act == "linear":
            formula = s
        else:
            formula = Call(act, s)
        words = {
            "sigmoid": "squeeze it into (0, 1) with the sigmoid σ(x) = 1/(1 + e^(−x))",
            "tanh": "squeeze it into (−1, 1) with tanh",
            "relu": "pass it through ReLU: keep it if positive, otherwise 0",
            "linear": "pass it on unchanged (a linear unit)",
            "softmax": "take e^(sum) and divide by the same for every unit of the layer (softmax)",
        }[act]
        self.add(
            f"out_{u}",
            formula,
            self.trace.a[li][j],
            PHASE_FORWARD,
            "out",
            f"out_{u} is what unit {u} sends on: take sum_{u} and {words}.",
            (u,),
            unit=u,
        )

    def errors(self) -> None:
        loss = self.net.loss
        n = len(self.net.output_units)
        refs = []
        for k, o in enumerate(self.net.output_units):
            out = self.ref(f"out_{o}")
            t = self.target(k)
            if loss == "half_sse":
                f: Formula = Product((Num(0.5, "½"), Square(Diff(t, out))))
            elif loss == "mse":
                f = Quot(Square(Diff(t, out)), Num(float(n))) if n > 1 else Square(Diff(t, out))
            elif loss == "cross_entropy":
                f = Neg(Product((t, Call("ln", out))))
            else:
                f = Neg(
                    Sum(
                        (
                            Product((t, Call("ln", out))),
                            Product((Diff(Num(1.0), t), Call("ln", Diff(Num(1.0), out)))),
                        )
                    )
                )
            name = self.lesson.error_names[k]
            refs.append(
                self.add(
                    name,
                    f,
                    self.trace.errors[k],
                    PHASE_ERROR,
                    "error",
                    f"{name} is output {o}'s share of the error: compare out_{o} with its target "
                    f"{self.net.targets[k]:g} under the {LOSS_WORDS[loss]} loss.",
                    (o,),
                    unit=o,
                    error=name,
                )
            )
        self.add(
            self.total,
            total(*refs),
            self.trace.total,
            PHASE_ERROR,
            "total",
            f"{self.total} is the whole network's error: add the errors of all outputs.",
            tuple(self.net.output_units),
        )

    # --- pieces shared by both forms
    def dE_dout_output(self, k: int) -> Ref:
        o = self.net.output_units[k]
        out = self.ref(f"out_{o}")
        t = self.target(k)
        n = len(self.net.output_units)
        loss = self.net.loss
        if loss == "half_sse":
            f: Formula = Diff(out, t)
        elif loss == "mse":
            f = Product((Num(2.0), Diff(out, t)))
            f = Quot(f, Num(float(n))) if n > 1 else f
        elif loss == "cross_entropy":
            f = Neg(Quot(t, out))
        else:
            f = Quot(Diff(out, t), Product((out, Diff(Num(1.0), out))))
        return self.add(
            f"d{self.total}/dout_{o}",
            f,
            self.trace.dE_da[-1][k],
            PHASE_OUTPUT,
            "dE_dout",
            f"How fast {self.total} changes as out_{o} changes: differentiate the "
            f"{LOSS_WORDS[loss]} with respect to out_{o}; the other outputs' errors do not "
            f"depend on it.",
            (o,),
            unit=o,
        )

    def dout_dsum(self, u: str, phase: str) -> Ref:
        li, j = self.pos(u)
        act = self.net.layers[li].activation or "linear"
        out = self.ref(f"out_{u}")
        if act == "sigmoid":
            f: Formula = Product((out, Diff(Num(1.0), out)))
            rule = "the sigmoid's slope is out·(1 − out), written with the output, not the sum"
        elif act == "tanh":
            f = Diff(Num(1.0), Square(out))
            rule = "the slope of tanh is 1 − out²"
        elif act == "relu":
            f = Call("step", self.ref(f"sum_{u}"))
            rule = "ReLU's slope is 1 where sum > 0 and 0 elsewhere"
        else:
            f = Num(1.0)
            rule = "a linear unit's slope is 1"
        value = self.trace.da_dz[li - 1][j]  # type: ignore[index]
        return self.add(
            f"dout_{u}/dsum_{u}",
            f,
            value,
            phase,
            "dout_dsum",
            f"How out_{u} responds to a change in sum_{u}: {rule}.",
            (u,),
            unit=u,
        )

    def update(self, name: str, old: float, grad: Ref, new_value: float, kind_words: str) -> None:
        self.add(
            f"new_{name}",
            Diff(Given(name, old), product(self.eta, grad)),
            new_value,
            PHASE_UPDATE,
            "update",
            f"Gradient descent moves {kind_words} {name} a small step against its gradient: "
            f"new_{name} = {name} − η · ∂{self.total}/∂{name}, with η = {self.net.learning_rate:g}.",
            (name,),
            param=name,
        )

    def new_weight(self, name: str) -> float:
        li, r, c = self.numbers.weight_index[name]
        return self.trace.new.W[li][r, c]

    def grad_weight(self, name: str) -> float:
        li, r, c = self.numbers.weight_index[name]
        return self.trace.grad_W[li][r, c]

    def bias_units(self, layer_index: int) -> dict[str, list[str]]:
        layer = self.net.layers[layer_index]
        groups: dict[str, list[str]] = {}
        for u, b in zip(layer.units, layer.bias_names or (), strict=False):
            groups.setdefault(b, []).append(u)
        return groups

    def bias_update(self, name: str, units: list[str], terms: list[Formula]) -> None:
        g = self.numbers.bias_group[name]
        li, j = self.pos(units[0])
        old = self.net.layers[li].bias_values[j]  # type: ignore[index]
        shared = (
            f" {name} is shared by {', '.join(units)}, so add one term per unit."
            if len(units) > 1
            else ""
        )
        grad = self.add(
            f"d{self.total}/d{name}",
            total(*terms) if terms else Num(0.0),
            self.trace.grad_bias_groups[g],
            self.phase_of(li),
            "grad",
            f"A bias enters sum like a weight whose input is always 1, so its gradient is the "
            f"error signal at the sum it feeds.{shared}",
            (name, *units),
            param=name,
        )
        self.update(name, old, grad, self.trace.new.b[li - 1][j], "the bias")

    def phase_of(self, layer_index: int) -> str:
        return PHASE_OUTPUT if layer_index == len(self.net.layers) - 1 else PHASE_HIDDEN

    # --- the article's decomposition
    def backward_paths(self) -> None:
        L = len(self.net.layers) - 1
        outputs = self.net.output_units
        for w in self.net.weights:
            if self.pos(w.target)[0] == L:
                self.output_weight(w)
        if self.net.update_biases:
            for name, units in self.bias_units(L).items():
                terms = [product(*self.output_chain(self.pos(u)[1])) for u in units]
                self.bias_update(name, units, terms)
        if L == 1:
            return
        for w in self.net.weights:
            if self.pos(w.target)[0] == 1:
                self.hidden_weight(w, outputs)
        if self.net.update_biases:
            for name, units in self.bias_units(1).items():
                terms = []
                for h in units:
                    for v in self.weights_from.get(h, []):
                        k = self.pos(v.target)[1]
                        terms.append(
                            product(
                                *self.output_chain(k),
                                self.dsum_dout(v),
                                self.dout_dsum(h, PHASE_HIDDEN),
                            )
                        )
                self.bias_update(name, units, terms)

    def output_chain(self, k: int) -> tuple[Ref, Ref]:
        o = self.net.output_units[k]
        return self.dE_dout_output(k), self.dout_dsum(o, PHASE_OUTPUT)

    def output_weight(self, w) -> None:
        k = self.pos(w.target)[1]
        dE, dout = self.output_chain(k)
        src = self.source_term(w.source)
        dsum = self.add(
            f"dsum_{w.target}/d{w.name}",
            src,
            src.evaluate(),
            PHASE_OUTPUT,
            "dsum_dw",
            f"sum_{w.target} contains {w.name} only in the term {src.render()}·{w.name}, so "
            f"its derivative with respect to {w.name} is {src.render()}, the value arriving "
            f"from {w.source}.",
            (w.source, w.name, w.target),
            unit=w.target,
            param=w.name,
        )
        grad = self.add(
            f"d{self.total}/d{w.name}",
            product(dE, dout, dsum),
            self.grad_weight(w.name),
            PHASE_OUTPUT,
            "grad",
            f"Chain rule along the one path from {self.total} down to {w.name}: multiply "
            f"∂{self.total}/∂out_{w.target}, ∂out_{w.target}/∂sum_{w.target} and "
            f"∂sum_{w.target}/∂{w.name}.",
            (w.source, w.name, w.target),
            unit=w.target,
            param=w.name,
        )
        self.update(w.name, w.value, grad, self.new_weight(w.name), "the weight")

    def dsum_dout(self, v) -> Ref:
        """∂sum_o/∂out_h for the weight v: h → o, which is v itself."""
        return self.add(
            f"dsum_{v.target}/dout_{v.source}",
            Given(v.name, v.value),
            v.value,
            PHASE_HIDDEN,
            "dsum_dout",
            f"sum_{v.target} contains out_{v.source} only in the term out_{v.source}·{v.name}, "
            f"so the derivative is the weight {v.name} (its value before the update).",
            (v.source, v.name, v.target),
            unit=v.source,
            param=v.name,
        )

    def hidden_weight(self, w, outputs: tuple[str, ...]) -> None:
        h = w.target
        paths = self.weights_from.get(h, [])
        src = self.source_term(w.source)
        per_path: list[Ref] = []
        chains = []
        for v in paths:
            k = self.pos(v.target)[1]
            dsum_dout = self.dsum_dout(v)
            dout_h = self.dout_dsum(h, PHASE_HIDDEN)
            dsum_dw = self.add(
                f"dsum_{h}/d{w.name}",
                src,
                src.evaluate(),
                PHASE_HIDDEN,
                "dsum_dw",
                f"sum_{h} contains {w.name} only in the term {src.render()}·{w.name}, so the "
                f"derivative is {src.render()}, the value arriving from {w.source}.",
                (w.source, w.name, h),
                unit=h,
                param=w.name,
            )
            chain = (*self.output_chain(k), dsum_dout, dout_h, dsum_dw)
            chains.append(chain)
            if len(paths) > 1:
                e_name = self.lesson.error_names[k]
                path_grad = self.numbers.path_gradient(k)
                li, r, c = self.numbers.weight_index[w.name]
                per_path.append(
                    self.add(
                        f"d{e_name}/d{w.name}",
                        product(*chain),
                        path_grad[li][r, c],
                        PHASE_HIDDEN,
                        "path",
                        f"The share of the gradient that reaches {w.name} from {e_name} alone: "
                        f"multiply the local derivatives along the path {e_name} → out_{outputs[k]} "
                        f"→ sum_{outputs[k]} → out_{h} → sum_{h} → {w.name}.",
                        (w.source, w.name, h, v.name, v.target),
                        unit=h,
                        param=w.name,
                        error=e_name,
                    )
                )
        if len(paths) > 1:
            formula: Formula = total(*per_path)
            words = (
                f"{w.name} reaches {self.total} through every output that {h} feeds, so "
                f"add the contributions of all {len(paths)} paths."
            )
        elif paths:
            formula = product(*chains[0])
            words = (
                f"Chain rule along the single path from {self.total} down to {w.name}: "
                f"multiply the local derivatives."
            )
        else:
            formula = Num(0.0)
            words = f"{h} feeds no output, so {w.name} does not change {self.total}."
        grad = self.add(
            f"d{self.total}/d{w.name}",
            formula,
            self.grad_weight(w.name),
            PHASE_HIDDEN,
            "grad",
            words,
            (w.source, w.name, h, *(v.name for v in paths), *(v.target for v in paths)),
            unit=h,
            param=w.name,
        )
        self.update(w.name, w.value, grad, self.new_weight(w.name), "the weight")

    # --- the δ form
    def backward_delta(self) -> Iterator[None]:
        L = len(self.net.layers) - 1
        softmax_ce = (
            self.net.layers[-1].activation == "softmax" and self.net.loss == "cross_entropy"
        )
        for li in range(L, 0, -1):
            layer = self.net.layers[li]
            phase = self.phase_of(li)
            for j, u in enumerate(layer.units):
                if li == L and softmax_ce:
                    self.add(
                        f"delta_{u}",
                        Diff(self.ref(f"out_{u}"), self.target(j)),
                        self.trace.delta[li - 1][j],
                        phase,
                        "delta",
                        f"δ_{u} = ∂{self.total}/∂sum_{u}. With softmax and cross-entropy the "
                        f"softmax slope and the log's derivative cancel, leaving out_{u} − "
                        f"target_{u}.",
                        (u,),
                        unit=u,
                    )
                    continue
                dE = self.dE_dout_output(j) if li == L else self.dE_dout_hidden(u)
                dout = self.dout_dsum(u, phase)
                self.add(
                    f"delta_{u}",
                    product(dE, dout),
                    self.trace.delta[li - 1][j],
                    phase,
                    "delta",
                    f"δ_{u} = ∂{self.total}/∂sum_{u}, the error signal at {u}: multiply "
                    f"∂{self.total}/∂out_{u} by the activation's slope ∂out_{u}/∂sum_{u}.",
                    (u,),
                    unit=u,
                )
                yield
            for w in self.weights_in_layer.get(li, []):
                grad = self.add(
                    f"d{self.total}/d{w.name}",
                    product(self.ref(f"delta_{w.target}"), self.source_term(w.source)),
                    self.grad_weight(w.name),
                    phase,
                    "grad",
                    f"∂{self.total}/∂{w.name} = δ_{w.target} · (the value arriving from "
                    f"{w.source}), because sum_{w.target} changes by that value per unit of "
                    f"{w.name}.",
                    (w.source, w.name, w.target),
                    unit=w.target,
                    param=w.name,
                )
                self.update(w.name, w.value, grad, self.new_weight(w.name), "the weight")
                yield
            if self.net.update_biases:
                for name, units in self.bias_units(li).items():
                    self.bias_update(name, units, [self.ref(f"delta_{u}") for u in units])
                yield

    def dE_dout_hidden(self, u: str) -> Ref:
        li, j = self.pos(u)
        outgoing = self.weights_from.get(u, [])
        terms = [product(self.ref(f"delta_{v.target}"), Given(v.name, v.value)) for v in outgoing]
        return self.add(
            f"d{self.total}/dout_{u}",
            total(*terms) if terms else Num(0.0),
            self.trace.dE_da[li - 1][j],
            PHASE_HIDDEN,
            "dE_dout",
            f"out_{u} reaches {self.total} through every unit it feeds: add δ_k · w over those "
            f"units, using the weights before the update.",
            (u, *(v.name for v in outgoing), *(v.target for v in outgoing)),
            unit=u,
        )
