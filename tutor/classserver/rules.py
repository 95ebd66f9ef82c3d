"""The course's say over a student's session: the lessons listed (the course, in its order)
and exams enforced on the server: the student's own seed, the window, the time limit.

The app asks :class:`CourseRules` before it opens any lesson (``ClassRules`` in
``tutor.opening``); what it refuses, it refuses with a sentence for the student.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.catalog import CannotOpen, read
from tutor.lesson.model import Lesson, Problem
from tutor.locations import LessonNotFound, resolve_lesson
from tutor.opening import NotOpened, exams
from tutor.progress.records import lesson_key

if TYPE_CHECKING:
    from tutor.classroom.course import Course, Exam
    from tutor.classroom.database import ClassDatabase
    from tutor.progress.interface import Progress


#: lessons read once in the preloaded process, shared by the sessions: ref → (stamp, lesson)
_READ: dict[str, tuple[tuple[int, int], Lesson]] = {}


def course_lesson(ref: str) -> Lesson:
    """The lesson ``ref`` names, as read before (in the preloaded process, so every session
    shares it) unless its file has changed since; raises :class:`CannotOpen`."""
    try:
        path, _ = resolve_lesson(ref)
        info = path.stat()
    except (LessonNotFound, OSError):
        return read(ref)  # says what is wrong
    stamp = (info.st_mtime_ns, info.st_size)
    kept = _READ.get(ref)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    lesson = read(ref)
    _READ[ref] = (stamp, lesson)
    return lesson


def read_course_lessons(course: Course) -> None:
    """Read every lesson of the course now (the preloaded process, before its forks)."""
    for ref in [*course.lessons, *(exam.lesson for exam in course.exams)]:
        try:
            course_lesson(lesson_ref(course, ref))
        except CannotOpen:
            continue  # each session says what is wrong with it


def utc_now() -> datetime:
    return datetime.now(UTC)


def when(moment: datetime) -> str:
    """A moment as the student reads it: the course's own offset, to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M %z").replace(" +0000", " UTC")


def lesson_ref(course: Course, ref: str) -> str:
    """A course's lesson reference as ``tutor LESSON`` takes it: a path is relative to the
    course folder, anything else is a lesson id."""
    if ref.endswith(".toml"):
        path = Path(ref)
        return str(path if path.is_absolute() else course.folder / path)
    return ref


class CourseRules:
    """One student's view of the course, at the moments the app asks."""

    def __init__(
        self,
        course: Course,
        database: ClassDatabase,
        name: str,
        store: Progress,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.course = course
        self.database = database
        self.name = name
        self.store = store
        self.clock = clock
        self._lessons: dict[str, Lesson] = {}
        self._problems: list[Problem] = []
        self._exams: dict[str, Exam] = {}
        for ref in dict.fromkeys([*course.lessons, *(exam.lesson for exam in course.exams)]):
            try:
                lesson = course_lesson(lesson_ref(course, ref))
            except CannotOpen as err:
                self._problems += err.problems[:1] or [Problem(ref, "", str(err))]
                continue
            self._lessons.setdefault(lesson.id, lesson)
        for exam in course.exams:
            found = self._find(exam.lesson)
            if found is not None:
                self._exams.setdefault(found.id, exam)

    def _find(self, ref: str) -> Lesson | None:
        try:
            lesson_id = course_lesson(lesson_ref(self.course, ref)).id
        except CannotOpen:
            return None
        return self._lessons.get(lesson_id)

    # --- what the app asks (tutor.opening.ClassRules)
    def catalogue(self) -> tuple[list[Lesson], list[Problem]]:
        return list(self._lessons.values()), list(self._problems)

    def admit(self, lesson: Lesson, mode: str, seed: int | None) -> tuple[str, int | None]:
        exam = self._exams.get(lesson.id)
        if exam is None:
            return mode, seed
        now = self.clock()
        if exam.opens is not None and now < exam.opens:
            if mode == "exam":
                raise NotOpened(f"The exam on {lesson.id} opens at {when(exam.opens)}.")
            return mode, seed  # practice before the exam, never on the student's exam seed
        if exam.closes is not None and now >= exam.closes:
            if mode == "exam":
                raise NotOpened(
                    f"The exam on {lesson.id} closed at {when(exam.closes)}; your answers are "
                    "kept for your instructor."
                )
            return mode, seed
        # the window is open: this lesson opens as the student's exam, or not at all
        left = self._left(exam, now, lesson.id)
        if self._next_attempt(exam, lesson, left):
            left = self._left(exam, now, lesson.id)  # the new attempt's own time
        if left is not None and left <= 0:
            raise NotOpened(
                f"Your time for the exam on {lesson.id} is up; your answers are kept for "
                "your instructor."
            )
        seed = self.database.exam_seed(self.name, lesson.id)
        self.database.exam_start(self.name, lesson.id)  # the time limit counts from here
        return "exam", seed

    def _next_attempt(self, exam: Exam, lesson: Lesson, left: float | None) -> bool:
        """Begin the student's next attempt if their last one is over (finished, or its
        time is up) and the exam allows another: fresh numbers, its own time. Only a lesson
        with ``[variants]`` has other numbers to give; on one without, the exam is once."""
        attempt = self.database.exam_attempt(self.name, lesson.id)
        if attempt == 0 or attempt >= exam.attempts or lesson.variants is None:
            return False
        seed = self.database.exam_seed(self.name, lesson.id)
        entry = self.store.lessons().get(lesson_key(lesson.id, seed, "exam"), {})
        finished = bool(entry.get("steps")) and entry.get("current") is None
        if not finished and (left is None or left > 0):
            return False
        self.database.exam_retake(self.name, lesson.id)
        return True  # the app opens it on the new seed (``Opening(ruled=True)``)

    def exam_hints(self, lesson: Lesson) -> bool:
        exam = self._exams.get(lesson.id)
        return exam is not None and exam.hints

    def seconds_left(self, lesson: Lesson, mode: str) -> float | None:
        exam = self._exams.get(lesson.id)
        if exam is None or mode != "exam":
            return None
        return self._left(exam, self.clock(), lesson.id)

    # --- for the session
    def first_lesson(self) -> Lesson | None:
        """The exam to open at login: one whose window is open, that the student has not
        finished and still has time for (None: the picker)."""
        now = self.clock()
        for lesson_id, exam in self._exams.items():
            if exam.opens is not None and now < exam.opens:
                continue
            if exam.closes is not None and now >= exam.closes:
                continue
            left = self._left(exam, now, lesson_id)
            if left is not None and left <= 0:
                continue
            taken = exams(self.store, lesson_id)
            if taken and taken[-1].get("current") is None and taken[-1].get("steps"):
                continue  # finished: the picker (its summary opens from there)
            return self._lessons[lesson_id]
        return None

    def _left(self, exam: Exam, now: datetime, lesson_id: str) -> float | None:
        """Seconds until this student's exam must end: its window's close, or its time
        limit counted from the student's start (now, for a student who has not started)."""
        ends = exam.closes
        if exam.minutes is not None:
            started = self.database.exam_started(self.name, lesson_id) or now
            limit = started.timestamp() + 60 * exam.minutes
            ends_at = limit if ends is None else min(limit, ends.timestamp())
            return ends_at - now.timestamp()
        return None if ends is None else (ends - now).total_seconds()
