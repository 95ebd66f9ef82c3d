"""What the rest of the tutor may ask of a learner's progress, whichever store keeps it: the
learner's own files (``tutor.progress.store``) or, for a class, the class database."""

from __future__ import annotations

from typing import Any, Protocol


class ProgressLocked(Exception):
    """Another session of the same user holds the store."""


class Progress(Protocol):
    """What the session, the app and the reports need of a learner's progress. The learner's
    own files (:class:`ProgressStore`) are one such store; the class database is another.
    An entry is one event of the attempt log (see :func:`apply_entry`)."""

    warnings: list[str]

    @property
    def where(self) -> str:
        """Where the progress is kept, for messages and exports."""
        ...

    def lock(self) -> None:
        """Hold the store for this session, or raise :class:`ProgressLocked`."""
        ...

    def unlock(self) -> None: ...

    def lessons(self) -> dict[str, Any]:
        """Progress key (see ``lesson_key``) → that lesson's saved state."""
        ...

    def lesson_state(self, key: str) -> dict[str, Any]:
        """One lesson's saved state: its step records, next step, mode, seed and time."""
        ...

    def boxes(self) -> dict[str, int]:
        """The drills' Leitner boxes: step kind → box."""
        ...

    def record(self, entry: dict[str, Any]) -> None:
        """Keep one event for good before returning (the verdict is shown after)."""
        ...

    def reset(self, key: str | None = None) -> None:
        """Forget a lesson's progress (every lesson's for None); the log keeps the reset."""
        ...

    def attempts(self) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        ...

    def flush(self) -> None:
        """Bring what is kept up to date now (the tutor is closing)."""
        ...

    def settle(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for a write under way (a quick exit)."""
        ...
