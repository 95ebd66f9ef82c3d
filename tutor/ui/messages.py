"""What the screens ask of the app: they post these messages and the app opens the screen
that answers them, so that no screen calls into the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tutor.lesson.model import Lesson
    from tutor.session import QuizSession


class OpenLesson(Message):
    """Open ``lesson`` in ``mode`` (None: the app's mode), on ``seed``'s variant."""

    def __init__(
        self,
        lesson: Lesson,
        mode: str | None = None,
        seed: int | None = None,
        restart: bool = False,
    ) -> None:
        super().__init__()
        self.lesson, self.mode, self.seed, self.restart = lesson, mode, seed, restart


class ShowLessons(Message):
    """Go back to the lesson picker."""


class LessonFinished(Message):
    """The last step of ``session`` is done: show its summary."""

    def __init__(self, session: QuizSession) -> None:
        super().__init__()
        self.session = session


class Redo(Message):
    """Start the lesson just finished over."""


class FreshVariant(Message):
    """Open the lesson just finished again, on fresh numbers."""
