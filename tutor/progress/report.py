"""Per-lesson progress for ``tutor progress``, ``tutor export`` and the lesson picker.

Each row is counted from the saved step records (:func:`tutor.progress.records.tally`) over
the lesson's asked steps, which come from its plan (opened through the catalog, so that a
variant's or a drill's steps are the ones the learner was asked).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tutor.catalog import CannotOpen, open_lesson, read
from tutor.lesson.model import Credit, Lesson
from tutor.progress.interface import Progress
from tutor.progress.records import tally


class HasLessons(Protocol):
    """What the rows are counted from: a learner's store, or a student's replayed class log."""

    def lessons(self) -> dict[str, Any]: ...


Asked = Callable[[str, int | None, Any], "tuple[list[str], Credit | None] | None"]


def _asked(lesson_id: str, seed: int | None, only: Any) -> tuple[list[str], Credit | None] | None:
    """The ids of the steps the learner is asked and the lesson's partial credit, or None if
    the lesson cannot be opened (a lesson that has lost its variants since counts with its
    own numbers)."""
    try:
        lesson = read(lesson_id)
        plan = open_lesson(lesson, seed if lesson.variants is not None else None)
    except CannotOpen:
        return None
    narrowed = set(only) if isinstance(only, list) and only else None
    asked = [s.id for s in plan if s.asked and (narrowed is None or s.id in narrowed)]
    return asked, lesson.quiz.credit


def lesson_rows(
    store: HasLessons, only: str | None = None, asked_steps: Asked = _asked
) -> list[dict[str, Any]]:
    """One row per lesson (and variant and mode) the learner has started. ``asked_steps``
    opens a lesson for its asked steps (a class's views pass one that remembers them)."""
    rows = []
    for key, entry in sorted(store.lessons().items()):
        if not isinstance(entry, dict):
            continue
        lesson_id = str(entry.get("lesson", key.split("@")[0].split("#")[0]))
        if only is not None and only not in (lesson_id, key):
            continue
        seed = entry.get("seed") if isinstance(entry.get("seed"), int) else None
        steps = entry.get("steps", {}) if isinstance(entry.get("steps"), dict) else {}
        mode = str(entry.get("mode", "learn"))
        opened = asked_steps(lesson_id, seed, entry.get("asked"))
        asked, credit = opened if opened is not None else (sorted(steps), None)
        t = tally(steps, asked, mode, credit)
        elapsed = entry.get("elapsed", 0)
        rows.append(
            {
                "lesson": lesson_id,
                "correct": t.correct,
                "carried": t.carried,
                "revealed": t.revealed,
                "attempted": t.attempted,
                "total": len(asked),
                "current": t.next_step,
                "score": t.points,  # always a float: 2.0, 1.5
                "seconds": round(float(elapsed), 1) if isinstance(elapsed, (int, float)) else 0.0,
                "key": key,
                "mode": mode,
                "seed": seed,
                "failed": t.failed,
                "misses": t.misses,
                "hints": t.hints,
                "finished": t.next_step is None,
                "updated": entry.get("updated"),
            }
        )
    return rows


@dataclass(frozen=True)
class Standing:
    """Where the learner is in one lesson (its own numbers, learn mode), from the saved
    state alone: opening every lesson to count its steps would slow the picker."""

    lesson_id: str
    done: int = 0
    total: int | None = None  # unknown until the lesson has been opened once
    points: float = 0.0

    @property
    def started(self) -> bool:
        return self.done > 0

    @property
    def finished(self) -> bool:
        return self.total is not None and self.done >= self.total

    @property
    def share(self) -> float:
        """How much of the lesson is done, 0 to 1."""
        if self.finished:
            return 1.0
        return self.done / self.total if self.total else 0.0

    @property
    def word(self) -> str:
        """'new', '12/53', 'done' (or '12 done' when the total is unknown)."""
        if not self.started:
            return "new"
        if self.total is None:
            return f"{self.done} done"
        return "done" if self.finished else f"{self.done}/{self.total}"

    @property
    def score(self) -> str:
        """The points earned so far, '' for a lesson not started."""
        return f"{self.points:g}" if self.started else ""


def standing(store: Progress, lesson: Lesson) -> Standing:
    saved = store.lessons().get(lesson.id)
    if not isinstance(saved, dict) or not isinstance(saved.get("steps"), dict):
        return Standing(lesson.id)
    steps = saved["steps"]
    mode = str(saved.get("mode", "learn"))
    t = tally(steps, steps, mode, lesson.quiz.credit)
    total = saved.get("total")
    known = isinstance(total, int) and not isinstance(total, bool) and total > 0
    return Standing(lesson.id, t.done, total if known else None, t.points)


@dataclass(frozen=True)
class CoursePath:
    """The course as a path: each lesson's standing in course order, and what comes next."""

    standings: list[Standing]

    @property
    def share(self) -> float:
        """The course done, 0 to 1: each lesson counts the same, a started one in part."""
        return sum(s.share for s in self.standings) / len(self.standings) if self.standings else 0

    @property
    def finished(self) -> int:
        return sum(s.finished for s in self.standings)

    def next(self, after: str | None = None) -> str | None:
        """The lesson to take next: the first one started and not finished, else the first
        not started; never ``after`` (the lesson just finished). None when all are done."""
        open_ = [s for s in self.standings if not s.finished and s.lesson_id != after]
        started = [s for s in open_ if s.started]
        return (started or open_)[0].lesson_id if open_ else None


def course_path(store: Progress, lessons: list[Lesson]) -> CoursePath:
    return CoursePath([standing(store, lesson) for lesson in lessons])


def export_data(store: Progress) -> dict[str, Any]:
    return {
        "user": _user(),
        "data_dir": store.where,
        "lessons": lesson_rows(store),
        "attempts": store.attempts(),
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


LESSON_COLUMNS = [
    "user",
    "lesson",
    "mode",
    "seed",
    "score",
    "total",
    "correct",
    "carried",
    "revealed",
    "failed",
    "attempted",
    "misses",
    "hints",
    "seconds",
    "finished",
    "current",
    "updated",
]
ATTEMPT_COLUMNS = [
    "user",
    "time",
    "lesson",
    "seed",
    "mode",
    "step",
    "event",
    "input",
    "value",
    "verdict",
    "diagnosis",
    "hint_level",
    "seconds",
]
