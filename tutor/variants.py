"""Seeded variants: fresh numbers drawn from a lesson's ``[variants]`` ranges.

The same seed always gives the same numbers (NumPy's PCG64 ``default_rng(seed)``). Draws
that would teach badly are thrown away and drawn again from the same generator:
saturated sigmoid/tanh units, gradients too small to show at the lesson's decimals, and
known mistakes whose value equals the right answer (they could not be diagnosed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tutor.lesson import NO_VARIANTS, Layer, Lesson, Network
from tutor.values import replace

MAX_TRIES = 60
SATURATION = 4.0  # |sum| beyond which σ′ and tanh′ are tiny


class NoVariants(ValueError):
    """The lesson has no [variants] section."""


def draw_variant(lesson: Lesson, seed: int) -> Lesson:
    """The lesson with numbers drawn for ``seed``; the least degenerate of a few tries."""
    if lesson.variants is None:
        raise NoVariants(NO_VARIANTS.format(id=lesson.id))
    rng = np.random.default_rng(seed)
    best: tuple[int, Lesson] | None = None
    for _ in range(MAX_TRIES):
        candidate = replace(lesson, network=_draw(lesson, rng), seed=seed)
        badness = degeneracy(candidate)
        if best is None or badness < best[0]:
            best = (badness, candidate)
        if badness == 0:
            break
    assert best is not None
    return best[1]


def _draw(lesson: Lesson, rng: np.random.Generator) -> Network:
    v = lesson.variants
    assert v is not None
    net = lesson.network

    def pick(name: str, default: tuple[float, float] | None, old: float) -> float:
        lo_hi = v.ranges.get(name, default)
        if lo_hi is None:
            return old
        value = round(float(rng.uniform(*lo_hi)), v.round)
        if value == 0.0 and lo_hi[0] < 0 < lo_hi[1]:
            value = 10.0**-v.round  # a zero weight or input teaches nothing
        return value

    inputs = tuple(pick(u, v.inputs, x) for u, x in zip(net.input_units, net.inputs, strict=True))
    weights = tuple(replace(w, value=pick(w.name, v.weights, w.value)) for w in net.weights)
    bias_values: dict[str, float] = {}
    layers: list[Layer] = []
    for layer in net.layers:
        if layer.bias_names is None or layer.bias_values is None:
            layers.append(layer)
            continue
        for name, old in zip(layer.bias_names, layer.bias_values, strict=True):
            if name not in bias_values:
                bias_values[name] = pick(name, v.biases, old)
        layers.append(replace(layer, bias_values=tuple(bias_values[n] for n in layer.bias_names)))
    targets = _targets(net, v.targets, v.round, rng, v.ranges)
    lr = pick("learning_rate", v.learning_rate, net.learning_rate)
    return replace(  # matrices={}: the drawn weights replace the file's matrix
        net,
        layers=tuple(layers),
        weights=weights,
        inputs=inputs,
        targets=targets,
        learning_rate=lr,
        matrices={},
    )


def _targets(
    net: Network,
    spec,
    digits: int,
    rng: np.random.Generator,
    ranges: Mapping[str, tuple[float, float]],
) -> tuple[float, ...]:
    n = len(net.targets)
    if spec == "one-hot":
        hot = int(rng.integers(n))
        return tuple(1.0 if k == hot else 0.0 for k in range(n))
    units = net.output_units
    if spec is None and not any(u in ranges for u in units):
        return net.targets
    drawn = [
        round(float(rng.uniform(*ranges.get(u, spec))), digits) if (u in ranges or spec) else t
        for u, t in zip(units, net.targets, strict=True)
    ]
    if net.layers[-1].activation == "softmax":  # soft targets must add up to 1
        total = sum(drawn) or 1.0
        drawn = [round(t / total, digits) for t in drawn]
        drawn[-1] = round(1.0 - sum(drawn[:-1]), digits)
    return tuple(drawn)


def structural(mistaken: float, right: float) -> bool:
    """A mistake that gives the right value by construction (a linear unit's out = sum, a
    zero gradient's update): no choice of numbers can tell them apart."""
    return math.isclose(mistaken, right, rel_tol=1e-12, abs_tol=1e-15)


def degeneracy(lesson: Lesson) -> int:
    """How many ways this draw would teach badly (0 = fine)."""
    from tutor.grading.grade import Grader
    from tutor.plan import build_plan

    plan = build_plan(lesson)
    bad = 0
    net = lesson.network
    for li, layer in enumerate(net.layers[1:]):
        if layer.activation in ("sigmoid", "tanh"):
            bad += int(np.sum(np.abs(plan.trace.z[li]) > SATURATION))
    if not all(math.isfinite(s.value) for s in plan):
        return 10**6
    shown_zero = 0.5 * 10.0**-lesson.quiz.decimals
    for g in plan.trace.grad_W:
        bad += int(np.sum((np.abs(g) < shown_zero) & (g != 0)))
    grader = Grader(plan)
    for step in plan:
        if not step.asked:
            continue
        tol = grader.tolerance(step)
        bad += sum(
            1
            for c in grader.candidates(step)
            if tol.accepts(c.value, step.value) and not structural(c.value, step.value)
        )
    return bad
