"""How a quiz session meets the learner's progress: opened from what was saved (where the
learner stopped, a drill's chosen steps, the Leitner boxes), and recorded back to it action
by action. Also the rule that an unfinished exam cannot be looked up in another mode.

The app opens a lesson in two parts: :class:`Opening` decides at once, from the lesson and
the saved state, what to show first; :meth:`Opening.session` then imports and runs the
engine (NumPy), the plan and the grader, after the first paint.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tutor.lesson.model import Lesson, Problem
from tutor.progress.interface import Progress, ProgressNotSaved
from tutor.progress.records import StepRecord, lesson_key, now

if TYPE_CHECKING:
    from tutor.grading.verdict import Verdict
    from tutor.plan.steps import Plan, Step
    from tutor.session import QuizSession


class NotOpened(Exception):
    """A lesson the rules of a class do not open now (an exam outside its window, its time
    up); ``str()`` is the sentence to show the learner."""


class ClassRules(Protocol):
    """What a class server decides for the app, where a learner alone decides: which lessons
    the picker lists (the course, in its order) and in which mode and on which numbers a
    lesson opens (an exam on the learner's own seed, within its window and time limit)."""

    def catalogue(self) -> tuple[list[Lesson], list[Problem]]:
        """The course's lessons in course order, and the first problem of each unreadable one."""
        ...

    def admit(self, lesson: Lesson, mode: str, seed: int | None) -> tuple[str, int | None]:
        """The mode and seed ``lesson`` opens in when asked for in ``mode`` on ``seed``;
        raises :class:`NotOpened` when it must not open now."""
        ...

    def seconds_left(self, lesson: Lesson, mode: str) -> float | None:
        """Seconds until the lesson, opened in ``mode``, must close (an exam's time limit or
        window), or None for no limit. Asked once the lesson is open."""
        ...

    def exam_hints(self, lesson: Lesson) -> bool:
        """Whether the exam on ``lesson`` allows hints (exams allow none by default)."""
        ...


def fresh_seed() -> int:
    """A new variant's seed, from the system's randomness (``secrets`` would load OpenSSL
    into every session for this one number)."""
    return random.SystemRandom().randrange(10**6)


def exams(store: Progress, lesson_id: str) -> list[dict[str, Any]]:
    """This lesson's exam entries (any seed), the most recently used last."""
    found = [
        entry
        for key, entry in store.lessons().items()
        if key.endswith("#exam") and isinstance(entry, dict) and entry.get("lesson") == lesson_id
    ]
    return sorted(found, key=lambda entry: str(entry.get("updated") or ""))


def exam_under_way(store: Progress, lesson_id: str) -> dict[str, Any] | None:
    """The entry of an exam on this lesson that is started and not finished (any seed)."""
    return next((e for e in reversed(exams(store, lesson_id)) if e.get("current")), None)


def exam_in_progress(store: Progress, lesson_id: str) -> bool:
    """An exam on this lesson (any variant) is started and not finished."""
    return exam_under_way(store, lesson_id) is not None


def entry_seed(entry: dict[str, Any]) -> int | None:
    """The seed an entry was taken on (None: the lesson's own numbers)."""
    seed = entry.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


#: why each mode waits for an unfinished exam on the same lesson
CLOSED_BY_EXAM = {
    "learn": "its hints, breakdowns and method text would give the exam away",
    "drill": "its hints and breakdowns would give the exam away",
    "review": "the worked solution would give the exam away",
}


class Opening:
    """A lesson about to be opened: the mode and seed it opens in, and where it starts.

    An exam is one per lesson while it is under way, whatever seed is asked for: an
    unfinished exam always reopens on its own numbers, so that a learner cannot start it
    again by changing the seed or see it through another mode. Without ``--seed`` an exam
    reopens the learner's last exam on the lesson, or starts one on a fresh seed of its own
    (lessons with ``[variants]``; the others keep their own numbers)."""

    def __init__(
        self,
        store: Progress,
        lesson: Lesson,
        mode: str = "learn",
        seed: int | None = None,
        ruled: bool = False,
    ):
        """``ruled``: a class's rules chose the mode and seed (an exam's attempt on the
        student's numbers), so an earlier attempt still open does not take its place."""
        self.store = store
        self.lesson = lesson
        #: an exam that allows hints (a class's rule); exams allow none by default
        self.exam_hints = False
        #: why the mode asked for was refused, if it was (the exam opens instead)
        self.refused: str | None = None
        #: why the seed asked for was not used, if it was not
        self.notice: str | None = None
        under_way = exam_under_way(store, lesson.id)
        if mode != "exam" and under_way is not None:
            self.refused = (
                f"{mode.capitalize()} mode on {lesson.id} opens again when your exam on it "
                f"ends: {CLOSED_BY_EXAM.get(mode, 'it would give the exam away')}."
            )
            mode = "exam"
        if mode == "exam" and not (ruled and seed is not None):
            seed = self._exam_seed(under_way, seed)
        self.mode = mode
        if lesson.variants is None:
            seed = None
        elif mode == "drill" and seed is None:
            seed = fresh_seed()  # every drill gets fresh numbers, recorded
        self.seed = seed
        self.key = lesson_key(lesson.id, seed, mode)
        # read here, on the interface's thread: the session is made in a worker
        self.saved: dict[str, Any] = store.lesson_state(self.key)
        self.boxes: dict[str, int] = store.boxes()

    def _exam_seed(self, under_way: dict[str, Any] | None, asked: int | None) -> int | None:
        """The seed an exam opens on: the unfinished exam's, else the one asked for, else
        the last exam's (a finished exam shows its summary), else a fresh one."""
        if under_way is not None:
            seed = entry_seed(under_way)
            if asked is not None and asked != seed:
                self.notice = (
                    f"Your exam on {self.lesson.id} is not finished, so it goes on with its "
                    f"own numbers; seed {asked} was not used."
                )
            return seed
        if asked is not None or self.lesson.variants is None:
            return asked
        taken = exams(self.store, self.lesson.id)
        return entry_seed(taken[-1]) if taken else fresh_seed()

    @property
    def numbers(self) -> str:
        """Which numbers the lesson opens on, in words."""
        if self.seed is None:
            return "the lesson's own numbers"
        return f"the variant drawn with seed {self.seed}"

    def restart(self) -> str | None:
        """Forget this lesson's progress in this mode (the log keeps a record); an exam is
        taken once, so for an exam nothing is forgotten and the reason is returned. So is
        the store's, if it cannot log the reset (then nothing is forgotten either)."""
        if self.mode == "exam":
            return "An exam is taken once; its result is kept for your instructor."
        try:
            self.store.reset(self.key)
        except ProgressNotSaved as err:
            return str(err)
        self.saved = self.store.lesson_state(self.key)
        return None

    @property
    def first_step(self) -> str | None:
        """The step to ask first, known before the plan is built (None for a drill, whose
        steps are chosen with the plan)."""
        current = self.saved.get("current")
        if isinstance(current, str):
            return current
        if self.mode == "drill" or not self.lesson.quiz.asks(self.lesson.first_step):
            return None
        return self.lesson.first_step

    def plan(self) -> Plan:
        """The plan of the lesson, or of its variant (slow: runs the engine)."""
        from tutor.catalog import open_lesson

        return open_lesson(self.lesson, self.seed)

    def session(self, clock: Callable[[], float] = time.monotonic) -> QuizSession:
        """The session, resumed from the saved state and recording to the store (slow).
        The session and its grader are imported here, with the engine: after the first
        paint."""
        from tutor.session import QuizSession

        plan = self.plan()
        saved = self.saved
        recorder = LessonRecorder(self.store, self.lesson.id, self.seed, self.mode)
        records = {
            k: StepRecord.from_dict(v)
            for k, v in saved.get("steps", {}).items()
            if isinstance(v, dict)
        }
        boxes = self.boxes
        ask_only = None
        if self.mode == "drill":
            asked = saved.get("asked")
            if isinstance(asked, list) and asked:
                ask_only = {str(a) for a in asked}
            else:
                import numpy as np

                from tutor import drill

                ask_only = drill.choose_steps(plan, boxes, np.random.default_rng(self.seed))
            recorder.asked = sorted(ask_only)
        elapsed = saved.get("elapsed", 0.0)
        current = saved.get("current")
        return QuizSession(
            plan,
            records,
            recorder,
            clock=clock,
            elapsed=elapsed if isinstance(elapsed, (int, float)) else 0.0,
            mode=self.mode,
            ask_only=ask_only,
            boxes=boxes,
            start=current if isinstance(current, str) else None,
            exam_hints=self.exam_hints and self.mode == "exam",
        )


class LessonRecorder:
    """Saves a quiz session's every action as one event in the learner's progress."""

    def __init__(
        self, store: Progress, lesson_id: str, seed: int | None = None, mode: str = "learn"
    ):
        self.store = store
        self.lesson_id = lesson_id
        self.seed = seed
        self.mode = mode
        self.key = lesson_key(lesson_id, seed, mode)
        self.asked: list[str] | None = None  # a drill's chosen steps

    def attempt(
        self, session: QuizSession, step: Step, verdict: Verdict | None, event: str
    ) -> None:
        record = session.records[step.id]
        entry: dict[str, Any] = {
            "time": now(),
            "lesson": self.lesson_id,
            "lesson_key": self.key,
            "seed": self.seed,
            "mode": self.mode,
            "step": step.id,
            "event": event,
            "input": record.answer if verdict is not None else None,
            "value": verdict.value if verdict is not None else None,
            "verdict": verdict.verdict if verdict is not None else record.status,
            "diagnosis": verdict.diagnosis if verdict is not None else None,
            "hint_level": record.hint_level,
            "seconds": record.seconds,
            "elapsed": round(session.elapsed(), 3),
            "record": record.to_dict(),
            "total": session.total_asked,
            "current": session.current.id if session.current is not None else None,
        }
        if self.asked is not None:
            entry["asked"] = self.asked
        if self.mode == "drill":
            entry["leitner"] = dict(session.boxes)  # the log alone can rebuild the boxes
        self.store.record(entry)


def resume_command(lesson_id: str, mode: str, seed: int | None) -> str:
    """The command that opens this lesson again where the learner stopped."""
    words = ["tutor", lesson_id]
    if mode not in ("learn", "review"):
        words += ["--mode", mode]
    if seed is not None:
        words += ["--seed", str(seed)]
    return " ".join(words)


def farewell(session: QuizSession, mode: str) -> str:
    """What the terminal says after the tutor closes on a lesson: where the learner stopped
    and how to go on (plain text, printed by the command after the interface is gone)."""
    lesson = session.plan.lesson
    k, n = session.position()
    if session.current is None:
        return f"Finished {lesson.id} ({n} steps, score {session.score:g}). Progress is saved."
    again = resume_command(lesson.id, mode, lesson.seed)
    return (
        f"Stopped at step {k} of {n} ({session.current.id}) of {lesson.id}; progress is saved.\n"
        f"Resume with: {again}"
    )


def welcome_back(session: QuizSession, saved: dict[str, Any]) -> str | None:
    """The greeting of a lesson resumed part-way from ``saved`` (None for a fresh start)."""
    if session.current is None or not saved.get("steps"):
        return None
    k, n = session.position()
    return f"Welcome back at step {k} of {n}."
