"""The Textual app: a thin shell that answers the screens' messages by opening screens.

Teaching logic lives in the core (plan, grading, session), opening a lesson in
``tutor.opening``, layout in the screens and ``app.tcss``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen

from tutor.lesson.model import Lesson
from tutor.opening import ClassRules, NotOpened, Opening, farewell, fresh_seed
from tutor.progress.interface import Progress
from tutor.progress.store import ProgressStore
from tutor.ui.driver import quiet_driver, served_driver
from tutor.ui.messages import FreshVariant, LessonFinished, OpenLesson, Redo, ShowLessons
from tutor.ui.screens.quiz import QuizScreen

if TYPE_CHECKING:
    from tutor.session import QuizSession


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
        store: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
        mode: str = "learn",
        seed: int | None = None,
        rules: ClassRules | None = None,
    ):
        """``rules``: a class server's say over which lessons are listed and how they open
        (None: the learner's own choice, from every lesson found)."""
        super().__init__()
        self.lesson = lesson  # the lesson open now (or last), for redo and fresh variants
        self.mode = mode
        self.seed = seed
        self.restart = restart
        self.ascii_only = ascii_only
        self.blink = blink
        self.store: Progress = store if store is not None else ProgressStore()
        self.clock = clock
        #: what the terminal says once the interface is gone (where the learner stopped)
        self.farewell: str | None = None
        self.rules = rules
        self._notices: list[str] = []  # said once the interface is up

    @property
    def session(self) -> QuizSession | None:
        """The session of the lesson on screen (under a dialog, too), once it is ready."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, QuizScreen):
                return screen.session
            if not screen.is_modal:
                return None
        return None

    def on_mount(self) -> None:
        if self.ascii_only:
            self.add_class("-ascii")
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
            loop.add_signal_handler(signal.SIGTERM, self._terminate)
        for warning in self.store.warnings:
            self.notify(warning, severity="warning", timeout=15)
        for notice in self._notices:
            self.notify(notice, severity="warning", timeout=15)

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice, except that a Linux terminal gets the driver that never polls and
        a `tutor serve` tab the one that quits when its server goes away."""
        return served_driver(quiet_driver(super().get_driver_class()))

    def get_default_screen(self) -> Screen[Any]:
        """The first screen itself (not a blank one with ours pushed on top): one paint less
        before the first prompt."""
        screen = None
        if self.lesson is not None:  # with no screen to stay on, it opens (in exam mode)
            screen = self._lesson_screen(self.lesson, self.mode, self.seed, self.restart)
        return screen or self._picker()

    def exit(self, result: int | None = None, return_code: int = 0, message: Any = None) -> None:
        """Every way out comes here: note where the learner stopped, for the command to say."""
        session = self.session
        if self.farewell is None and session is not None:
            self.farewell = farewell(session, self.mode)
        super().exit(result, return_code, message)

    # --- signals (Textual handles neither SIGHUP nor SIGTERM by itself)
    def _hang_up(self) -> None:
        """The terminal is gone (a dropped SSH link): every answer is already kept, and
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

    # --- what the screens ask for
    def on_open_lesson(self, message: OpenLesson) -> None:
        screen = self._lesson_screen(
            message.lesson, message.mode or self.mode, message.seed, message.restart
        )
        if screen is not None:
            self._show(screen)

    def on_show_lessons(self, message: ShowLessons) -> None:
        self._show(self._picker())

    def on_lesson_finished(self, message: LessonFinished) -> None:
        from tutor.catalog import catalogue
        from tutor.progress.report import course_path
        from tutor.ui.screens.summary import SummaryScreen

        self.store.flush()
        lessons, _ = catalogue()
        done = message.session.plan.lesson.id
        next_id = course_path(self.store, lessons).next(after=done)
        following = next((lesson for lesson in lessons if lesson.id == next_id), None)
        self._show(SummaryScreen(message.session, self.ascii_only, following))

    def on_redo(self, message: Redo) -> None:
        if self.lesson is not None:
            self.post_message(OpenLesson(self.lesson, self.mode, self.seed, restart=True))

    def on_fresh_variant(self, message: FreshVariant) -> None:
        if self.lesson is not None and self.lesson.variants is not None:
            self.post_message(OpenLesson(self.lesson, self.mode, fresh_seed()))

    # --- screens
    def _lesson_screen(
        self, lesson: Lesson, mode: str, seed: int | None, restart: bool
    ) -> Screen[Any] | None:
        """The screen that opens ``lesson``; None when it must not open (an exam on it is
        unfinished, and there is a screen to stay on, or the class's rules refuse it)."""
        if self.rules is not None:
            try:
                mode, seed = self.rules.admit(lesson, mode, seed)
            except NotOpened as err:
                self._say(str(err))
                return None
        opening = Opening(self.store, lesson, mode, seed, ruled=self.rules is not None)
        if self.rules is not None:
            opening.exam_hints = self.rules.exam_hints(lesson)
        if opening.refused is not None and self.screen_stack:
            # from the picker: stay there and say why (the exam opens in exam mode)
            from tutor.ui.screens.picker import PickerScreen

            why = f"{opening.refused} Choose exam mode (m) to go on with it."
            if isinstance(self.screen, PickerScreen):
                self.screen.refuse(why)
            else:
                self.notify(why, severity="warning", timeout=10)
            return None
        refused = opening.restart() if restart else None
        if refused is not None:
            if self.screen_stack:
                self.notify(refused, timeout=10)
                return None
            opening.notice = " ".join(filter(None, (opening.notice, refused)))
        self.lesson, self.mode, self.seed = lesson, opening.mode, opening.seed
        if self.rules is not None:
            self._close_in(self.rules.seconds_left(lesson, opening.mode), lesson.id)
        if opening.mode == "review":
            from tutor.ui.screens.review import ReviewScreen

            return ReviewScreen(opening.plan(), self.ascii_only)
        return QuizScreen(opening, self.clock, ascii_only=self.ascii_only, blink=self.blink)

    def _say(self, notice: str) -> None:
        """Why a lesson did not open: on the picker, as the picker says it; else a warning,
        now or (before the first screen is up) as soon as it can show."""
        from tutor.ui.screens.picker import PickerScreen

        if self.screen_stack and isinstance(self.screen, PickerScreen):
            self.screen.refuse(notice)
        elif self.screen_stack:
            self.notify(notice, severity="warning", timeout=15)
        else:
            self._notices.append(notice)

    def _close_in(self, seconds: float | None, lesson_id: str) -> None:
        """End the session when an exam's time is up: every answer is already kept."""
        if seconds is None:
            return
        message = (
            f"Time is up for your exam on {lesson_id}. Your answers so far are kept for "
            "your instructor."
        )

        def time_up() -> None:
            if self.lesson is not None and self.lesson.id == lesson_id and self.mode == "exam":
                self.farewell = message
                self.exit()

        self.set_timer(max(seconds, 0.0), time_up, name="exam time limit")

    def _picker(self) -> Screen[Any]:
        from tutor.catalog import catalogue
        from tutor.progress.report import course_path
        from tutor.ui.screens.picker import PickerScreen

        lessons, problems = self.rules.catalogue() if self.rules is not None else catalogue()
        path = course_path(self.store, lessons)
        return PickerScreen(lessons, path, [str(p) for p in problems], self.mode, self.ascii_only)

    def _show(self, screen: Screen[Any]) -> None:
        """Show ``screen`` in place of the current one. The first screen stays at the bottom
        of the stack (Textual cannot switch away from the only screen), so later screens are
        pushed above it and then switched."""
        if len(self.screen_stack) == 1:
            self.push_screen(screen)
        else:
            self.switch_screen(screen)
