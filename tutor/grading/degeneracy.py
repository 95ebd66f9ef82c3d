"""How badly a lesson's numbers would teach: the test a variant's draw must pass.

A draw teaches badly when a unit is saturated (its slope too small to see), when a gradient
is too small to show at the lesson's decimals, or when a known mistake gives the right
answer (it could not be told apart, so the learner could not be told).
"""

from __future__ import annotations

import math

import numpy as np

from tutor.grading.grade import Grader
from tutor.plan.steps import Plan


def structural(mistaken: float, right: float) -> bool:
    """A mistake that gives the right value by construction (a linear unit's out = sum, a
    zero gradient's update): no choice of numbers can tell them apart."""
    return math.isclose(mistaken, right, rel_tol=1e-12, abs_tol=1e-15)


def degeneracy(plan: Plan) -> int:
    """How many ways these numbers would teach badly (0 = fine)."""
    lesson, trace = plan.lesson, plan.trace
    bad = 0
    for li, layer in enumerate(lesson.network.layers[1:]):
        limit = layer.activation_record.saturation
        if limit is not None:
            bad += int(np.sum(np.abs(trace.z[li]) > limit))
    if not all(math.isfinite(s.value) for s in plan):
        return 10**6
    shown_zero = 0.5 * 10.0**-lesson.quiz.decimals
    for g in trace.grad_W:
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
