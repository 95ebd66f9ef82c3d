"""The Textual app: a thin shell that opens screens and hands them a session.

All teaching logic lives in the core (plan, grading, session); all layout in the screens and
``app.tcss``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from tutor.lesson import Lesson, LessonError, load_lesson
from tutor.plan import build_plan
from tutor.progress import LessonRecorder, ProgressStore
from tutor.session import QuizSession, StepRecord


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
    ):
        super().__init__()
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
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(sig, self.exit)
        for warning in self.store.warnings:
            self.notify(warning, severity="warning", timeout=15)
        if self.lesson is not None:
            self.open_lesson(self.lesson, restart=self.restart)
        else:
            self.show_picker()

    # --- navigation used by the screens
    def open_lesson(self, lesson: Lesson, restart: bool = False) -> None:
        from tutor.screens.quiz import QuizScreen

        self.lesson = lesson
        plan = build_plan(lesson)
        recorder = LessonRecorder(self.store, lesson.id)
        if restart:
            recorder.restart()
        saved = self.store.lesson_state(recorder.key)
        records = {
            k: StepRecord.from_dict(v)
            for k, v in saved.get("steps", {}).items()
            if isinstance(v, dict)
        }
        elapsed = saved.get("elapsed", 0.0)
        self.session = QuizSession(
            plan,
            records,
            recorder,
            clock=self.clock,
            elapsed=elapsed if isinstance(elapsed, (int, float)) else 0.0,
        )
        screen = QuizScreen(self.session, ascii_only=self.ascii_only, blink=self.blink)
        self._replace(screen)
        if self.session.complete:
            self.call_later(self.show_summary, self.session)

    def show_summary(self, session: QuizSession) -> None:
        from tutor.screens.summary import SummaryScreen

        lesson = session.plan.lesson
        self._replace(
            SummaryScreen(
                lesson.title,
                session.summary(),
                lesson.quiz.decimals,
                self.ascii_only,
                variants=False,
            )
        )

    def redo_lesson(self) -> None:
        if self.lesson is not None:
            self.open_lesson(self.lesson, restart=True)

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

    def _replace(self, screen) -> None:
        """Show ``screen`` as the only screen above the default one."""
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
