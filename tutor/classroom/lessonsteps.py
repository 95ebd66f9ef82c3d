"""The steps of a class's lessons, opened once per view: every student's row of a lesson
asks for the same plan, and building a plan runs the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutor.catalog import CannotOpen, open_lesson, read
from tutor.lesson.model import Credit

#: a lesson larger than this many asked steps is counted, but not drawn step by step
MAX_STEPS = 2000


@dataclass(frozen=True)
class StepInfo:
    id: str
    label: str


class LessonSteps:
    """Opens lessons (and variants) once, for :func:`tutor.progress.report.lesson_rows` and
    for the views' step lists."""

    def __init__(self, refs: dict[str, str] | None = None) -> None:
        #: lesson id → how to open it: a course's lesson files are known by their name
        #: alone in the events, and opened by their path
        self.refs = refs or {}
        self._asked: dict[tuple[str, int | None, tuple[str, ...] | None], Any] = {}
        self._steps: dict[str, list[StepInfo]] = {}

    def asked(
        self, lesson_id: str, seed: int | None, only: Any
    ) -> tuple[list[str], Credit | None] | None:
        """As ``tutor.progress.report._asked``, remembered."""
        narrowed = tuple(only) if isinstance(only, list) and only else None
        key = (lesson_id, seed, narrowed)
        if key not in self._asked:
            self._asked[key] = self._open(lesson_id, seed, narrowed)
        found: tuple[list[str], Credit | None] | None = self._asked[key]
        return found

    def _open(
        self, lesson_id: str, seed: int | None, only: tuple[str, ...] | None
    ) -> tuple[list[str], Credit | None] | None:
        try:
            lesson = read(self.refs.get(lesson_id, lesson_id))
            plan = open_lesson(lesson, seed if lesson.variants is not None else None)
        except CannotOpen:
            return None
        picked = set(only) if only else None
        asked = [s.id for s in plan if s.asked and (picked is None or s.id in picked)]
        return asked, lesson.quiz.credit

    def steps(self, lesson_id: str) -> list[StepInfo]:
        """The lesson's asked steps (its own numbers), in order, with their labels; [] for a
        lesson that cannot be opened."""
        if lesson_id not in self._steps:
            try:
                plan = open_lesson(read(self.refs.get(lesson_id, lesson_id)))
                found = []
                for s in plan:
                    if s.asked:
                        found.append(StepInfo(s.id, s.label))
                        if len(found) >= MAX_STEPS:
                            break
            except CannotOpen:
                found = []
            self._steps[lesson_id] = found
        return self._steps[lesson_id]

    def title(self, lesson_id: str) -> str:
        try:
            return read(self.refs.get(lesson_id, lesson_id)).title
        except CannotOpen:
            return lesson_id


def course_steps(lessons: list[str]) -> LessonSteps:
    """Steps for a course's lessons (``course.toml``'s ids and lesson files)."""
    from pathlib import Path

    return LessonSteps({(Path(r).stem if r.endswith(".toml") else r): r for r in lessons})
