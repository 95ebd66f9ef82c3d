"""Seeded variants: fresh numbers drawn from a lesson's ``[variants]`` ranges.

The same seed always gives the same numbers (NumPy's PCG64 ``default_rng(seed)``). A seed
gives a sequence of draws, not one: a draw that would teach badly (a saturated unit, a
gradient too small to show, a known mistake that gives the right value) is judged by the
caller, who needs the engine and the grader for that (``tutor.catalog``), and the next draw
of the same sequence is taken instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np

from tutor.lesson.model import NO_VARIANTS, Layer, Lesson, Network

MAX_TRIES = 60


class NoVariants(ValueError):
    """The lesson has no [variants] section."""


def draws(lesson: Lesson, seed: int) -> Iterator[Lesson]:
    """The lesson with the numbers of ``seed``'s first draw, then its next draws, up to
    ``MAX_TRIES`` of them."""
    if lesson.variants is None:
        raise NoVariants(NO_VARIANTS.format(id=lesson.id))
    rng = np.random.default_rng(seed)
    for _ in range(MAX_TRIES):
        yield replace(lesson, network=_draw(lesson, rng), seed=seed)


def _draw(lesson: Lesson, rng: np.random.Generator) -> Network:
    v = lesson.variants
    assert v is not None  # draws() checks
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
    batch = net.batch
    if batch:  # every example of a mini-batch is drawn afresh, the first one as above
        rest = [
            (
                tuple(pick(u, v.inputs, x) for u, x in zip(net.input_units, xs, strict=True)),
                _targets(replace(net, targets=ts), v.targets, v.round, rng, v.ranges),
            )
            for xs, ts in batch[1:]
        ]
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
    if batch:
        batch = ((inputs, targets), *rest)
    lr = pick("learning_rate", v.learning_rate, net.learning_rate)
    return replace(  # matrices={}: the drawn weights replace the file's matrix
        net,
        layers=tuple(layers),
        weights=weights,
        inputs=inputs,
        targets=targets,
        learning_rate=lr,
        batch=batch,
        matrices={},
    )


def _targets(
    net: Network,
    spec: tuple[float, float] | str | None,
    digits: int,
    rng: np.random.Generator,
    ranges: Mapping[str, tuple[float, float]],
) -> tuple[float, ...]:
    n = len(net.targets)
    if spec == "one-hot":
        hot = int(rng.integers(n))
        return tuple(1.0 if k == hot else 0.0 for k in range(n))
    span = spec if isinstance(spec, tuple) else None
    units = net.output_units
    if span is None and not any(u in ranges for u in units):
        return net.targets
    drawn = []
    for u, t in zip(units, net.targets, strict=True):
        lo_hi = ranges.get(u, span)
        drawn.append(t if lo_hi is None else round(float(rng.uniform(*lo_hi)), digits))
    if net.layers[-1].activation_record.layer_wide:  # soft targets must add up to 1
        total = sum(drawn) or 1.0
        drawn = [round(t / total, digits) for t in drawn]
        drawn[-1] = round(1.0 - sum(drawn[:-1]), digits)
    return tuple(drawn)
