"""The library of classic backprop mistakes, as data.

Each entry names the step kinds it can show up in, a message for the learner, and a small
function that computes the *mistaken* value for the current lesson and variant from the
step's own Formula (so no second copy of the mathematics). A lesson adds its own mistakes in
``[[misconceptions]]`` with a fixed value or an answer expression.
"""

from __future__ import annotations

import fnmatch
import math
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tutor.activations import LOSSES, Activation
from tutor.formula import Diff, Product, Sum
from tutor.lesson.model import Problem
from tutor.plan.steps import Plan, Step

Values = Callable[["Context", Step], list[float]]


@dataclass(frozen=True)
class Misconception:
    """A recognised wrong method: a tag, where it applies, its message and its values."""

    tag: str
    title: str
    kinds: tuple[str, ...]
    message: str  # may use {unit}, {param}, {subject}, {reach}, {bias}, {act}, {error}, {total}, {eta}, {label}
    values: Values


@dataclass(frozen=True)
class Candidate:
    """One mistaken value a step could be given, and why."""

    misconception: Misconception
    value: float

    def message(self, ctx: Context, step: Step) -> str:
        return self.misconception.message.format_map(ctx.words(step))


class PlanValues(Mapping[str, float]):
    """The learner's values where given, else the engine's: without copying every step."""

    def __init__(self, plan: Plan, overrides: Mapping[str, float]):
        self.plan = plan
        self.overrides = overrides

    def __getitem__(self, step_id: str) -> float:
        if step_id in self.overrides:
            return self.overrides[step_id]
        return self.plan[step_id].value

    def __iter__(self) -> Iterator[str]:
        return iter(self.overrides)

    def __len__(self) -> int:
        return len(self.overrides)


class Context:
    """What the value functions need: the plan and the learner's view of earlier values."""

    def __init__(self, plan: Plan, env: Mapping[str, float] | None = None):
        self.plan = plan
        self.net = plan.lesson.network
        self.env = PlanValues(plan, env or {})

    def eval(
        self,
        step: Step,
        givens: Mapping[str, float] | None = None,
        env: Mapping[str, float] | None = None,
    ) -> float:
        return step.formula.evaluate(env if env is not None else self.env, givens)

    def activation(self, unit: str) -> Activation:
        return self.net.activation_of(unit)

    def bias(self, unit: str) -> str | None:
        li, j = self.net.unit_position(unit)
        names = self.net.layers[li].bias_names
        return names[j] if names else None

    def words(self, step: Step) -> dict[str, str]:
        unit = step.unit or ""
        return {
            "unit": unit,
            "param": step.param or "",
            # what the step differentiates by: a weight or bias, else the unit's output
            "subject": step.param or (f"out_{unit}" if unit else "it"),
            "reach": f"every unit that {unit} feeds" if unit else "every sum it is added to",
            "bias": (self.bias(unit) if unit and self.net.unit_position(unit)[0] > 0 else None)
            or "the bias",
            "act": self.activation(unit).name
            if unit and self.net.unit_position(unit)[0] > 0
            else "",
            "error": step.error or "",
            "total": self.plan.lesson.total_name,
            "eta": f"{self.net.learning_rate:g}",
            "label": step.label,
            "reduction": self.net.batch_reduction,
        }


# --- value functions -------------------------------------------------------------------------


def _bias_forgotten(ctx: Context, step: Step) -> list[float]:
    bias = ctx.bias(step.unit or "")
    return [ctx.eval(step, {bias: 0.0})] if bias else []


def _transposed_wiring(ctx: Context, step: Step) -> list[float]:
    """sum_u computed with the weight matrix transposed (weight indices swapped)."""
    net = ctx.net
    li, j = net.unit_position(step.unit or "")
    by_pair = {(w.source, w.target): w for w in net.weights}
    prev, here = net.layers[li - 1].units, net.layers[li].units
    givens = {}
    for w in net.weights:
        if w.target != step.unit:
            continue
        _, k = net.unit_position(w.source)
        if k >= len(here) or j >= len(prev):
            return []
        swapped = by_pair.get((prev[j], here[k]))
        if swapped is None:
            return []
        givens[w.name] = swapped.value
    return [ctx.eval(step, givens)] if givens else []


def _neighbour_weights(ctx: Context, step: Step) -> list[float]:
    """∂sum_o/∂out_h answered with the weight of a neighbouring edge."""
    w = next(x for x in ctx.net.weights if x.name == step.param)
    return [
        v.value
        for v in ctx.net.weights
        if v is not w and (v.target == w.target or v.source == w.source)
    ]


def _activation_forgotten(ctx: Context, step: Step) -> list[float]:
    act = ctx.activation(step.unit or "")
    if act.function is None and not act.layer_wide:  # out = sum: nothing to forget
        return []
    return [ctx.env[f"sum_{step.unit}{step.tag}"]]


def _from_the_sum(tag: str) -> Values:
    """The value of the activation's own mistake ``tag``, computed from the unit's sum."""

    def values(ctx: Context, step: Step) -> list[float]:
        mistake = ctx.activation(step.unit or "").mistakes.get(tag)
        s = ctx.env.get(f"sum_{step.unit}{step.tag}")
        return [] if mistake is None or s is None else [mistake(s)]

    return values


def _half_dropped(ctx: Context, step: Step) -> list[float]:
    if not LOSSES[ctx.net.loss].halved:
        return []
    return [2.0 * ctx.eval(step)]


def _sign_flipped(ctx: Context, step: Step) -> list[float]:
    if (
        step.kind == "delta"
        and ctx.net.unit_position(step.unit or "")[0] != len(ctx.net.layers) - 1
    ):
        return []
    return [-ctx.eval(step)]


def _update_parts(ctx: Context, step: Step) -> tuple[float, float]:
    """(the old value, what η multiplies): the update is ``old − η · g``, where the old
    value is a given (or, in a later iteration, the previous update's step) and g the
    gradient's or the new velocity's step."""
    f = step.formula
    assert isinstance(f, Diff), "an update is old − η · step"
    old = f.left.evaluate(ctx.env)
    return old, ctx.env[f.right.refs()[-1]]


def _update_added(ctx: Context, step: Step) -> list[float]:
    old, g = _update_parts(ctx, step)
    return [old + ctx.net.learning_rate * g]


def _rate_forgotten(ctx: Context, step: Step) -> list[float]:
    old, g = _update_parts(ctx, step)
    return [old - g]


def _one_path(ctx: Context, step: Step) -> list[float]:
    f = step.formula
    decay = 0.0  # a weight-decay term λ · w is not a path: kept with each path
    if (
        isinstance(f, Sum)
        and ctx.net.weight_decay
        and any(g.name == "lambda" for g in f.terms[-1].givens())
    ):
        decay = f.terms[-1].evaluate(ctx.env)
        f = f.terms[0] if len(f.terms) == 2 else Sum(f.terms[:-1])
    if not isinstance(f, Sum) or len(f.terms) < 2:
        return []
    return [t.evaluate(ctx.env) + decay for t in f.terms]


def _updated_weights(ctx: Context, step: Step) -> list[float]:
    """Replay the backward pass with weights already replaced by their new values (in the
    first hand-worked iteration: a later one reads its weights from update steps)."""
    if step.tag.startswith("#"):
        return []
    plan = ctx.plan
    here = plan.index(step.id)
    # only the steps this one depends on (its ancestors) need replaying, in plan order
    ancestors: set[str] = set()
    stack = [step.id]
    while stack:
        for ref in plan[stack.pop()].depends_on:
            if ref not in ancestors:
                ancestors.add(ref)
                stack.append(ref)
    chain = sorted((plan[a] for a in ancestors | {step.id}), key=lambda s: plan.index(s.id))
    updated: dict[str, tuple[int, float]] = {}  # weight -> (where its update is, new value)
    for s in chain:
        for leaf in s.formula.givens():
            name = leaf.name
            new = f"new_{name}"
            if name not in updated and new != step.id and new in plan:
                at = plan.index(new)
                if at < here:
                    updated[name] = (at, plan[new].value)
    if not updated:
        return []
    replayed: dict[str, float] = {}  # the steps whose values the updated weights change
    env = PlanValues(plan, ChainMap(replayed, dict(ctx.env.overrides)))
    for s in chain:
        at = plan.index(s.id)
        # a weight counts as updated only in steps after its update (not the forward pass)
        givens = {name: v for name, (i, v) in updated.items() if i < at}
        uses = any(g.name in givens for g in s.formula.givens())
        if uses or any(r in replayed for r in s.depends_on):
            value = s.formula.evaluate(env, givens)
            if value != ctx.env.get(s.id):
                replayed[s.id] = value
    return [replayed[step.id]] if step.id in replayed else []


def _slope_refs(ctx: Context, step: Step) -> list[str]:
    """The ∂out/∂sum factors this step's formula multiplies by directly."""
    return [r for r in step.depends_on if ctx.plan[r].kind == "dout_dsum"]


def _with(ctx: Context, step: Step, values: Mapping[str, float]) -> float:
    """The step worked with some earlier values replaced."""
    return ctx.eval(step, env=PlanValues(ctx.plan, ChainMap(dict(values), dict(ctx.env.overrides))))


def _slope_forgotten(ctx: Context, step: Step) -> list[float]:
    """The chain without one activation slope (each tried), and without all of them. A ReLU's
    slope is 1 or 0, so leaving it out is ``relu_slope_one`` or no mistake at all."""
    slopes = [
        r
        for r in _slope_refs(ctx, step)
        if ctx.activation(ctx.plan[r].unit or "").kink_slope is None
    ]
    out = [_with(ctx, step, {r: 1.0}) for r in slopes]
    if len(slopes) > 1:
        out.append(_with(ctx, step, dict.fromkeys(slopes, 1.0)))
    return out


def _own_slope(ctx: Context, step: Step) -> float | None:
    """The unit's own ∂out/∂sum from its output (out·(1 − out) for softmax's diagonal)."""
    unit = step.unit or ""
    act = ctx.activation(unit)
    out = ctx.env.get(f"out_{unit}{step.tag}")
    if out is None or act.name not in ("sigmoid", "softmax", "tanh"):
        return None
    return 1.0 - out * out if act.name == "tanh" else out * (1.0 - out)


def _shortcut(ctx: Context, step: Step) -> bool:
    """δ = out − target for this output unit: the loss's derivative cancels the slope."""
    net = ctx.net
    if step.unit not in net.output_units:
        return False
    return ctx.activation(step.unit).name in LOSSES[net.loss].shortcut


def _extra_slope(shortcut: bool) -> Values:
    """δ multiplied by the unit's slope once more: where the shortcut makes the slope cancel
    (``shortcut``), or where the δ already holds it."""

    def values(ctx: Context, step: Step) -> list[float]:
        slope = _own_slope(ctx, step)
        if slope is None or _shortcut(ctx, step) != shortcut:
            return []
        return [ctx.eval(step) * slope]

    return values


def _sigmoid_for_softmax(ctx: Context, step: Step) -> list[float]:
    if ctx.activation(step.unit or "").name != "softmax":
        return []
    s = ctx.env.get(f"sum_{step.unit}{step.tag}")
    return [] if s is None else [1.0 / (1.0 + math.exp(-max(s, -700.0)))]


def _kink_slope_one(name: str) -> Values:
    """A unit with a kink at 0 (ReLU, leaky ReLU: activation ``name``) whose sum is not
    positive given the slope 1 instead of its slope there (0, or the leak)."""

    def values(ctx: Context, step: Step) -> list[float]:
        if step.kind == "dout_dsum":
            unit = step.unit or ""
            act = ctx.activation(unit)
            dead = act.name == name and ctx.env.get(f"sum_{unit}{step.tag}", 1.0) <= 0
            return [1.0] if dead else []
        dead_slopes = {}
        for r in _slope_refs(ctx, step):
            act = ctx.activation(ctx.plan[r].unit or "")
            if act.name == name and ctx.env[r] == act.kink_slope:
                dead_slopes[r] = 1.0
        return [_with(ctx, step, dead_slopes)] if dead_slopes else []

    return values


_relu_slope_one = _kink_slope_one("relu")


def _from_the_output(tag: str) -> Values:
    """The value of the activation's own mistake ``tag``, computed from the unit's output."""

    def values(ctx: Context, step: Step) -> list[float]:
        mistake = ctx.activation(step.unit or "").output_mistakes.get(tag)
        out = ctx.env.get(f"out_{step.unit}{step.tag}")
        return [] if mistake is None or out is None else [mistake(out)]

    return values


def _decay_forgotten(ctx: Context, step: Step) -> list[float]:
    """A weight's gradient without its λ · w term."""
    if not ctx.net.weight_decay or step.kind != "grad" or step.unit is None:
        return []
    return [ctx.eval(step, {"lambda": 0.0})]


def _decay_doubled(ctx: Context, step: Step) -> list[float]:
    """The decay term without its ½ (so λ·Σw²), or a gradient with 2·λ·w."""
    if not ctx.net.weight_decay:
        return []
    if step.kind == "penalty":
        return [2.0 * ctx.eval(step)]
    if step.kind == "grad" and step.unit is not None:
        return [ctx.eval(step, {"lambda": 2.0 * ctx.net.weight_decay})]
    return []


def _batch_parts(ctx: Context, step: Step) -> tuple[list[float], float, float]:
    """A batch step's per-example values, the 1/n it applies (1 for a sum) and what it adds
    once (the decay term)."""
    examples = [ctx.env[r] for r in step.depends_on if r.endswith("]")]
    scale = 1.0 / len(examples) if ctx.net.batch_reduction == "mean" else 1.0
    once = ctx.eval(step) - scale * math.fsum(examples)
    return examples, scale, once


def _batch_reduction_swapped(ctx: Context, step: Step) -> list[float]:
    """The sum where the lesson asks the mean (1/n forgotten), or the mean where it asks the
    sum (a 1/n too many)."""
    examples, scale, once = _batch_parts(ctx, step)
    total = math.fsum(examples)
    return [total + once] if scale < 1 else [total / len(examples) + once]


def _one_example(ctx: Context, step: Step) -> list[float]:
    """Only one example's value, with or without the 1/n."""
    examples, scale, once = _batch_parts(ctx, step)
    out = [v * scale + once for v in examples]
    if scale < 1:
        out += [v + once for v in examples]
    return out


def _velocity_parts(ctx: Context, step: Step) -> list[float]:
    """The new velocity as the gradient alone (old velocity forgotten) or as old velocity
    plus gradient (μ forgotten)."""
    grad = ctx.env[step.formula.refs()[-1]]
    old = step.formula.evaluate(ctx.env, {"mu": 1.0}) - grad
    return [grad, old + grad]


def _total_for_part(ctx: Context, step: Step) -> list[float]:
    if step.kind == "error":
        total = ctx.plan[ctx.plan.lesson.total_name + step.tag].value
        return [total] if len(ctx.net.output_units) > 1 else []
    grad_id = f"d{ctx.plan.lesson.total_name}/d{step.param}{step.tag}"
    return [ctx.plan[grad_id].value] if grad_id in ctx.plan else []


def _sum_for_out(ctx: Context, step: Step) -> list[float]:
    """An output used where its unit's activated value belongs."""
    swapped = {
        ref: ctx.env[f"sum_{ref[4:]}"]
        for ref in step.formula.refs()
        if ref.startswith("out_") and f"sum_{ref[4:]}" in ctx.env
    }
    if not swapped:
        return []
    return [ctx.eval(step, env=PlanValues(ctx.plan, ChainMap(swapped, dict(ctx.env.overrides))))]


def _derivative_wrong_variable(ctx: Context, step: Step) -> list[float]:
    if step.kind == "dsum_dw":
        w = next(x for x in ctx.net.weights if x.name == step.param)
        return [w.value]
    if step.kind == "dsum_dout":
        return [ctx.env.get(f"out_{step.unit}{step.tag}", math.nan)]
    return []


def _upstream_parts(ctx: Context, step: Step) -> list[tuple[list[str], list[str]]]:
    """The terms of a graph's ∂f/∂n, each as (its upstream ids ∂f/∂c, its local ids ∂c/∂n);
    a term of the output gate itself has neither (its local gradient is written out)."""
    graph = ctx.net.graph
    if graph is None:
        return []
    up = f"d{graph.output}/d"
    terms = step.formula.children() if isinstance(step.formula, Sum) else (step.formula,)
    out = []
    for term in terms:
        refs = list(term.refs())
        if isinstance(term, Product) and len(refs) == 2 and refs[0].startswith(up):
            out.append(([refs[0]], [refs[1]]))
        else:
            out.append(([], []))
    return out


def _upstream_forgotten(ctx: Context, step: Step) -> list[float]:
    """∂f/∂n as the local gradients alone: every ∂f/∂c above read as 1."""
    parts = _upstream_parts(ctx, step)
    ups = [u for ids, _ in parts for u in ids]
    if not ups:
        return []
    return [
        ctx.eval(step, env=PlanValues(ctx.plan, {**ctx.env.overrides, **dict.fromkeys(ups, 1.0)}))
    ]


def _local_forgotten(ctx: Context, step: Step) -> list[float]:
    """∂f/∂n as the gradients from above alone: every local ∂c/∂n read as 1."""
    parts = _upstream_parts(ctx, step)
    locals_ = [v for _, ids in parts for v in ids]
    if not locals_ or len(locals_) < len(parts):
        return []
    return [
        ctx.eval(
            step, env=PlanValues(ctx.plan, {**ctx.env.overrides, **dict.fromkeys(locals_, 1.0)})
        )
    ]


def _fan_out_not_added(ctx: Context, step: Step) -> list[float]:
    """∂f/∂n of a value that feeds several gates, with one route's term only."""
    if ctx.net.graph is None or not isinstance(step.formula, Sum):
        return []
    return [t.evaluate(ctx.env) for t in step.formula.children()]


def _own_input(ctx: Context, step: Step) -> list[float]:
    """A multiply gate's local gradient given as the input it is taken by, not the other."""
    graph = ctx.net.graph
    if graph is None or len(step.involves) != 2:
        return []
    gate = next(g for g in graph.gates if g.name == step.involves[0])
    n = step.involves[1]
    if gate.op != "mul" or n not in gate.args or len(gate.names) != 2:
        return []
    inputs = dict(graph.inputs)
    return [inputs[n] if n in inputs else ctx.env[n]]


LIBRARY: tuple[Misconception, ...] = (
    Misconception(
        "upstream_forgotten",
        "Upstream gradient left out",
        ("upstream",),
        "That is the local gradient alone. The chain rule multiplies it by the gradient "
        "arriving from above (∂f/∂ of the gate it feeds), which is not 1 here.",
        _upstream_forgotten,
    ),
    Misconception(
        "local_forgotten",
        "Local gradient left out",
        ("upstream",),
        "That is the gradient arriving from above, passed on unchanged; multiply it by the "
        "gate's local gradient with respect to this input.",
        _local_forgotten,
    ),
    Misconception(
        "fan_out_not_added",
        "Fan-out gradients not added",
        ("upstream",),
        "That is the gradient along one route only. This value feeds more than one gate, so "
        "add the terms of every route it takes to the output.",
        _fan_out_not_added,
    ),
    Misconception(
        "own_input",
        "Multiply gate: own input used",
        ("local",),
        "For a product, the local gradient with respect to one input is the other input, not "
        "the input itself.",
        _own_input,
    ),
    Misconception(
        "bias_forgotten",
        "Bias left out",
        ("sum",),
        "The bias seems to be missing: after adding the weighted inputs of {unit}, add {bias}.",
        _bias_forgotten,
    ),
    Misconception(
        "wrong_wiring",
        "Wrong wiring",
        ("sum",),
        "Those look like the weights of other edges (indices swapped). Check which weights "
        "end at {unit}, and which input each one starts from.",
        _transposed_wiring,
    ),
    Misconception(
        "wrong_wiring",
        "Wrong wiring",
        ("dsum_dout",),
        "That is the weight of a different edge: out_{unit} reaches this sum only through {param}.",
        _neighbour_weights,
    ),
    Misconception(
        "activation_forgotten",
        "Activation left out",
        ("out",),
        "That is sum_{unit} itself. The output still has to go through the {act} function.",
        _activation_forgotten,
    ),
    Misconception(
        "sigmoid_sign",
        "Sign inside the sigmoid",
        ("out",),
        "Check the sign in the exponent: the sigmoid is 1/(1 + e^(−x)), so use e to the minus "
        "sum_{unit}.",
        _from_the_sum("sigmoid_sign"),
    ),
    Misconception(
        "sigmoid_for_softmax",
        "Sigmoid instead of softmax",
        ("out",),
        "That is σ(sum_{unit}), a sigmoid of this unit alone. This layer is a softmax: take "
        "e^(sum_{unit}) and divide it by the e^(sum) of every unit in the layer added up.",
        _sigmoid_for_softmax,
    ),
    Misconception(
        "half_dropped",
        "The ½ dropped",
        ("error", "total", "dE_dout"),
        "That is exactly twice the right value: the ½ in the half squared error was lost (it is "
        "there to cancel the 2 from the power rule).",
        _half_dropped,
    ),
    Misconception(
        "target_sign",
        "(target − out) sign flipped",
        ("dE_dout", "delta"),
        "The sign is flipped. Differentiating (target − out)² brings a factor −1 from the inside, "
        "so the result is out − target, not target − out.",
        _sign_flipped,
    ),
    Misconception(
        "derivative_from_sum",
        "Slope from the sum",
        ("dout_dsum",),
        "The slope was computed from sum_{unit}. The {act}'s slope formula takes the output: use "
        "out_{unit} in it, not sum_{unit}.",
        _from_the_sum("derivative_from_sum"),
    ),
    Misconception(
        "relu_slope_one",
        "ReLU slope 1 on a negative sum",
        ("dout_dsum", "path", "grad", "delta"),
        "A ReLU whose sum is not positive has slope 0, not 1: it outputs 0 whatever small change "
        "its sum gets, so no gradient flows back through it.",
        _relu_slope_one,
    ),
    Misconception(
        "leaky_slope_one",
        "Leaky ReLU slope 1 on a negative sum",
        ("dout_dsum", "path", "grad", "delta"),
        "A leaky ReLU whose sum is not positive has the small slope given as its "
        "negative_slope, not 1: below zero it multiplies the sum by that factor.",
        _kink_slope_one("leaky_relu"),
    ),
    Misconception(
        "leaky_slope_zero",
        "Leaky ReLU taken as a plain ReLU",
        ("dout_dsum",),
        "That would be a plain ReLU. A leaky ReLU keeps a small slope below zero (its "
        "negative_slope), so a little gradient still flows back through {unit}.",
        _from_the_sum("leaky_slope_zero"),
    ),
    Misconception(
        "slope_at_output",
        "Slope taken at the output",
        ("dout_dsum",),
        "That is the slope evaluated at out_{unit}. The {act}'s slope is a function of the "
        "sum: put sum_{unit} into it.",
        _from_the_output("slope_at_output"),
    ),
    Misconception(
        "slope_as_sigmoid_slope",
        "Sigmoid's slope for softplus",
        ("dout_dsum",),
        "That is σ·(1 − σ), the sigmoid's own slope. Softplus's slope is the sigmoid itself, "
        "σ(sum_{unit}), one derivative fewer.",
        _from_the_sum("slope_as_sigmoid_slope"),
    ),
    Misconception(
        "gelu_product_rule",
        "Half of the product rule",
        ("dout_dsum",),
        "Only one half of the product rule: GELU's out is sum times a function of the sum, so "
        "the slope has a second term, sum times that function's own slope.",
        _from_the_sum("gelu_product_rule"),
    ),
    Misconception(
        "decay_forgotten",
        "Weight decay left out",
        ("grad",),
        "The weight-decay part is missing: the term (λ/2)·{param}² of {total} adds "
        "λ · {param} to the gradient.",
        _decay_forgotten,
    ),
    Misconception(
        "decay_doubled",
        "Weight decay's ½ dropped",
        ("penalty", "grad"),
        "Twice the weight-decay part: the term is (λ/2)·w², whose derivative is λ · w (the ½ "
        "cancels the power rule's 2).",
        _decay_doubled,
    ),
    Misconception(
        "batch_reduction",
        "Mean and sum of the batch mixed up",
        ("batch_loss", "batch_grad"),
        "Check the 1/n: this lesson's batch loss is the {reduction} of the examples' losses, "
        "and the batch gradient is the same {reduction} of their gradients.",
        _batch_reduction_swapped,
    ),
    Misconception(
        "one_example",
        "Only one example of the batch",
        ("batch_loss", "batch_grad"),
        "That is one example's share only. Every example of the batch contributes: combine "
        "all of them ({reduction}).",
        _one_example,
    ),
    Misconception(
        "velocity_parts",
        "Velocity half-made",
        ("velocity",),
        "With momentum the new velocity is μ · (the old velocity) + the gradient: both parts, "
        "and only the old velocity is multiplied by μ.",
        _velocity_parts,
    ),
    Misconception(
        "slope_forgotten",
        "Activation slope left out",
        ("path", "grad", "delta"),
        "A factor is missing: the chain runs through each unit's activation, so it needs the "
        "slope ∂out/∂sum of every unit on the way (for a sigmoid, out·(1 − out)).",
        _slope_forgotten,
    ),
    Misconception(
        "extra_slope",
        "Extra slope on δ",
        ("delta",),
        "The slope is in there twice: δ_{unit} = ∂{total}/∂out_{unit} · ∂out_{unit}/∂sum_{unit} "
        "takes the {act}'s slope once.",
        _extra_slope(shortcut=False),
    ),
    Misconception(
        "extra_slope",
        "Extra slope on δ",
        ("delta",),
        "With a {act} output and this loss, δ_{unit} = out_{unit} − target_{unit} already: the "
        "slope out·(1 − out) cancels against the loss's derivative, so do not multiply by it.",
        _extra_slope(shortcut=True),
    ),
    Misconception(
        "update_added",
        "Update added",
        ("update",),
        "That step goes uphill: gradient descent subtracts η · gradient from the old value, it "
        "does not add it.",
        _update_added,
    ),
    Misconception(
        "rate_forgotten",
        "Learning rate forgotten",
        ("update",),
        "The learning rate is missing: multiply the gradient by η = {eta} before subtracting it.",
        _rate_forgotten,
    ),
    Misconception(
        "one_path",
        "Only one path summed",
        ("grad", "dE_dout"),
        "That is only one of the paths. {subject} affects {total} through {reach}, so add the "
        "contributions of all of them.",
        _one_path,
    ),
    Misconception(
        "one_error_only",
        "Only one output's error",
        ("total",),
        "That is only one output's error: {total} adds the errors of all the outputs.",
        _one_path,
    ),
    Misconception(
        "updated_weights",
        "Updated weights in the backward pass",
        ("dsum_dout", "path", "grad", "dE_dout", "delta", "update"),
        "That uses a weight that was already updated. The whole backward pass works with the "
        "weights of the forward pass; the new values are applied only at the end.",
        _updated_weights,
    ),
    Misconception(
        "total_for_part",
        "E_total instead of one output's error",
        ("error", "path"),
        "That is the value for {total} as a whole; this step asks only for the part that "
        "belongs to {error}.",
        _total_for_part,
    ),
    Misconception(
        "sum_for_out",
        "Sum used instead of output",
        ("sum", "dsum_dw", "dE_dout"),
        "A sum was used where an output belongs: the next layer receives out (the activated "
        "value), not sum.",
        _sum_for_out,
    ),
    Misconception(
        "wrong_variable",
        "Derivative with respect to the wrong variable",
        ("dsum_dw", "dsum_dout"),
        "Differentiate with respect to the right variable: the derivative of a product term "
        "such as out·w with respect to one factor is the other factor.",
        _derivative_wrong_variable,
    ),
)


def lesson_misconceptions(plan: Plan) -> list[tuple[str, Misconception, float | str]]:
    """The lesson's own ``[[misconceptions]]`` as (step pattern, misconception, value or answer)."""
    out = []
    for k, raw in enumerate(plan.lesson.misconceptions):
        pattern = str(raw.get("step", ""))
        tag = str(raw.get("tag", f"lesson_{k + 1}"))
        message = str(raw.get("message", "That matches a known mistake for this step."))
        value: float | str = (
            raw["value"]
            if isinstance(raw.get("value"), (int, float))
            else str(raw.get("answer", ""))
        )
        m = Misconception(
            tag,
            tag.replace("_", " "),
            (),
            message.replace("{", "{{").replace("}", "}}"),
            lambda ctx, step: [],
        )
        out.append((pattern, m, value))
    return out


def lesson_misconception_problems(
    raw_list: tuple[Mapping[str, Any], ...], step_ids: list[str], file: str
) -> list[Problem]:
    """Problems in a lesson's ``[[misconceptions]]`` (for validate and check)."""
    from tutor.grading.parse import AnswerError, parse_answer

    problems = []
    for k, raw in enumerate(raw_list):
        where = f"misconceptions[{k}]"
        unknown = set(raw) - {"step", "tag", "message", "value", "answer"}
        if unknown:
            problems.append(Problem(file, f"{where}.{sorted(unknown)[0]}", "unknown key"))
        step = raw.get("step")
        if not isinstance(step, str) or not fnmatch.filter(step_ids, step):
            what = "must name a step id (glob patterns allowed)"
            problems.append(Problem(file, f"{where}.step", what))
        if not isinstance(raw.get("message"), str):
            what = "missing: what to tell the learner"
            problems.append(Problem(file, f"{where}.message", what))
        value, answer = raw.get("value"), raw.get("answer")
        if value is None and answer is None:
            what = "give the mistaken 'value' or an 'answer' expression"
            problems.append(Problem(file, where, what))
        elif value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            problems.append(Problem(file, f"{where}.value", "must be a finite number"))
        elif answer is not None:
            try:
                parse_answer(str(answer))
            except AnswerError as err:
                problems.append(Problem(file, f"{where}.answer", str(err)))
    return problems


def candidates(plan: Plan, step: Step, env: Mapping[str, float] | None = None) -> list[Candidate]:
    """Every mistaken value this step could be given, in library order (lesson's own first)."""
    from tutor.grading.parse import AnswerError, parse_answer

    ctx = Context(plan, env)
    out: list[Candidate] = []
    for pattern, m, value in lesson_misconceptions(plan):
        if not fnmatch.fnmatchcase(step.id, pattern):
            continue
        if isinstance(value, str):
            try:
                value = parse_answer(value).value
            except AnswerError:
                continue
        out.append(Candidate(m, float(value)))
    for m in LIBRARY:
        if step.kind not in m.kinds:
            continue
        try:
            values = m.values(ctx, step)
        except (KeyError, StopIteration, OverflowError, ValueError, ZeroDivisionError):
            continue
        out.extend(Candidate(m, v) for v in values if isinstance(v, float) and math.isfinite(v))
    return out


#: Tag → short title, for summaries and worksheets (the first entry of a tag names it).
TITLES: dict[str, str] = {m.tag: m.title for m in reversed(LIBRARY)} | {
    "too_coarse": "Too few decimals",
    "out_of_range": "Impossible value",
    "tiny_value": "Small value without its figures or sign",
    "rounding_too_coarse": "Rounded across zero",
}
