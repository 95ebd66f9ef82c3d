"""A step's formula with its numbers filled in, to as many decimals as the line needs.

Rounding every number of ``215.612 · 0.002 · (−2.331)`` to the lesson's 3 decimals leaves the
small factor one significant figure, and working the line by hand then misses the value the
learner is asked for. So a worked line shows its earlier values to the lesson's decimals
when that reproduces the step's value at the asked precision, and to more only when needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tutor.formula import UNICODE, Style
from tutor.numfmt import fmt_value
from tutor.plan.steps import Plan, Step

EXTRA_DECIMALS = 12  # at most this many more than the lesson's; float64 has ~16 digits


def worked_decimals(plan: Plan, step: Step, env: Mapping[str, float] | None = None) -> int:
    """The fewest decimals (at least the lesson's) for which the line, worked with the numbers
    as shown, gives the step's value (from ``env`` where given) within its tolerance."""
    env = env or {}
    d = plan.lesson.quiz.decimals
    refs = step.depends_on
    if not refs:
        return d
    tol = plan.lesson.quiz.tolerance_for(step.id)
    values = {r: env.get(r, plan[r].value) for r in refs}
    target = step.formula.evaluate(values)
    if not math.isfinite(target):
        return d
    for k in range(d, d + EXTRA_DECIMALS + 1):
        try:
            shown = {r: float(fmt_value(v, k, ascii_minus=True)) for r, v in values.items()}
            if tol.accepts(step.formula.evaluate(shown), target):
                return k
        except (ArithmeticError, ValueError):
            return d
    return d + EXTRA_DECIMALS


def worked_numbers(
    plan: Plan, step: Step, env: Mapping[str, float] | None = None, style: Style = UNICODE
) -> str:
    """``0.1 · 0.1 + 0.5 · 0.3 + 0.25``: the formula with numbers a learner can work by hand."""
    return step.formula.substitute(env or {}, style, worked_decimals(plan, step, env))
