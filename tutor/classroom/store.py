"""One student's progress in the class database: the class server's sessions read and write
it through :class:`tutor.progress.interface.Progress`, as a learner's own files are.

- The student is the one this store was made for (the login the server authenticated),
  never anything an event says: every event is written under that name.
- An event is committed before :meth:`ClassProgress.record` returns (the verdict is shown
  after); one that cannot be (a full disk, a read-only file, a server that went away)
  raises :class:`ProgressNotSaved`, and nothing of it is kept or counted.
- The state is the attempt log replayed with the learner's own store's
  :func:`tutor.progress.store.apply_entry`, each event read back through the same shape
  checks (:mod:`tutor.progress.shapes`), so ``tutor progress`` and the class gradebook count
  a lesson the same way.
"""

from __future__ import annotations

import errno
import json
from typing import TYPE_CHECKING, Any

from tutor.classroom import summaries
from tutor.classroom.backends import DatabaseFailed
from tutor.progress.interface import (
    Progress,
    ProgressLocked,
    ProgressNotSaved,
    ProgressUnusable,
)
from tutor.progress.records import now
from tutor.progress.shapes import log_problem
from tutor.progress.store import STATE_VERSION, apply_entry
from tutor.textmode import visible_data

if TYPE_CHECKING:
    from tutor.classroom.database import ClassDatabase

#: an event larger than this is no answer the tutor wrote
MAX_EVENT_BYTES = 256 * 1024


class ClassProgress:
    """One student's progress, kept in the class database; see the module docstring."""

    def __init__(self, database: ClassDatabase, name: str):
        self.warnings: list[str] = []
        self._db = database
        self._backend = database.backend
        self.name = name  # who every event is recorded for: the authenticated login
        self._state: dict[str, Any] | None = None
        self._last_id = 0  # the newest event applied to the state
        self._locked = False

    @property
    def where(self) -> str:
        return f"the class database {self._backend.where} (student {self.name})"

    # --- the session lock: one session per student, across processes and lab hosts
    def lock(self) -> None:
        try:
            held = self._backend.lock(self.name)
        except DatabaseFailed as err:
            raise ProgressUnusable(str(err), errno.EIO) from None
        if not held:
            raise ProgressLocked(self._db.locked_message(self.name))
        self._locked = True
        try:
            self._state = None  # read again under the lock
            self.state()
        except BaseException:
            self.unlock()
            raise

    def unlock(self) -> None:
        if self._locked:
            self._backend.unlock(self.name)
            self._locked = False

    # --- reading
    def state(self) -> dict[str, Any]:
        """The state the log replays to; a database that cannot be read raises
        :class:`ProgressUnusable` (an ``OSError``), as an unusable progress folder does."""
        if self._state is None:
            state: dict[str, Any] = {"version": STATE_VERSION, "lessons": {}}
            try:
                rows = self._backend.run(
                    "SELECT id, entry FROM events WHERE student = ? ORDER BY id", (self.name,)
                )
            except DatabaseFailed as err:
                raise ProgressUnusable(str(err), errno.EIO) from None
            self._last_id = 0
            self._apply(state, rows)
            self._state = state
        return self._state

    def lessons(self) -> dict[str, Any]:
        return self.state().setdefault("lessons", {})

    def lesson_state(self, key: str) -> dict[str, Any]:
        return self.lessons().setdefault(key, {"steps": {}})

    def boxes(self) -> dict[str, int]:
        return self.state().setdefault("leitner", {})

    def attempts(self) -> list[dict[str, Any]]:
        try:
            rows = self._backend.run(
                "SELECT id, entry FROM events WHERE student = ? ORDER BY id", (self.name,)
            )
        except DatabaseFailed as err:
            raise ProgressUnusable(str(err), errno.EIO) from None
        return [entry for _, entry in self._events(rows)]

    def _events(self, rows: list[tuple[Any, ...]]) -> list[tuple[int, dict[str, Any]]]:
        """The rows' events checked for their shape, as the learner's own log is read; a
        bad one (edited in the database by hand) is left out, with a warning."""
        good = []
        for event_id, text in rows:
            try:
                entry = visible_data(json.loads(text))  # text shown, never acted on
                why = log_problem(entry)
            except (ValueError, TypeError, RecursionError):
                why = "not valid JSON"
            if why is None:
                good.append((int(event_id), entry))
            else:
                self._warn(
                    f"event {event_id} of {self.name} in the class database was left out ({why})."
                )
        return good

    def _apply(self, state: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
        for _, entry in self._events(rows):
            apply_entry(state, entry)
        if rows:
            self._last_id = max(self._last_id, max(int(r[0]) for r in rows))

    # --- writing
    def record(self, entry: dict[str, Any]) -> None:
        """Commit one event for this store's student, then apply it; see the module
        docstring."""
        why = log_problem(entry)
        if why is not None:
            raise _not_saved(f"the tutor made an event of the wrong shape ({why})")
        text = json.dumps(entry, ensure_ascii=False, allow_nan=False)
        if len(text) > MAX_EVENT_BYTES:
            raise _not_saved("the event is too large to keep")
        try:
            state = self.state()
        except ProgressUnusable as err:
            raise _not_saved(str(err)) from None
        try:
            with self._backend.transaction() as run:
                if self._locked and self.name in self._backend.lost:  # seen on reconnecting
                    raise DatabaseFailed(
                        "another session of yours took over while the class database was "
                        "out of reach"
                    )
                # what the views count, kept with the answer (the summary first: locked, so
                # that this student's ids are drawn in the order they are counted)
                summary = summaries.Summary(
                    run,
                    self._backend.dialect,
                    self.name,
                    self._db.lesson_steps,
                    self._backend,
                    entry,
                )
                newer = None  # written by another process since (a reset)
                if summary.broken or summary.last_id != self._last_id:
                    newer = run(
                        "SELECT id, entry FROM events WHERE student = ? AND id > ? ORDER BY id",
                        (self.name, self._last_id),
                    )
                at = self._db.clock()
                made = run(
                    "INSERT INTO events (student, at, entry) VALUES (?, ?, ?) RETURNING id",
                    (self.name, at, text),
                )
                counted = summary.bring_up_to_date((made[0][0], at, text), self._last_id)
                if newer is None:  # the summary has read them: all since this state's last
                    newer = [(i, e) for i, _, e in counted if int(i) != int(made[0][0])]
                self._backend.announce(run, self.name)  # with the commit: watch updates
        except DatabaseFailed as err:
            raise _not_saved(str(err)) from None
        self._apply(state, newer)  # written by another process since (a reset)
        apply_entry(state, entry)
        self._last_id = max(self._last_id, int(made[0][0]))

    def reset(self, key: str | None = None) -> None:
        self.record({"time": now(), "event": "reset", "lesson_key": key or "*"})

    def flush(self) -> None:
        """Nothing waits: every event was committed when it was recorded."""

    def settle(self, timeout: float) -> None:
        """Nothing is under way: :meth:`record` commits before it returns."""

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def _not_saved(reason: str) -> ProgressNotSaved:
    return ProgressNotSaved(
        f"Your answers cannot be saved: {reason}. That was not recorded; try again once "
        "this is fixed.",
        reason,
    )


def as_progress(store: ClassProgress) -> Progress:
    """The class store where a :class:`Progress` is asked for (mypy checks it is one)."""
    return store
