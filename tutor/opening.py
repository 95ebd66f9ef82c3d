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
from typing import TYPE_CHECKING, Any

from tutor.lesson.model import Lesson
from tutor.progress.interface import Progress, ProgressNotSaved
from tutor.progress.records import StepRecord, lesson_key, now

if TYPE_CHECKING:
    from tutor.grading.verdict import Verdict
    from tutor.plan.steps import Plan, Step
    from tutor.session import QuizSession


def fresh_seed() -> int:
    """A new variant's seed, from the system's randomness (``secrets`` would load OpenSSL
    into every session for this one number)."""
    return random.SystemRandom().randrange(10**6)


def exam_in_progress(store: Progress, lesson_id: str) -> bool:
    """An exam on this lesson (any variant) is started and not finished."""
    return any(
        key.endswith("#exam")
        and isinstance(entry, dict)
        and entry.get("lesson") == lesson_id
        and entry.get("current")
        for key, entry in store.lessons().items()
    )


class Opening:
    """A lesson about to be opened: the mode and seed it opens in, and where it starts."""

    def __init__(
        self, store: Progress, lesson: Lesson, mode: str = "learn", seed: int | None = None
    ):
        self.store = store
        self.lesson = lesson
        #: why the mode asked for was refused, if it was
        self.refused: str | None = None
        if mode != "exam" and exam_in_progress(store, lesson.id):
            # the worked solution or hints would give an unfinished exam away
            self.refused = (
                f"An exam on {lesson.id} is in progress: finish it first "
                f"(tutor {lesson.id} --mode exam)."
            )
            mode = "exam"
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
