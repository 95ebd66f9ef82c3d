"""The Textual app: a thin shell that opens screens and hands them a session.

All teaching logic lives in the core (plan, grading, session); all layout in the screens and
``app.tcss``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from tutor.lesson import Lesson, LessonError, load_lesson
from tutor.progress import LessonRecorder, ProgressStore, lesson_key

if TYPE_CHECKING:
    from textual.driver import Driver

    from tutor.plan import Plan
    from tutor.session import QuizSession


def fresh_seed() -> int:
    """A new variant's seed, from the system's randomness (``secrets`` would load OpenSSL
    into every session for this one number)."""
    return random.SystemRandom().randrange(10**6)


def plan_for(lesson: Lesson, seed: int | None, here: bool = False) -> Plan:
    """The plan of the lesson, or of ``seed``'s variant of it. Its numbers (and a variant's
    drawing) come from the engine process, so that NumPy stays out of this long-lived
    process; they are computed here when that saves nothing or is not possible (``here``: a
    drill, which loads NumPy to choose its steps anyway, and review mode, which needs the
    whole plan before its first paint)."""
    from tutor.engine_process import numbers_for
    from tutor.plan import build_plan

    got = None if here else numbers_for(lesson, seed)
    if got is not None:
        return build_plan(*got)
    if seed is not None:
        from tutor.variants import draw_variant  # loads NumPy's random module

        lesson = draw_variant(lesson, seed)
    return build_plan(lesson)


class TutorApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "backprop-tutor"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q,f10", "quit", "Quit", key_display="^Q", priority=True),
    ]

    def __init__(
        self,
        lesson: Lesson | None = None,
        *,
        restart: bool = False,
        ascii_only: bool = False,
        blink: bool = True,
        store: ProgressStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        mode: str = "learn",
        seed: int | None = None,
    ):
        super().__init__()
        self.mode = mode
        self.seed = seed
        self.lesson = lesson
        self.restart = restart
        self.ascii_only = ascii_only
        self.blink = blink
        self.store = store if store is not None else ProgressStore()
        self.session: QuizSession | None = None
        self.clock = clock

    def on_mount(self) -> None:
        if self.ascii_only:
            self.add_class("-ascii")
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
            loop.add_signal_handler(signal.SIGTERM, self._terminate)
        for warning in self.store.warnings:
            self.notify(warning, severity="warning", timeout=15)

    def on_unmount(self) -> None:
        """Closing: end an engine process still working, rather than wait for it."""
        if "tutor.engine_process" in sys.modules:
            sys.modules["tutor.engine_process"].stop()

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice, except that a Linux terminal gets the driver that never polls."""
        chosen = super().get_driver_class()
        if (chosen.__module__, chosen.__name__) == ("textual.drivers.linux_driver", "LinuxDriver"):
            from tutor.driver import QuietLinuxDriver

            return QuietLinuxDriver
        return chosen

    def get_default_screen(self) -> Screen:
        """The first screen itself (not a blank one with ours pushed on top): one paint less
        before the first prompt."""
        self._first: Screen | None = None
        if self.lesson is not None:
            self.open_lesson(self.lesson, restart=self.restart, seed=self.seed)
        else:
            self.show_picker()
        return self._first or Screen()

    # --- signals (Textual handles neither SIGHUP nor SIGTERM by itself)
    def _hang_up(self) -> None:
        """The terminal is gone (a dropped SSH link): every answer is already on disk, and
        restoring a terminal that no longer exists can hang, so leave at once."""
        self.store.settle(timeout=0.5)
        self.store.unlock()
        os._exit(0)

    def _terminate(self) -> None:
        """Exit normally (restoring the terminal), with a watchdog in case that hangs."""
        timer = threading.Timer(3.0, os._exit, args=(0,))
        timer.daemon = True
        timer.start()
        self.exit()

    # --- navigation used by the screens
    def open_lesson(
        self,
        lesson: Lesson,
        restart: bool = False,
        mode: str | None = None,
        seed: int | None = None,
    ) -> None:
        """Open ``lesson`` (the file's own numbers) in a mode, on the variant of ``seed``.

        The quiz screen is shown at once; the lesson's numbers (from the engine process) and
        the plan are made in a worker (see ``QuizScreen``), so the first prompt appears as
        fast as Textual allows.
        """
        from tutor.screens.quiz import QuizScreen

        mode = mode or self.mode
        blocked = self._exam_in_progress(lesson.id)
        if blocked and mode != "exam":
            # the worked solution or hints would give an unfinished exam away
            self.notify(
                f"An exam on {lesson.id} is in progress: finish it first "
                f"(tutor {lesson.id} --mode exam).",
                severity="warning",
                timeout=10,
            )
            if self.screen_stack:
                return
            mode = "exam"
        self.mode = mode
        self.lesson = lesson
        self.session = None
        if lesson.variants is None:
            seed = None
        elif mode == "drill" and seed is None:
            seed = fresh_seed()  # every drill gets fresh numbers, recorded
        self.seed = seed
        if mode == "review":
            self._open_review(lesson, seed)
            return
        key = lesson_key(lesson.id, seed, mode)
        if restart:
            self.store.reset(key)
        saved = self.store.lesson_state(key)
        first = saved.get("current") if isinstance(saved.get("current"), str) else None
        if first is None and mode != "drill":  # a drill's steps are drawn in the worker
            default = f"sum_{lesson.network.layers[1].units[0]}"
            first = default if lesson.quiz.asks(default) else None

        def build() -> QuizSession:
            return self._make_session(lesson, seed, mode, saved)

        screen = QuizScreen(
            lesson,
            first,
            build,
            ascii_only=self.ascii_only,
            blink=self.blink,
            mode=mode,
            preview=seed is None,
        )
        self._replace(screen)

    def _exam_in_progress(self, lesson_id: str) -> bool:
        for key, entry in self.store.state().get("lessons", {}).items():
            if (
                key.startswith(lesson_id)
                and key.endswith("#exam")
                and isinstance(entry, dict)
                and entry.get("lesson") == lesson_id
                and entry.get("current")
            ):
                return True
        return False

    def _make_session(
        self, lesson: Lesson, seed: int | None, mode: str, saved: dict
    ) -> QuizSession:
        """The slow part of opening a lesson (runs in a worker thread)."""
        from tutor.session import QuizSession, StepRecord

        plan = plan_for(lesson, seed, here=mode == "drill")
        recorder = LessonRecorder(self.store, lesson.id, seed, mode)
        records = {
            k: StepRecord.from_dict(v)
            for k, v in saved.get("steps", {}).items()
            if isinstance(v, dict)
        }
        boxes = self.store.state().setdefault("leitner", {})
        ask_only = None
        if mode == "drill":
            asked = saved.get("asked")
            if isinstance(asked, list) and asked:
                ask_only = {str(a) for a in asked}
            else:
                import numpy as np

                from tutor import drill

                ask_only = drill.choose_steps(plan, boxes, np.random.default_rng(seed))
            recorder.asked = sorted(ask_only)
        elapsed = saved.get("elapsed", 0.0)
        return QuizSession(
            plan,
            records,
            recorder,
            clock=self.clock,
            elapsed=elapsed if isinstance(elapsed, (int, float)) else 0.0,
            mode=mode,
            ask_only=ask_only,
            boxes=boxes,
            start=saved.get("current") if isinstance(saved.get("current"), str) else None,
        )

    def _open_review(self, lesson: Lesson, seed: int | None) -> None:
        from tutor.screens.review import ReviewScreen

        # here: the review screen is drawn from the plan at once, and NumPy in this process
        # is quicker to the first paint than an engine process
        self._replace(ReviewScreen(plan_for(lesson, seed, here=True), self.ascii_only))

    def fresh_variant(self) -> None:
        if self.lesson is not None and self.lesson.variants is not None:
            self.open_lesson(self.lesson, mode=self.mode, seed=fresh_seed())

    def show_summary(self, session: QuizSession) -> None:
        from tutor.screens.summary import SummaryScreen

        lesson = session.plan.lesson
        self.store.flush()
        self._replace(
            SummaryScreen(
                lesson.title,
                session.summary(),
                lesson.quiz.decimals,
                self.ascii_only,
                variants=lesson.variants is not None,
                training=session.plan.training_history if lesson.training else None,
            )
        )

    def redo_lesson(self) -> None:
        if self.mode == "exam":
            self.notify("An exam is taken once; its result is kept for your instructor.")
            return
        if self.lesson is not None:
            self.open_lesson(self.lesson, restart=True, seed=self.seed)

    def show_picker(self) -> None:
        from tutor.locations import lesson_files
        from tutor.screens.picker import PickerScreen

        lessons = []
        problems = []
        state = self.store.state().get("lessons", {})
        for lesson_id, path in lesson_files().items():
            try:
                lesson = load_lesson(path, lesson_id)
            except LessonError as err:
                problems.append(str(err.problems[0]))
                continue
            saved = state.get(lesson_id, {})
            steps = saved.get("steps", {}) if isinstance(saved, dict) else {}
            done = sum(
                1
                for r in steps.values()
                if isinstance(r, dict) and r.get("status") in ("correct", "carried", "revealed")
            )
            total = saved.get("total") if isinstance(saved, dict) else None
            if not done:
                progress = "new"
            elif isinstance(total, int) and total > 0:
                progress = "done" if done >= total else f"{done}/{total}"
            else:
                progress = f"{done} done"
            lessons.append((lesson, progress))
        lessons.sort(key=lambda pair: (pair[0].order, pair[0].id))
        self._replace(PickerScreen(lessons, problems, self.ascii_only))

    def _replace(self, screen: Screen) -> None:
        """Show ``screen`` in place of the current one (or as the first screen).

        The first screen stays at the bottom of the stack (Textual cannot switch away from
        the only screen), so later screens are pushed above it and then switched.
        """
        if not self.screen_stack:
            self._first = screen
        elif len(self.screen_stack) == 1:
            self.push_screen(screen)
        else:
            self.switch_screen(screen)
