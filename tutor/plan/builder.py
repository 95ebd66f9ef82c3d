"""What every part of the plan is built with: adding a step, naming earlier ones, and the
pieces both backward forms share (the loss's slope, an activation's slope, a gradient with
its update). The parts themselves are in ``forward``, ``paths`` and ``delta``."""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING

from tutor.activations import LOSSES
from tutor.formula import Diff, Formula, Given, Num, Ref, product, total
from tutor.lesson.model import Weight
from tutor.names import example_tag, label_for, pass_tag, velocity_name
from tutor.plan.steps import PHASE_HIDDEN, PHASE_OUTPUT, PHASE_UPDATE, Plan, Step

if TYPE_CHECKING:
    from numpy import ndarray


class Builder:
    """Lays out the steps of one plan from its lesson and its engine trace."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.lesson = plan.lesson
        self.net = plan.lesson.network
        self.trace = plan.trace
        self.loss = LOSSES[self.net.loss]
        self.total = self.lesson.total_name
        self.weights_into: dict[str, list[Weight]] = {}
        self.weights_from: dict[str, list[Weight]] = {}
        self.weights_in_layer: dict[int, list[Weight]] = {}
        pos = self.net.positions
        for w in self.net.weights:
            self.weights_into.setdefault(w.target, []).append(w)
            self.weights_from.setdefault(w.source, []).append(w)
            self.weights_in_layer.setdefault(w.layer, []).append(w)
        for lists, end in ((self.weights_into, "source"), (self.weights_from, "target")):
            for lst in lists.values():  # in unit order (the matrix form already is)
                keys = [pos[getattr(w, end)][1] for w in lst]
                if any(a > b for a, b in zip(keys, keys[1:], strict=False)):
                    lst[:] = [w for _, w in sorted(zip(keys, lst, strict=True), key=itemgetter(0))]
        self.eta = Given("eta", self.net.learning_rate, "η")
        self.grad_kind = "grad"  # "batch_grad" for a mini-batch's own gradients
        self.decay = Given("lambda", self.net.weight_decay, "λ") if self.net.weight_decay else None
        self.mu = Given("mu", self.net.momentum, "μ") if self.net.momentum is not None else None
        self.iteration = 0  # the hand-worked iteration being laid out (0: the first)
        self.tag = ""  # its step ids' tag
        self.example: int | None = None  # the mini-batch's example being laid out
        self.updates = True  # gradients come with their updates (not in a batch's examples)
        self.inputs, self.targets = self.net.inputs, self.net.targets

    def begin_example(self, k: int) -> None:
        """Lay out the k-th example of a mini-batch (from 0): its forward pass, its own loss
        and its own gradients, with ids and inputs tagged ``[k+1]``; no decay, no update."""
        self.example, self.updates = k, False
        self.tag = example_tag(k + 1)
        self.trace = self.plan.examples[k]
        self.inputs, self.targets = self.net.batch[k]

    def begin_batch(self) -> None:
        """Lay out the mini-batch's own steps: its loss, gradients and updates."""
        self.example, self.updates, self.tag = None, True, ""
        self.trace = self.plan.trace

    def path_gradient(self, k: int) -> tuple[ndarray, ...]:
        """The k-th output's error alone, in the iteration or example being laid out."""
        return self.plan.path_gradient(k, self.iteration, self.example)

    def begin_iteration(self, iteration: int) -> None:
        """Lay out the steps of another hand-worked iteration: its own trace and tag, the
        weights read from the updates of the one before."""
        self.iteration = iteration
        self.tag = pass_tag(iteration + 1)
        self.trace = self.plan.traces[iteration]

    def param(self, name: str, value: float) -> Formula:
        """A weight's or bias's value in this iteration: the lesson's given in the first, the
        previous iteration's update step (``new_w5``) in a later one, when it was updated."""
        if self.iteration:  # the first iteration (every big lesson) needs no look-up
            new = f"new_{name}{pass_tag(self.iteration)}"
            if new in self.plan.index_of:
                return self.ref_id(new)
        return Given(name, value)

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
        """Add a step (once: a step reached along a second path is the same step), with this
        iteration's tag on its id."""
        step_id += self.tag
        if step_id not in self.plan.index_of:
            quiz = self.lesson.quiz
            self.plan.append(
                Step(
                    step_id,
                    label_for(step_id),
                    float(value),
                    phase,
                    kind,
                    formula,
                    meaning,
                    involves,
                    asked=quiz.asks(step_id),
                    hints=self.lesson.hints.get(step_id, ()),
                    unit=unit,
                    param=param,
                    error=error,
                    tag=self.tag,
                )
            )
        return self.ref_id(step_id)

    def ref(self, step_id: str) -> Ref:
        """An earlier step of this iteration, by its id without the tag."""
        return self.ref_id(step_id + self.tag)

    def ref_id(self, full_id: str) -> Ref:
        s = self.plan[full_id]
        return Ref(s.id, s.label, s.value)

    def pos(self, unit: str) -> tuple[int, int]:
        return self.net.unit_position(unit)

    def source_term(self, unit: str) -> Formula:
        """What a unit sends forward: its input value, or out_<unit>."""
        li, j = self.pos(unit)
        if li == 0:
            name = unit if self.example is None else unit + self.tag
            return Given(name, self.inputs[j])
        return self.ref(f"out_{unit}")

    def target(self, k: int) -> Given:
        unit = self.net.output_units[k]
        name = f"target_{unit}" if self.example is None else f"target_{unit}{self.tag}"
        return Given(name, self.targets[k])

    def phase_of(self, layer_index: int) -> str:
        return PHASE_OUTPUT if layer_index == len(self.net.layers) - 1 else PHASE_HIDDEN

    def bias_units(self, layer_index: int) -> dict[str, list[str]]:
        """Each bias of a layer and the units that add it."""
        layer = self.net.layers[layer_index]
        groups: dict[str, list[str]] = {}
        for u, b in zip(layer.units, layer.bias_names or (), strict=False):
            groups.setdefault(b, []).append(u)
        return groups

    def old_velocity(self, param: str) -> Formula:
        """The velocity of ``param`` before the step: a given when the lesson lists it (and
        the diagram shows it), otherwise the literal 0."""
        if self.iteration:
            return self.ref_id(f"new_{velocity_name(param)}{pass_tag(self.iteration)}")
        if param in self.net.velocities:
            return Given(velocity_name(param), self.net.velocities[param])
        return Num(0.0)

    # --- pieces shared by both backward forms
    def dE_dout_output(self, k: int) -> Ref:
        o = self.net.output_units[k]
        n = len(self.net.output_units)
        return self.add(
            f"d{self.total}/dout_{o}",
            self.loss.slope_formula(self.ref(f"out_{o}"), self.target(k), n),
            self.trace.dE_da[-1][k],
            PHASE_OUTPUT,
            "dE_dout",
            f"How fast {self.total} changes as out_{o} changes: differentiate the "
            f"{self.loss.words} with respect to out_{o}; the other outputs' errors do not "
            f"depend on it.",
            (o,),
            unit=o,
        )

    def dout_dsum(self, u: str, phase: str) -> Ref:
        li, j = self.pos(u)
        act = self.net.activation_of(u)
        slopes = self.trace.da_dz[li - 1]
        assert slopes is not None, "a layer-wide activation has no ∂out/∂sum step"
        return self.add(
            f"dout_{u}/dsum_{u}",
            act.slope_formula(self.ref(f"out_{u}"), self.ref(f"sum_{u}")),
            slopes[j],
            phase,
            "dout_dsum",
            f"How out_{u} responds to a change in sum_{u}: {act.slope_rule}.",
            (u,),
            unit=u,
        )

    def output_chain(self, k: int) -> tuple[Ref, Ref]:
        """∂E_total/∂out_o and ∂out_o/∂sum_o of the k-th output."""
        o = self.net.output_units[k]
        return self.dE_dout_output(k), self.dout_dsum(o, PHASE_OUTPUT)

    def weight_gradient(
        self,
        w: Weight,
        formula: Formula,
        phase: str,
        meaning: str,
        involves: tuple[str, ...],
        unit: str,
    ) -> None:
        """∂E_total/∂w and the update of w."""
        li, r, c = self.plan.compiled.weight_index[w.name]
        grad = self.trace.grad_W[li][r, c]
        new = self.trace.new.W[li][r, c]
        if self.decay is not None and self.updates:
            formula = total(formula, product(self.decay, self.param(w.name, w.value)))
            meaning += (
                f" The weight-decay term (λ/2)·{w.name}² of {self.total} adds λ · {w.name} to "
                f"the gradient."
            )
        velocity = None
        if self.trace.velocity is not None:
            velocity = float(self.trace.velocity.W[li][r, c])
        self.gradient_step(
            w.name, formula, grad, phase, meaning, involves, unit, w.value, new, velocity
        )

    def bias_gradient(self, name: str, units: list[str], terms: list[Formula]) -> None:
        """∂E_total/∂b (one term per unit that adds b) and the update of b."""
        li, j = self.pos(units[0])
        bias = self.net.bias_of(units[0])
        assert bias is not None, f"{units[0]} adds no bias"
        shared = (
            f" {name} is shared by {', '.join(units)}, so add one term per unit."
            if len(units) > 1
            else ""
        )
        self.gradient_step(
            name,
            total(*terms) if terms else Num(0.0),
            self.trace.grad_bias_groups[self.plan.compiled.bias_group[name]],
            self.phase_of(li),
            f"A bias enters sum like a weight whose input is always 1, so its gradient is the "
            f"error signal at the sum it feeds.{shared}",
            (name, *units),
            None,
            bias[1],
            self.trace.new.b[li - 1][j],
            None if self.trace.velocity is None else float(self.trace.velocity.b[li - 1][j]),
        )

    def gradient_step(
        self,
        name: str,
        formula: Formula,
        value: float,
        phase: str,
        meaning: str,
        involves: tuple[str, ...],
        unit: str | None,
        given: float,
        new: float,
        velocity: float | None = None,
    ) -> None:
        """The gradient step of a weight (``unit``: the unit it feeds) or a bias (None), and
        its update to ``new`` from its value in this iteration (the lesson's ``given`` one in
        the first); with momentum, through its new ``velocity``."""
        old = self.param(name, given)
        grad = self.add(
            f"d{self.total}/d{name}",
            formula,
            value,
            phase,
            self.grad_kind,
            meaning,
            involves,
            unit=unit,
            param=name,
        )
        if not self.updates:  # a batch's example: the batch's gradient makes the update
            return
        what = "the bias" if unit is None else "the weight"
        step_by, words = grad, f"its gradient: new_{name} = {name} − η · ∂{self.total}/∂{name}"
        if self.mu is not None and velocity is not None:
            v_old = velocity_name(name)
            step_by = self.add(
                f"new_{v_old}",
                total(product(self.mu, self.old_velocity(name)), grad),
                velocity,
                PHASE_UPDATE,
                "velocity",
                f"With momentum the step follows a velocity, not the bare gradient: the old "
                f"velocity {v_old} shrinks by μ = {self.net.momentum:g} and the gradient "
                f"∂{self.total}/∂{name} is added: new_{v_old} = μ · {v_old} + ∂{self.total}/∂{name}.",
                (name,),
                param=name,
            )
            words = f"its new velocity: new_{name} = {name} − η · new_{v_old}"
        self.add(
            f"new_{name}",
            Diff(old, product(self.eta, step_by)),
            new,
            PHASE_UPDATE,
            "update",
            f"Gradient descent moves {what} {name} a small step against {words}, with "
            f"η = {self.net.learning_rate:g}.",
            (name,),
            param=name,
        )
