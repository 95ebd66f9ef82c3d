"""What the class database keeps beside the attempt log so that the instructor's views need
not read every event again: counted once, when the answer is committed, in the same
transaction (:meth:`tutor.classroom.store.ClassProgress.record`).

- ``summaries``: per student, the id of the last event counted, how many rows were read,
  how many events were kept, the entry of the latest one and why any was left out.
- ``entries``: per student and progress entry, the entry's state as
  :func:`tutor.progress.store.apply_entry` builds it (NULL once reset), its first and last
  event's time, where the student is in it, and its gradebook row
  (:func:`tutor.progress.report.lesson_rows` and the steps right at the first try) with
  the lesson plan it was counted against: a reader whose plan differs counts it again.
- ``event_facts``: the question statistics' fields of each event (lesson, step, kind,
  verdict, named mistake, typed answer, a finished step's seconds), for ``GROUP BY``
  queries (a ``--student`` report, the medians);
- ``step_stats`` and ``step_words``: the whole class's question statistics per step,
  added to with each event.

A summary whose counts do not match the events table (an event written by hand) is not
used: that student's events are read again (:meth:`ClassLog.from_summaries`). Every figure
is counted from the event as the views read it back (:func:`parse_row`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tutor.classroom.activity import Event, Place, StudentLog, parse_row
from tutor.classroom.backends import Backend, Run
from tutor.classroom.lessonsteps import LessonSteps
from tutor.progress.records import RIGHT
from tutor.progress.report import lesson_rows

#: the events whose step may be closed (its time is then the step's whole time)
FINISHED = ("correct", "carried", "revealed", "failed")

FACT_COLUMNS = "id, student, kind, lesson, lesson_key, step, correct, diagnosis, typed, seconds"


def facts(event: Event, student: str) -> tuple[Any, ...]:
    """The event's row of ``event_facts`` (``student``: as the events table has it)."""
    entry = event.entry
    record = entry.get("record", {})
    record = record if isinstance(record, dict) else {}
    status = record.get("status")
    diagnosis = entry.get("diagnosis")
    typed = entry.get("input")
    seconds = record.get("seconds")
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
        float(seconds) if finished and seconds is not None else None,
    )


def plan_mark(opened: Any) -> str:
    """What a gradebook row was counted against (the asked steps and the credit)."""
    asked, credit = opened
    return hashlib.blake2b(repr((asked, credit)).encode(), digest_size=12).hexdigest()


def entry_figures(key: str, entry: Any, steps: LessonSteps | None) -> dict[str, Any] | None:
    """An entry's gradebook row and first tries, or None where they cannot be counted
    here (no lesson steps, a lesson that cannot be opened)."""
    from tutor.classroom.figures import first_tries

    if steps is None or not isinstance(entry, dict):
        return None
    rows = lesson_rows(_One(key, entry), asked_steps=steps.asked)
    if not rows:
        return None
    row = rows[0]
    only = entry.get("asked")
    opened = steps.asked(row["lesson"], row["seed"], only)
    if opened is None:
        return None
    return {
        "plan": [row["lesson"], row["seed"], only, plan_mark(opened)],
        "row": row,
        "first_try": first_tries(entry, opened[0]),
    }


class _One:
    def __init__(self, key: str, entry: dict[str, Any]):
        self._lessons = {key: entry}

    def lessons(self) -> dict[str, Any]:
        return self._lessons


class Summary:
    """One student's summary, read (and, on PostgreSQL, locked) in a transaction, its
    entries read as events need them, and written back by :meth:`save`."""

    def __init__(
        self,
        run: Run,
        dialect: str,
        student: str,
        steps: LessonSteps | None,
        backend: Backend | None = None,
        coming: dict[str, Any] | None = None,
    ):
        """``coming``: the event about to be written, whose entry and step are read with
        the summary (through ``backend``, in one round trip)."""
        self.run = run
        self.backend = backend
        self.student = student
        self.steps = steps
        lock = " FOR UPDATE" if dialect == "postgresql" else ""
        reads: list[tuple[str, tuple[Any, ...]]] = [
            (
                f"SELECT last_id, events_read, data FROM summaries WHERE student = ?{lock}",
                (student,),
            )
        ]
        key = coming.get("lesson_key") if coming is not None else None
        step = str(coming.get("step")) if coming is not None else None
        if isinstance(key, str) and key != "*":
            reads.append(_ENTRY_READ(student, key))
            reads.append(_ANSWERED_READ(student, str(step)))
        results = self._reads(reads)
        found = results[0]
        #: (entry, step) answers before: (lesson_key, lesson) of the student's answers
        self.before: dict[str, set[tuple[Any, ...]]] = {}
        self.entries: dict[str, list[Any]] = {}
        if len(results) == 3 and isinstance(key, str) and step is not None:
            self.entries[key] = _entry_row(results[1])
            self.before[step] = set(results[2])
        self.last_id, self.read, self.count = 0, 0, 0
        self.last_key: str | None = None
        self.left_out: list[str] = []
        self.fresh = not found
        #: a summary that cannot be read (edited by hand) is left as it is: the views see
        #: that it does not count every event and read them instead
        self.broken = False
        if found:
            last_id, read, data = found[0]
            try:
                info = json.loads(data)
                self.count, self.last_key = int(info["count"]), info["last_key"]
                self.left_out = [str(w) for w in info["left_out"]]
                self.last_id, self.read = int(last_id), int(read)
            except (ValueError, KeyError, TypeError):
                self.broken = True
        #: key → [state or None, span or None, place or None]; read when first touched
        self.changed: set[str] = set()
        #: the class's figures of a step are kept in SHARDS rows, each added to by some of
        #: the students: writers answering the same step at once seldom wait for one row
        self.shard = shard_of(student)
        self.pending: list[tuple[str, tuple[Any, ...]]] = []  # the question statistics
        self.answered: set[tuple[str, str]] = set()  # (entry, step) answered in this batch
        self.answered_lessons: set[tuple[str, str]] = set()  # (lesson, step) likewise

    def _reads(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[list[Any]]:
        if self.backend is not None:
            return self.backend.batch(statements)
        return [self.run(sql, params) for sql, params in statements]

    def _entry(self, key: str) -> list[Any]:
        if key not in self.entries:
            self.entries[key] = _entry_row(self.run(*_ENTRY_READ(self.student, key)))
        return self.entries[key]

    def add_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Count the student's events ``rows`` (id, at, entry; in id order, newer than
        the summary)."""
        for event_id, at, text in rows:
            event, why = parse_row(int(event_id), self.student, at, text)
            self.read += 1
            self.last_id = max(self.last_id, int(event_id))
            if event is None:
                if why and why not in self.left_out and len(self.left_out) < 100:
                    self.left_out.append(why)
                continue
            self.add(event)

    def add(self, event: Event) -> None:
        """One event, as :meth:`StudentLog.add` counts it, and its question statistics."""
        self.count += 1
        key = event.entry.get("lesson_key")
        if isinstance(key, str):
            if event.kind == "reset":
                keys = self._all_keys() if key == "*" else [key]
            else:
                keys = [key]
            log = StudentLog()
            for k in keys:
                state, span, place = self._entry(k)
                if state is not None:
                    log.lessons()[k] = state
                if span is not None:
                    log.spans[k] = (_time(span[0]), _time(span[1]))
                if place is not None:
                    log.places[k] = Place(place[0], _time(place[1]), place[2])
            log.last_key = self.last_key
            log.add(event)
            self.last_key = log.last_key
            for k in keys:
                first_last = log.spans.get(k)
                place_k = log.places.get(k)
                was = self.entries[k][2]
                # born: the event that made the entry, which orders the entries as the
                # state the events replay to orders them
                born = was[3] if was is not None and len(was) > 3 else event.id
                self.entries[k] = [
                    log.lessons().get(k),
                    [first_last[0].isoformat(), first_last[1].isoformat()] if first_last else None,
                    [place_k.current, place_k.since.isoformat(), place_k.mistake, born]
                    if place_k
                    else None,
                ]
                self.changed.add(k)
        self._count_question(event)

    def _all_keys(self) -> list[str]:
        known = {
            str(k)
            for (k,) in self.run("SELECT entry_key FROM entries WHERE student = ?", (self.student,))
        }
        return sorted(known | set(self.entries))

    def _count_question(self, event: Event) -> None:
        """The event's facts, and the class's figures of its step."""
        run = self.run
        later = self.pending.append  # written by save(), once every event is counted
        row = facts(event, self.student)
        _, _, kind, lesson, key, step, correct, diagnosis, typed, _ = row
        answer = kind == "answer"
        new_learner = new_student = False
        if answer:
            if step not in self.before:
                self.before[step] = set(run(*_ANSWERED_READ(self.student, step)))
            before = self.before[step]
            new_learner = (key, step) not in self.answered and not any(k == key for k, _ in before)
            new_student = (
                new_learner
                and (lesson, step) not in self.answered_lessons
                and not any(x == lesson for _, x in before)
            )
            self.answered.add((key, step))
            self.answered_lessons.add((lesson, step))
            before.add((key, lesson))
        later(
            (
                f"INSERT INTO event_facts ({FACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                row,
            )
        )
        later(
            (
                "INSERT INTO step_stats (lesson, step, first_id, attempts, reveals, learners,"
                " students, first_right, timed, shard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (lesson, step, shard) DO UPDATE SET"
                " first_id = least_id, attempts = step_stats.attempts + excluded.attempts,"
                " reveals = step_stats.reveals + excluded.reveals,"
                " learners = step_stats.learners + excluded.learners,"
                " students = step_stats.students + excluded.students,"
                " first_right = step_stats.first_right + excluded.first_right,"
                " timed = step_stats.timed + excluded.timed".replace(
                    "least_id",
                    "CASE WHEN excluded.first_id < step_stats.first_id THEN excluded.first_id"
                    " ELSE step_stats.first_id END",
                ),
                (
                    lesson,
                    step,
                    event.id,
                    int(answer),
                    int(kind == "reveal"),
                    int(new_learner),
                    int(new_student),
                    int(new_learner and bool(correct)),
                    int(row[-1] is not None),
                    self.shard,
                ),
            )
        )
        if answer and not correct and (diagnosis is not None or typed is not None):
            later(
                (
                    "INSERT INTO step_words (lesson, step, what, said, n, first_id, shard)"
                    " VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (lesson, step, what, said, shard)"
                    " DO UPDATE SET n = step_words.n + 1, first_id = CASE WHEN excluded.first_id"
                    " < step_words.first_id THEN excluded.first_id ELSE step_words.first_id END",
                    (
                        lesson,
                        step,
                        "mistake" if diagnosis is not None else "typed",
                        diagnosis if diagnosis is not None else typed,
                        event.id,
                        self.shard,
                    ),
                )
            )

    def save(self) -> None:
        """Write the summary and the entries its events changed."""
        writes = self.pending
        self.pending = []
        for key in sorted(self.changed):
            state, span, place = self.entries[key]
            figures = entry_figures(key, state, self.steps)
            writes.append(
                (
                    "INSERT INTO entries (student, entry_key, state, span, place, figures)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (student, entry_key) DO UPDATE SET"
                    " state = excluded.state, span = excluded.span,"
                    " place = excluded.place, figures = excluded.figures",
                    (self.student, key, *(_dump(v) for v in (state, span, place, figures))),
                )
            )
        self.changed.clear()
        data = _dump({"count": self.count, "last_key": self.last_key, "left_out": self.left_out})
        writes.append(
            (
                "INSERT INTO summaries (student, last_id, events_read, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (student) DO UPDATE SET last_id = excluded.last_id,"
                " events_read = excluded.events_read, data = excluded.data",
                (self.student, self.last_id, self.read, data),
            )
        )
        self._reads(writes)

    def bring_up_to_date(
        self, written: tuple[Any, ...] | None = None, known: int | None = None
    ) -> list[tuple[Any, ...]]:
        """Count the student's events the summary has not, and store it; those events'
        rows (id, at, entry). ``written``: the row just written by a store whose own state
        has every event up to ``known``: if the summary has them too, that row is the only
        new one (every writer of this student waits for the summary's lock), else they
        are read."""
        if self.broken:
            return []
        if written is not None and known == self.last_id:
            newer = [written]
        else:
            newer = self.run(
                "SELECT id, at, entry FROM events WHERE student = ? AND id > ? ORDER BY id",
                (self.student, self.last_id),
            )
        try:
            self.add_rows(newer)
        except (ValueError, KeyError, TypeError, IndexError):
            return newer  # an entry edited by hand: left as it is, so the views read events
        self.save()
        return newer


#: how many rows keep the class's figures of one step (see :attr:`Summary.shard`)
SHARDS = 64


def shard_of(student: str) -> int:
    digest = hashlib.blake2b(student.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % SHARDS


def _ENTRY_READ(student: str, key: str) -> tuple[str, tuple[Any, ...]]:  # noqa: N802
    return (
        "SELECT state, span, place FROM entries WHERE student = ? AND entry_key = ?",
        (student, key),
    )


def _ANSWERED_READ(student: str, step: str) -> tuple[str, tuple[Any, ...]]:  # noqa: N802
    return (
        "SELECT lesson_key, lesson FROM event_facts WHERE student = ? AND step = ?"
        " AND kind = 'answer'",
        (student, step),
    )


def _entry_row(rows: list[Any]) -> list[Any]:
    if not rows:
        return [None, None, None]
    return [json.loads(c) if c is not None else None for c in rows[0]]


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=False)


def _time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def fill(run: Run, dialect: str, steps: LessonSteps | None = None) -> None:
    """Summarise every student's events already in the database (the migration that adds
    the summaries runs this once; it reads each event once)."""
    students = [str(s) for (s,) in run("SELECT DISTINCT student FROM events", ())]
    for student in students:
        Summary(run, dialect, student, steps).bring_up_to_date()
