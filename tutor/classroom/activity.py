"""The whole class's attempt log, read once and then followed: what the instructor's views
(``tutor class report``, ``tutor class watch``) count from.

One query reads every event (``ORDER BY id``), each read through the same shape checks as a
student's own store reads it (:mod:`tutor.progress.shapes`), and each student's state is the
log replayed with the same :func:`tutor.progress.store.apply_entry`: the views count a
lesson as ``tutor progress`` and ``tutor class export`` do.

Following: :meth:`ClassLog.follow` reads only the rows it has not seen. On PostgreSQL an id
is drawn when a row is written and the row is seen when its transaction commits, so a
smaller id can appear after a larger one: the ids skipped over are asked for again until
they appear or are a minute old (a rolled-back answer leaves its id unused for good).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tutor.classroom.backends import Backend
from tutor.progress.shapes import log_problem
from tutor.progress.store import STATE_VERSION, apply_entry
from tutor.textmode import UNSAFE_RE, visible, visible_data

#: how long an id skipped over is looked for again (a transaction still under way)
GAP_SECONDS = 60.0
#: at most this many skipped ids are asked for again at once
MAX_GAPS = 500


@dataclass
class Event:
    """One row of the ``events`` table: whose, when the database took it, and the event."""

    id: int
    student: str
    at: datetime  # the commit's time, UTC (the database's clock, not the client's)
    entry: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.entry.get("event", ""))

    @property
    def lesson(self) -> str:
        entry = self.entry
        return str(entry.get("lesson") or str(entry.get("lesson_key", "")).split("@")[0])


@dataclass
class StudentLog:
    """One student's events in order and the state they replay to."""

    events: list[Event] = field(default_factory=list)  # kept only if the log keeps them
    state: dict[str, Any] = field(default_factory=lambda: {"version": STATE_VERSION, "lessons": {}})
    count: int = 0  # events read, kept or not
    #: progress key → the times of its first and last event
    spans: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    def lessons(self) -> dict[str, Any]:
        """Progress key → that lesson's state (what :func:`lesson_rows` counts)."""
        lessons: dict[str, Any] = self.state.setdefault("lessons", {})
        return lessons


class ClassLog:
    """Every student's events, replayed; :meth:`follow` brings it up to date."""

    def __init__(
        self,
        backend: Backend,
        since: datetime | None = None,
        keep: bool = True,
        counter: Callable[[Event], None] | None = None,
    ):
        """``keep``: keep every event (the dashboard shows histories); a report reads the
        log once, and its ``counter`` sees each event as it goes by instead."""
        self.backend = backend
        self.since = since  # events before this are left out (``--since``)
        self.keep = keep
        self.counter = counter
        self.students: dict[str, StudentLog] = {}
        self.warnings: list[str] = []
        self.last_id = 0
        self.count = 0
        self._gaps: dict[int, float] = {}  # id skipped over → when it was first missed

    def of(self, name: str) -> StudentLog:
        return self.students.get(name) or StudentLog()

    def follow(self) -> int:
        """Read the events not seen yet; how many were new."""
        sql = "SELECT id, student, at, entry FROM events WHERE id > ?"
        params: list[Any] = [self.last_id]
        if self._gaps:
            gaps = sorted(self._gaps)[:MAX_GAPS]
            sql += f" OR id IN ({', '.join('?' * len(gaps))})"
            params += gaps
        rows = self.backend.run(sql + " ORDER BY id", params)
        self._note_gaps(rows)
        new = 0
        for event_id, student, at, text in rows:
            event = self._event(int(event_id), str(student), at, text)
            if event is None:
                continue
            log = self.students.setdefault(event.student, StudentLog())
            log.count += 1
            key = event.entry.get("lesson_key")
            if isinstance(key, str):
                first = log.spans.get(key, (event.at, event.at))[0]
                log.spans[key] = (min(first, event.at), event.at)
            if self.counter is not None:
                self.counter(event)
            if not self.keep:
                apply_entry(log.state, event.entry)  # one reading, in id order
                new += 1
                continue
            log.events.append(event)
            if event_id < self.last_id:  # a late commit: keep the log in id order
                log.events.sort(key=lambda e: e.id)
                log.state = {"version": STATE_VERSION, "lessons": {}}
                for e in log.events:
                    apply_entry(log.state, e.entry)
            else:
                apply_entry(log.state, event.entry)
            new += 1
        if rows:
            self.last_id = max(self.last_id, max(int(r[0]) for r in rows))
        self.count += new
        return new

    def events_of(self, student: str) -> list[Event]:
        """One student's events, read from the database now (a log that keeps no events
        still shows a history)."""
        rows = self.backend.run(
            "SELECT id, student, at, entry FROM events WHERE student = ? ORDER BY id", (student,)
        )
        found = (self._event(int(i), str(s), at, text) for i, s, at, text in rows)
        return [e for e in found if e is not None]

    def _note_gaps(self, rows: list[tuple[Any, ...]]) -> None:
        now = time.monotonic()
        for r in rows:
            self._gaps.pop(int(r[0]), None)
        ids = sorted(int(r[0]) for r in rows if int(r[0]) > self.last_id)
        previous = self.last_id
        for event_id in ids:
            for missing in range(previous + 1, min(event_id, previous + 1 + MAX_GAPS)):
                self._gaps.setdefault(missing, now)
            previous = event_id
        for old in [k for k, t in self._gaps.items() if now - t > GAP_SECONDS]:
            del self._gaps[old]

    def _event(self, event_id: int, student: str, at: Any, text: Any) -> Event | None:
        when = _utc(at)
        if when is None:
            self._warn(f"event {event_id} of {student} has no time the views can read; left out")
            return None
        if self.since is not None and when < self.since:
            return None
        try:
            entry, why = read_event(str(text))
        except (ValueError, TypeError, RecursionError):
            entry, why = None, "not valid JSON"
        if why is not None:
            self._warn(f"event {event_id} of {student} in the class database was left out ({why}).")
            return None
        assert entry is not None
        return Event(event_id, visible(student), when, entry)

    def _warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 100:
            self.warnings.append(message)


def _reject(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number")


#: an exponent large enough to overflow a float to infinity (1e999)
_BIG_EXPONENT = re.compile(r"[eE][+-]?\d{3}")


def read_event(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """One stored event, parsed and checked as a student's own store checks it (its text
    made visible, its shape checked); and what is wrong with it, if anything. Quicker than
    checking piece by piece where the text itself shows there is nothing to find: no
    character a terminal would act on and no escape that could make one, no NaN or
    Infinity (refused while parsing), no exponent that overflows."""
    entry = json.loads(text, parse_constant=_reject)
    plain = text.isascii() and "\\" not in text and "\x7f" not in text  # JSON has no raw C0
    if not plain and ("\\" in text or UNSAFE_RE.search(text)):
        entry = visible_data(entry)  # text shown, never acted on
    why = log_problem(entry, walk=_BIG_EXPONENT.search(text) is not None)
    return (entry, None) if why is None else (None, why)


def _utc(text: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None
