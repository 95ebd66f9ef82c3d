"""The update rule's keys of a lesson file: L2 weight decay and momentum in ``[network]``,
the velocities before the step in ``[velocity]``, and the summary's ``[summary]`` table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tutor.lesson.fields import Reader
from tutor.lesson.model import Layer, Weight
from tutor.lesson.network import read_example

SUMMARY_KEYS = {"updates"}
MAX_SUMMARY_UPDATES = 10_000
MAX_ITERATIONS = 5
MAX_BATCH = 8  # examples worked by hand
REDUCTIONS = ("mean", "sum")

Example = tuple[tuple[float, ...], tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """What ``[network]`` and ``[velocity]`` say about the update."""

    weight_decay: float = 0.0
    momentum: float | None = None
    iterations: int = 1
    velocities: Mapping[str, float] = field(default_factory=dict)


def read_rule(
    r: Reader, net: Mapping[str, Any], raw_velocity: Any, layers: list[Layer], weights: list[Weight]
) -> UpdateRule:
    decay = 0.0
    if "weight_decay" in net:
        x = r.number(net["weight_decay"], "network.weight_decay")
        if x is not None and r.check(
            0 <= x <= 100, "network.weight_decay", "must be a number from 0 to 100 (λ)"
        ):
            decay = x
    momentum = None
    if "momentum" in net:
        x = r.number(net["momentum"], "network.momentum")
        if x is not None and r.check(
            0 <= x < 1, "network.momentum", "must be a number from 0 up to (not including) 1 (μ)"
        ):
            momentum = x
    iterations = r.integer(net.get("iterations", 1), "network.iterations", 1, MAX_ITERATIONS)
    velocities: dict[str, float] = {}
    if raw_velocity is not None:
        table = r.table(raw_velocity, "velocity")
        if table is not None and "momentum" not in net:
            r.bad("velocity", "velocities need momentum: add 'momentum = …' to [network]")
        known = {w.name for w in weights} | {
            b for layer in layers for b in (layer.bias_names or ())
        }
        for name, value in (table or {}).items():
            where = f"velocity.{name}"
            if name not in known:
                r.bad(where, "names no weight or bias of this lesson")
                continue
            x = r.number(value, where)
            if x is not None:
                velocities[name] = x
    return UpdateRule(decay, momentum, iterations or 1, velocities)


def read_batch(
    r: Reader, raw: Any, data: Mapping[str, Any], layers: list[Layer], iterations: int
) -> tuple[tuple[Example, ...], str]:
    """``[batch]``: ``examples = [{inputs = [...], targets = [...]}, ...]`` (2 to 8, in place
    of the top-level inputs and targets) and ``reduction = "mean" | "sum"``."""
    if raw is None or not layers:
        return (), "mean"
    table = r.table(raw, "batch")
    if table is None:
        return (), "mean"
    r.keys(table, "batch", {"examples", "reduction"})
    reduction = table.get("reduction")
    if reduction is None:
        r.bad("batch.reduction", 'missing: say whether the batch loss is the "mean" or the "sum"')
    else:
        reduction = r.choice(reduction, "batch.reduction", REDUCTIONS, "reduction")
    for key in ("inputs", "targets"):
        if key in data:
            r.bad(key, "a lesson with [batch] gives its inputs and targets in batch.examples")
    if iterations > 1:
        r.bad("network.iterations", "a [batch] lesson works one update (iterations = 1)")
    examples = table.get("examples")
    if not isinstance(examples, list) or not 2 <= len(examples) <= MAX_BATCH:
        r.bad(
            "batch.examples",
            f"must be a list of 2 to {MAX_BATCH} {{inputs = [...], targets = [...]}}",
        )
        return (), reduction or "mean"
    read = [read_example(r, ex, f"batch.examples[{k}]", layers) for k, ex in enumerate(examples)]
    got: list[Example] = [ex for ex in read if ex is not None]
    return tuple(got), reduction or "mean"


def read_summary(r: Reader, raw: Any) -> int:
    """``[summary] updates``: how many further updates the summary's loss curve shows."""
    table = r.table(raw, "summary") if raw is not None else None
    if table is None:
        return 20
    r.keys(table, "summary", SUMMARY_KEYS)
    n = r.integer(table.get("updates", 20), "summary.updates", 1, MAX_SUMMARY_UPDATES)
    return 20 if n is None else n
