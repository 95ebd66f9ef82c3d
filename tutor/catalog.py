"""The one way to open a lesson, for every front end (the app, the commands, the reports and
the class server): find it, read it, draw a variant's numbers, run the engine, build the plan.

Whatever goes wrong comes out as one :class:`CannotOpen` with a one-line message.

Reading a lesson needs no NumPy; opening one (the engine) does, and imports it then: the app
reads its lesson before the first paint and opens it just after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.lesson.model import Lesson, LessonError, Problem
from tutor.lesson.reader import load_lesson
from tutor.locations import LessonNotFound, lesson_files, resolve_lesson

if TYPE_CHECKING:
    from tutor.plan.steps import Plan


class CannotOpen(Exception):
    """A lesson that cannot be opened: no such lesson, a bad file, or no variants for a seed.
    ``str()`` is one line for the user; ``problems`` has every problem of a bad file."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


def read(ref: str) -> Lesson:
    """The lesson named by ``ref`` (an id from the lesson folders, or a path to a file)."""
    try:
        path, lesson_id = resolve_lesson(ref)
        return load_lesson(path, lesson_id)
    except LessonNotFound as err:
        raise CannotOpen(str(err)) from None
    except LessonError as err:
        more = len(err.problems) - 1
        tail = (
            f" (and {more} more problem{'s' * (more > 1)}; run 'tutor validate {ref}')"
            if more
            else ""
        )
        raise CannotOpen(f"{err.problems[0]}{tail}", err.problems) from None


def open_lesson(lesson: Lesson | str, seed: int | None = None) -> Plan:
    """The plan of a lesson (read first if given by name), or of ``seed``'s variant of it.

    A seed's first draw that teaches well is used: saturated units, gradients too small to
    show and mistakes that give the right answer send it on to its next draw."""
    from tutor.grading.degeneracy import degeneracy
    from tutor.lesson.variants import NoVariants, draws
    from tutor.plan.build import build_plan

    if isinstance(lesson, str):
        lesson = read(lesson)
    if seed is None:
        return build_plan(lesson)
    best: tuple[int, Plan] | None = None
    try:
        for candidate in draws(lesson, seed):
            plan = build_plan(candidate)
            badness = degeneracy(plan)
            if best is None or badness < best[0]:
                best = (badness, plan)
            if badness == 0:
                break
    except NoVariants as err:
        raise CannotOpen(str(err)) from None
    assert best is not None, "draws() gives at least one draw"
    return best[1]


def catalogue() -> tuple[list[Lesson], list[Problem]]:
    """Every known lesson in course order, and the first problem of each that cannot be read."""
    lessons, problems = [], []
    for lesson_id, path in lesson_files().items():
        try:
            lessons.append(load_lesson(path, lesson_id))
        except LessonError as err:
            problems.append(err.problems[0])
    lessons.sort(key=lambda lesson: (lesson.order, lesson.id))
    return lessons, problems
