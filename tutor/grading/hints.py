"""Three levels of hint per step, escalating by themselves after repeated misses.

1. what the quantity means and which rule applies;
2. the formula with names;
3. the formula with the numbers substituted, leaving the arithmetic to the learner.
After level 3 comes reveal. A lesson's ``[hints]`` override any level.
"""

from __future__ import annotations

from collections.abc import Mapping

from tutor.formula import UNICODE, Style
from tutor.plan.steps import Plan, Step
from tutor.plan.worked import worked_numbers

MAX_LEVEL = 3


def auto_level(misses: int) -> int:
    """The hint level shown without asking: none for a first slip, then one level per miss."""
    return max(0, min(MAX_LEVEL, misses - 1))


def hint(
    plan: Plan,
    step: Step,
    level: int,
    learner: Mapping[str, float] | None = None,
    style: Style = UNICODE,
) -> str:
    """The hint text for ``level`` (1..3); numbers at level 3 are the learner's own."""
    level = max(1, min(MAX_LEVEL, level))
    if len(step.hints) >= level:
        return step.hints[level - 1]
    name = step.id if style.ascii else step.label
    if level == 1:
        return step.meaning
    if level == 2:
        return f"{name} = {step.formula.render(style)}"
    env = learner or {}  # earlier steps the learner has not answered show the engine's value
    numbers = worked_numbers(plan, step, env, style)
    return f"{name} = {numbers}   (now do the arithmetic)"


def hints_upto(
    plan: Plan,
    step: Step,
    level: int,
    learner: Mapping[str, float] | None = None,
    style: Style = UNICODE,
) -> list[str]:
    return [hint(plan, step, k, learner, style) for k in range(1, max(0, level) + 1)]
