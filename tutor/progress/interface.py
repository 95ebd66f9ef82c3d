"""What the rest of the tutor may ask of a learner's progress, whichever store keeps it: the
learner's own files (``tutor.progress.store``) or, for a class, the class database."""

from __future__ import annotations

import errno
from typing import Any, Protocol


class ProgressLocked(Exception):
    """Another session of the same user holds the store."""


class ProgressUnusable(OSError):
    """The progress folder or one of its files cannot be used as it is (not a regular file,
    a symbolic link, unreadable). ``strerror`` says why in one line that names the file;
    it is an ``OSError`` so that whatever already reports an unusable folder reports it."""

    def __init__(self, why: str, code: int = errno.EINVAL):
        super().__init__(code, why)

    def __str__(self) -> str:
        return str(self.strerror)


class ProgressNotSaved(Exception):
    """An event could not be kept (a full disk, an unwritable file). Nothing of it was kept,
    so the session must not count it either; ``str()`` is the line to show the learner."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        #: the cause alone ("no space left on the disk that holds …"), for other wordings
        self.reason = reason


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
        """Keep one event for good before returning (the verdict is shown after), or raise
        :class:`ProgressNotSaved` having kept nothing of it."""
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
