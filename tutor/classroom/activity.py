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


@dataclass(frozen=True)
class Place:
    """Where a student is in one progress entry."""

    current: str | None  # the step the session asks
    since: datetime  # when it became that step
    mistake: str | None  # the last mistake named in the entry


@dataclass
class StudentLog:
    """One student's events in order and the state they replay to."""

    events: list[Event] = field(default_factory=list)  # kept only if the log keeps them
    state: dict[str, Any] = field(default_factory=lambda: {"version": STATE_VERSION, "lessons": {}})
    count: int = 0  # events read, kept or not
    #: progress key → the times of its first and last event
    spans: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    #: progress key → where the student is in it (the dashboard's seat)
    places: dict[str, Place] = field(default_factory=dict)
    last_key: str | None = None  # the entry of their latest event (reset or not)
    left_out: list[str] = field(default_factory=list)  # why events were left out
    #: progress key → its gradebook row as counted when written (a report's summaries);
    #: None where the state is read instead
    figures: dict[str, Any] | None = None
    #: progress key → the id of the event that made it (orders the kept entries)
    order: dict[str, int] = field(default_factory=dict)

    #: progress key → its state as the summary keeps it (JSON), parsed when first asked for
    #: (the dashboard's first read needs few of them)
    raw: dict[str, str] = field(default_factory=dict)

    def lessons(self) -> dict[str, Any]:
        """Progress key → that lesson's state (what :func:`lesson_rows` counts)."""
        lessons: dict[str, Any] = self.state.setdefault("lessons", {})
        if self.raw:
            for key in list(self.raw):
                self.entry(key)
        return lessons

    def entry(self, key: str) -> Any:
        """One entry's state (None if there is none), parsing only that one."""
        lessons: dict[str, Any] = self.state.setdefault("lessons", {})
        text = self.raw.pop(key, None)
        if text is not None:
            parsed = json.loads(text)
            # in the order the entries were made, as the replayed state has them
            later = {
                k: lessons.pop(k)
                for k in list(lessons)
                if self.order.get(k, 0) > self.order.get(key, 0)
            }
            lessons[key] = parsed
            lessons.update(later)
        return lessons.get(key)

    def mentioning(self, text: str) -> list[str]:
        """The entries whose kept state has ``text`` in it, in order (and those parsed)."""
        keys = [k for k in self.state.get("lessons", {})] + [
            k for k, raw in self.raw.items() if text in raw
        ]
        return sorted(keys, key=lambda k: self.order.get(k, 0))

    def add(self, event: Event) -> None:
        """Count one event, in id order: its entry's span and place, and the state."""
        self.count += 1
        key = event.entry.get("lesson_key")
        if key == "*" and event.kind == "reset":
            self.raw.clear()
        elif isinstance(key, str):
            self.entry(key)  # parsed before the event changes it
        if isinstance(key, str):
            first = self.spans.get(key, (event.at, event.at))[0]
            self.spans[key] = (min(first, event.at), event.at)
            self._track(event, key)
        lessons = self.state.setdefault("lessons", {})
        made = isinstance(key, str) and key not in lessons
        apply_entry(self.state, event.entry)
        if made and key in lessons:
            self.order[str(key)] = event.id  # made now: after every entry there is

    def _track(self, event: Event, key: str) -> None:
        """Follow where the student is: the entry of their latest event, and in each entry
        the step the session asks, since when, and the last mistake named."""
        if event.kind == "reset":
            if key == "*":
                self.places.clear()
            else:
                self.places.pop(key, None)
            return
        self.last_key = key
        current = event.entry.get("current")
        was = self.places.get(key)
        diagnosis = event.entry.get("diagnosis")
        self.places[key] = Place(
            current if isinstance(current, str) else None,
            event.at if was is None or was.current != current else was.since,
            str(diagnosis) if diagnosis else (was.mistake if was else None),
        )


def _utc_or_fail(text: Any) -> datetime:
    when = _utc(text)
    if when is None:
        raise ValueError(f"not a time: {text!r}")
    return when


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
        #: read from the summaries, each of which counted all of its student's events
        self.complete = False

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
            if self.counter is not None:
                self.counter(event)
            if not self.keep:
                log.add(event)  # one reading, in id order
                new += 1
                continue
            log.events.append(event)
            if event_id < self.last_id:  # a late commit: keep the log in id order
                log.events.sort(key=lambda e: e.id)
                kept = log.events
                log = self.students[event.student] = StudentLog(events=kept)
                for e in kept:
                    log.add(e)
            else:
                log.add(event)
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
        event, why = parse_row(event_id, student, at, text, self.since)
        if why is not None:
            self._warn(why)
        return event

    def from_summaries(self, states: bool = True) -> None:
        """Begin from the summaries the class database keeps (counted as each answer was
        committed, :mod:`tutor.classroom.summaries`) instead of every event: a student's
        events are read only where their summary does not count them all. Then
        :meth:`follow` goes on from the newest event. ``states=False``: each entry's
        gradebook row (``StudentLog.figures``) instead of its state, for the report (the
        dashboard parses an entry's state when it first needs it). For a
        log with no ``since`` that keeps no events and has read nothing yet."""
        assert self.since is None and not self.keep and self.last_id == 0
        run = self.backend.run
        heads: dict[str, tuple[int, int, dict[str, Any]]] = {}
        for student, last_id, read, data in run(
            "SELECT student, last_id, events_read, data FROM summaries", ()
        ):
            try:
                heads[str(student)] = (int(last_id), int(read), json.loads(data))
            except (ValueError, TypeError):
                continue  # read from the events
        parts: dict[str, list[tuple[Any, ...]]] = {}
        column = "state" if states else "state IS NULL, figures"
        for student, *row in run(
            f"SELECT student, entry_key, span, place, {column} FROM entries", ()
        ):
            parts.setdefault(str(student), []).append(tuple(row))
        complete, top = True, 0
        students: dict[str, StudentLog] = {}
        for student, n, newest in run(
            "SELECT student, count(*), max(id) FROM events GROUP BY student", ()
        ):
            student, n, newest = str(student), int(n), int(newest)
            top = max(top, newest)
            head = heads.get(student)
            log = None
            if head is not None and head[:2] == (newest, n):
                try:
                    log = _from_rows(head[2], parts.get(student, []), states)
                except (ValueError, KeyError, TypeError, IndexError):
                    log = None
            if log is None:  # events the summary does not count: read them
                complete = False
                log = self._read_student(student)
            for why in log.left_out:
                self._warn(why)
            if log.count:
                students[visible(student)] = log
        self._gaps_before(top)
        # all read: taken at once (a database that failed half way leaves the log as it was)
        self.students = students
        self.count = sum(log.count for log in students.values())
        self.last_id = top
        self.complete = complete

    def _read_student(self, student: str) -> StudentLog:
        log = StudentLog()
        for event_id, name, at, text in self.backend.run(
            "SELECT id, student, at, entry FROM events WHERE student = ? ORDER BY id", (student,)
        ):
            event = self._event(int(event_id), str(name), at, text)
            if event is not None:
                log.add(event)
        return log

    def states_of(self, student: str) -> dict[str, Any]:
        """A student's entries' states as their summary keeps them (a report read only
        their gradebook rows)."""
        rows = self.backend.run(
            "SELECT entry_key, state FROM entries WHERE student = ? AND state IS NOT NULL",
            (student,),
        )
        return {str(k): json.loads(v) for k, v in rows}

    def _gaps_before(self, top: int) -> None:
        """Ids just below the newest that are not there yet may be transactions still
        under way (PostgreSQL): asked for again, as :meth:`follow` does."""
        present = {
            int(i)
            for (i,) in self.backend.run("SELECT id FROM events WHERE id > ?", (top - MAX_GAPS,))
        }
        now = time.monotonic()
        for missing in range(max(1, top - MAX_GAPS + 1), top):
            if missing not in present:
                self._gaps.setdefault(missing, now)

    def _warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 100:
            self.warnings.append(message)


def _from_rows(head: dict[str, Any], rows: list[tuple[Any, ...]], states: bool) -> StudentLog:
    """A student's log from their summary and entries (see :meth:`ClassLog.from_summaries`)."""
    log = StudentLog(
        count=int(head["count"]),
        last_key=head["last_key"],
        left_out=[str(w) for w in head["left_out"]],
    )
    if not states:
        log.figures = {}
    for key, span, place, *value in rows:
        if span is not None:
            first, last = json.loads(span)
            log.spans[key] = (_utc_or_fail(first), _utc_or_fail(last))
        if place is not None:
            current, since, mistake, *born = json.loads(place)
            log.places[key] = Place(current, _utc_or_fail(since), mistake)
            log.order[key] = int(born[0]) if born else 0
        if states:
            if value[0] is not None:
                log.raw[key] = str(value[0])
        elif not value[0]:  # an entry not reset
            if value[1] is None:
                log.figures = None  # not counted when written: the report reads the states
            elif log.figures is not None:
                log.figures[key] = json.loads(value[1])
    return log


def parse_row(
    event_id: int, student: str, at: Any, text: Any, since: datetime | None = None
) -> tuple[Event | None, str | None]:
    """One row of the events table as the views read it: the event, or None with why it
    is left out (None and None: before ``since``)."""
    when = _utc(at)
    if when is None:
        return None, f"event {event_id} of {student} has no time the views can read; left out"
    if since is not None and when < since:
        return None, None
    try:
        entry, why = read_event(str(text))
    except (ValueError, TypeError, RecursionError):
        entry, why = None, "not valid JSON"
    if why is not None:
        return None, f"event {event_id} of {student} in the class database was left out ({why})."
    assert entry is not None
    return Event(event_id, visible(student), when, entry), None


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
