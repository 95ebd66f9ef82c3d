"""An author's self-test for lessons (``tutor check``), in the spirit of PrairieLearn's
question tests: for every asked step, the right answer is accepted, a perturbed one is
rejected, garbage is invalid, and every known mistake is distinguishable from the right value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tutor.drawing import unseen_givens
from tutor.grading.degeneracy import structural
from tutor.grading.grade import Grader
from tutor.grading.misconceptions import lesson_misconception_problems
from tutor.grading.verdict import CORRECT, INCORRECT, INVALID
from tutor.numfmt import fmt_value
from tutor.plan.steps import Plan, Step

GARBAGE = ("zz?", "", "1 +", "0,5x")


@dataclass
class CheckReport:
    lesson: str
    steps: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def check_plan(plan: Plan) -> CheckReport:
    lesson = plan.lesson
    report = CheckReport(lesson.id)
    report.failures += [
        str(p)
        for p in lesson_misconception_problems(
            lesson.misconceptions, [s.id for s in plan], lesson.file
        )
    ]
    givens = [(s.id, s.formula.givens(), s.involves) for s in plan if s.asked]
    report.failures += [
        f"{lesson.id}: {p} (the quiz's diagram)"
        for p in unseen_givens(lesson.network, lesson.quiz.decimals, givens)
    ]
    grader = Grader(plan)
    env = plan.values()
    d = lesson.quiz.decimals
    for step in plan:
        if not step.asked:
            continue
        report.steps += 1
        where = f"{lesson.id}: {step.id}"
        v = step.value
        if not math.isfinite(v):
            report.failures.append(f"{where}: the value is not a finite number")
            continue
        again = step.formula.evaluate(env)
        if not math.isclose(again, v, rel_tol=1e-9, abs_tol=1e-12):
            report.failures.append(
                f"{where}: worked from the earlier values, the formula gives {again!r}, but the "
                f"exact value is {v!r}; a saturated unit loses the digits a learner would need"
            )
        shown = grader.tolerance(step).show(v, d, ascii_minus=True)
        if grader.grade(step.id, shown).verdict != CORRECT:
            report.failures.append(
                f"{where}: the right answer {shown} is not accepted "
                f"(tolerance {grader.tolerance(step).describe(v)})"
            )
        tol = grader.tolerance(step)
        if tol.tiny(v):
            report.warnings.append(
                f"{where}: the value {shown} is smaller than its tolerance, so it is asked "
                f"{tol.describe(v)}; a finer tolerance would ask it as usual"
            )
            for bad in (0.0, -v):
                if grader.grade(step.id, repr(bad)).verdict == CORRECT:
                    report.failures.append(f"{where}: {bad!r} is accepted for {shown}")
        wrong = v + max(abs(v) * 0.2, 20 * tol.epsilon(v))
        if grader.grade(step.id, repr(wrong)).verdict != INCORRECT:
            report.failures.append(f"{where}: the wrong answer {wrong!r} is not rejected")
        for junk in GARBAGE:
            if grader.grade(step.id, junk).verdict != INVALID:
                report.failures.append(f"{where}: garbage {junk!r} is not refused as invalid")
        _check_misconceptions(grader, step, where, report)
    return report


def _check_misconceptions(grader: Grader, step: Step, where: str, report: CheckReport) -> None:
    tol = grader.tolerance(step)
    seen: list[tuple[str, float]] = []
    for cand in grader.candidates(step):
        tag = cand.misconception.tag
        if structural(cand.value, step.value):
            continue  # the same value by construction: nothing an author can change
        if tol.accepts(cand.value, step.value):
            report.warnings.append(
                f"{where}: mistake '{tag}' gives the right value "
                f"({fmt_value(step.value, tol.decimals)}), so it cannot be told apart"
            )
            continue
        for other_tag, other in seen:
            if other_tag != tag and tol.accepts(cand.value, other):
                report.warnings.append(
                    f"{where}: mistakes '{other_tag}' and '{tag}' give the same "
                    f"value ({fmt_value(other, tol.decimals)})"
                )
        seen.append((tag, cand.value))
