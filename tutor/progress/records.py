"""What a learner has done on each step, and the one vocabulary of step states.

Every part of the tutor that counts steps (the session, the reports, the lesson picker)
reads these names and :func:`tally`, so that what "done" means cannot drift between them.
Kept free of NumPy, so that the interface can show saved progress before the engine loads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tutor.grading.verdict import CARRIED, CORRECT

if TYPE_CHECKING:
    from tutor.lesson.model import Credit

TODO, REVEALED, SKIPPED, SHOWN, FAILED = "todo", "revealed", "skipped", "shown", "failed"
STATUSES = (TODO, CORRECT, CARRIED, REVEALED, SKIPPED, SHOWN, FAILED)
RIGHT = (CORRECT, CARRIED)  # the learner's own answer was accepted
DONE = (CORRECT, CARRIED, REVEALED, SHOWN, FAILED)  # nothing more to do on the step
MODES = ("learn", "drill", "exam", "review")
#: Exam points for a right answer at the first, second and third attempt; then the step is lost.
EXAM_POINTS = (1.0, 0.5, 0.25)
#: The modes a lesson's ``[quiz] credit`` applies to; learn mode counts steps right, with
#: every help free.
CREDIT_MODES = ("drill", "exam")


@dataclass
class StepRecord:
    """What the learner has done on one step."""

    status: str = TODO
    answer: str | None = None
    value: float | None = None
    attempts: int = 0
    misses: int = 0
    hint_level: int = 0
    seconds: float = 0.0
    diagnoses: list[str] = field(default_factory=list)
    points: float = 0.0
    hints_asked: int = 0  # the levels the learner asked for (wrong tries bring up the others)

    @property
    def done(self) -> bool:
        return self.status in DONE

    def to_dict(self) -> dict[str, Any]:
        """A copy for the log."""
        return {**self.__dict__, "diagnoses": list(self.diagnoses)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepRecord:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        rec = cls(**known)
        if rec.status not in STATUSES:
            rec.status = TODO
        return rec


def earned(
    status: str,
    misses: int,
    hint_level: int,
    mode: str,
    credit: Credit | None = None,
    asked: int | None = None,
) -> float:
    """What one step earns towards the score: worked out from its record alone, so that the
    status line, the summary and the reports cannot disagree.

    Learn mode: 1 for a right answer. Exam: ``EXAM_POINTS`` by wrong tries. With the lesson's
    ``credit``, in drills and exams: 1 less ``per_wrong`` for each wrong try and ``per_hint``
    for each hint level asked for, not below ``floor``. The levels that wrong tries bring up
    by themselves are not charged again. Anything not answered right earns 0."""
    if status not in RIGHT:
        return 0.0
    if credit is not None and mode in CREDIT_MODES:
        from tutor.grading.hints import auto_level  # only lessons with credit need it

        if asked is None:  # a record from before hints asked were counted
            asked = max(0, hint_level - auto_level(misses))
        return credit.points(misses, asked)
    if mode == "exam":
        return EXAM_POINTS[min(misses, len(EXAM_POINTS) - 1)]
    return 1.0


@dataclass(frozen=True)
class Tally:
    """How a learner stands on a lesson, counted from its saved step records."""

    correct: int = 0
    carried: int = 0
    revealed: int = 0
    failed: int = 0
    attempted: int = 0
    done: int = 0
    points: float = 0.0  # the score: the sum of what each step earned (:func:`earned`)
    next_step: str | None = None  # the first asked step not done yet
    misses: int = 0  # wrong tries (answers that were read and judged wrong)
    hints: int = 0  # hint levels seen, asked for or brought up by wrong tries

    @property
    def right(self) -> int:
        return self.correct + self.carried


def tally(
    steps: Mapping[str, Any],
    asked: Iterable[str],
    mode: str = "learn",
    credit: Credit | None = None,
) -> Tally:
    """Count the records ``steps`` (step id → record, as saved or as a ``StepRecord``) over
    the ``asked`` steps; ``mode`` and the lesson's ``credit`` decide what each step earned."""
    counts = dict.fromkeys(STATUSES, 0)
    attempted, misses, hints, points, next_step = 0, 0, 0, 0.0, None
    for step_id in asked:
        rec = steps.get(step_id)
        rec = rec.__dict__ if isinstance(rec, StepRecord) else rec
        rec = rec if isinstance(rec, Mapping) else {}
        status = rec.get("status", TODO)
        counts[status if status in counts else TODO] += 1
        wrong, level = int(_number(rec.get("misses"))), int(_number(rec.get("hint_level")))
        if _number(rec.get("attempts")) > 0:
            attempted += 1
        misses += wrong
        hints += level
        asked_for = rec.get("hints_asked")
        asked_for = int(_number(asked_for)) if asked_for is not None else None
        points += earned(status, wrong, level, mode, credit, asked_for)
        if next_step is None and status not in DONE:
            next_step = step_id
    return Tally(
        correct=counts[CORRECT],
        carried=counts[CARRIED],
        revealed=counts[REVEALED],
        failed=counts[FAILED],
        attempted=attempted,
        done=sum(counts[s] for s in DONE),
        points=round(points, 2),
        next_step=next_step,
        misses=misses,
        hints=hints,
    )


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def lesson_key(lesson_id: str, seed: int | None = None, mode: str = "learn") -> str:
    """One progress entry per lesson, variant and mode: 'sigmoid-2-2-2', 'x@seed=7', 'x#exam'."""
    key = lesson_id if seed is None else f"{lesson_id}@seed={seed}"
    return key if mode in ("learn", "review") else f"{key}#{mode}"


def now() -> str:
    """The time of an event, as the log writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
