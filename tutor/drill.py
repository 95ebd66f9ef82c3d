"""Spaced repetition over step kinds (Leitner boxes) for drills.

Every kind of step (sum, out, dE_dout, dout_dsum, grad, update, ...) sits in a box from 1 to 5.
A wrong answer sends its kind back to box 1; a right first try moves it up one box. A drill
asks a handful of steps, drawn with weight 2^(5 − box), so the kinds a learner gets wrong
come back most often; the other steps are shown filled in.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING

from tutor.plan.steps import Plan

if TYPE_CHECKING:
    import numpy as np

BOXES = 5
DRILL_SIZE = 8


def box_of(boxes: Mapping[str, int], kind: str) -> int:
    value = boxes.get(kind, 1)
    return value if isinstance(value, int) and 1 <= value <= BOXES else 1


def weight(boxes: Mapping[str, int], kind: str) -> float:
    return float(2 ** (BOXES - box_of(boxes, kind)))


def choose_steps(
    plan: Plan, boxes: Mapping[str, int], rng: np.random.Generator, size: int = DRILL_SIZE
) -> set[str]:
    """The steps a drill asks: ``size`` of the lesson's asked steps, weighted by box."""
    asked = [s for s in plan if s.asked]
    if len(asked) <= size:
        return {s.id for s in asked}
    w = [weight(boxes, s.kind) for s in asked]
    total = sum(w)
    picks = rng.choice(len(asked), size=size, replace=False, p=[x / total for x in w])
    return {asked[i].id for i in picks}


def update(boxes: MutableMapping[str, int], kind: str, first_try: bool) -> int:
    """Move ``kind`` up a box after a right first try, back to box 1 after a miss."""
    boxes[kind] = min(BOXES, box_of(boxes, kind) + 1) if first_try else 1
    return boxes[kind]
