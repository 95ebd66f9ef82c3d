"""What the class database keeps beside the attempt log so that the instructor's views need
not read every event again: counted once, when the answer is committed, in the same
transaction (:meth:`tutor.classroom.store.ClassProgress.record`).

- **A summary per student** (``summaries``): the :class:`StudentLog` their events replay to
  (the state :func:`tutor.progress.store.apply_entry` builds, each entry's first and last
  time, where the student is), with the id of the last event it counts and how many rows it
  has read. A summary whose figures do not match the events table (an event written by hand,
  a summary made by an older tutor) is not used: that student's events are read again.
- **The question statistics' fields of each event** (``event_facts``): lesson, step, kind,
  verdict, named mistake, typed answer and a finished step's seconds, so that the statistics
  are ``GROUP BY`` queries, on SQLite and PostgreSQL alike.

Both are counted from the event as the views read it back (:func:`parse_row`): the same
shape checks, the same text made visible.
"""

from __future__ import annotations

import json
from typing import Any

from tutor.classroom.activity import Event, StudentLog, parse_row
from tutor.classroom.backends import Run
from tutor.progress.records import RIGHT

#: the events whose step may be closed (its time is then the step's whole time)
FINISHED = ("correct", "carried", "revealed", "failed")

FACT_COLUMNS = "id, student, kind, lesson, lesson_key, step, correct, diagnosis, typed, seconds"
_INSERT_FACT = (
    f"INSERT INTO event_facts ({FACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)


def facts(event: Event, student: str) -> tuple[Any, ...]:
    """The event's row of ``event_facts`` (``student``: as the events table has it)."""
    entry = event.entry
    record = entry.get("record", {})
    status = record.get("status") if isinstance(record, dict) else None
    diagnosis = entry.get("diagnosis")
    typed = entry.get("input")
    seconds = record.get("seconds") if isinstance(record, dict) else None
    finished = (
        event.kind in ("answer", "reveal")
        and status in FINISHED
        and isinstance(seconds, (int, float))
    )
    return (
        event.id,
        student,
        event.kind,
        event.lesson,
        str(entry.get("lesson_key")),
        str(entry.get("step")),
        int(entry.get("verdict") in RIGHT),
        str(diagnosis) if diagnosis else None,
        str(typed).strip() if typed else None,
        float(seconds) if finished else None,  # type: ignore[arg-type]
    )


class Summary:
    """One student's summary row, read (and, on PostgreSQL, locked) in a transaction."""

    def __init__(
        self, student: str, last_id: int = 0, rows: int = 0, log: StudentLog | None = None
    ):
        self.student = student
        self.last_id = last_id
        self.rows = rows
        self.log = log or StudentLog()
        self.left_out: list[str] = []

    def add_rows(self, run: Run, rows: list[tuple[Any, ...]]) -> None:
        """Count the student's events ``rows`` (id, at, entry; in id order, newer than
        the summary) and keep their facts."""
        for event_id, at, text in rows:
            event, why = parse_row(int(event_id), self.student, at, text)
            self.rows += 1
            self.last_id = max(self.last_id, int(event_id))
            if event is None:
                if why and why not in self.log.left_out:
                    self.log.left_out.append(why)
                continue
            self.log.add(event)
            run(_INSERT_FACT, facts(event, self.student))


def load_for_update(run: Run, dialect: str, student: str) -> Summary:
    """The student's summary, locked until the transaction ends (PostgreSQL: another writer
    of this student waits, so their events' ids are drawn in the order they are counted;
    SQLite's writers take turns anyway). A missing or unreadable one starts from nothing."""
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    found = run(
        f"SELECT last_id, events_read, data FROM summaries WHERE student = ?{lock}", (student,)
    )
    if found:
        last_id, events_read, data = found[0]
        try:
            return Summary(
                student, int(last_id), int(events_read), StudentLog.from_json(json.loads(data))
            )
        except (ValueError, KeyError, TypeError):
            run("DELETE FROM event_facts WHERE student = ?", (student,))  # counted again
    return Summary(student)


def bring_up_to_date(run: Run, summary: Summary) -> None:
    """Count the student's events the summary has not (the one just written, and any a
    summary could not follow) and store it."""
    newer = run(
        "SELECT id, at, entry FROM events WHERE student = ? AND id > ? ORDER BY id",
        (summary.student, summary.last_id),
    )
    summary.add_rows(run, newer)
    data = json.dumps(summary.log.as_json(), ensure_ascii=False, allow_nan=False)
    run(
        "INSERT INTO summaries (student, last_id, events_read, data) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (student) DO UPDATE SET last_id = excluded.last_id,"
        " events_read = excluded.events_read, data = excluded.data",
        (summary.student, summary.last_id, summary.rows, data),
    )


def fill(run: Run, dialect: str) -> None:
    """Summarise every student's events already in the database (the migration that adds
    the summaries runs this once; it reads each event once)."""
    students = [str(s) for (s,) in run("SELECT DISTINCT student FROM events", ())]
    for student in students:
        summary = load_for_update(run, dialect, student)
        bring_up_to_date(run, summary)
